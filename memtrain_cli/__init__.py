"""The `memtrain` command line: a thin typer app over `memtrain_data`."""
