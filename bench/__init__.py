"""memtrain benchmarks: scripts run as modules from the repository root, never in `make test`.

    python -m bench.run            speed and memory of build-dataset vs the tools it replaces
    python -m bench.scale          10x / 100x dumps end to end, retrieval engines, enwiki projection
    python -m bench.judge_sweep    build then validate, over dump halves, presets and seeds
    python -m bench.output_digests sha256 of what the commands write (byte-identical refactors)
    python -m bench.passage_sizes  passage settings -> paper document lengths

What the scripts share (measuring child processes, the pool stage and wikiextractor as peers,
result tables, generated dumps) lives in `bench.harness`.
"""
