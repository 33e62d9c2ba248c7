"""The passage-pool pipeline, as datatrove steps.

A pool build runs `readers/` (MediaWiki XML dumps or wikimedia/wikipedia parquet) →
`extractors/` (wikitext → plain text; dumps only) → `passages.py` (article → passages) →
`writers/` (pool parquet shards). `memtrain_data.pool` assembles the steps and runs them on
datatrove's executors; `readers/sources.py` turns `--dump` arguments into the input units
that fix the number of tasks.
"""
