"""Writer steps: the passage pool's parquet shards (`pool.py`)."""
