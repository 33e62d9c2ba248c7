"""Reader steps: MediaWiki XML dumps (`mediawiki.py`) and wikimedia/wikipedia parquet
(`wikipedia_parquet.py`); `sources.py` resolves `--dump` arguments into their input units."""
