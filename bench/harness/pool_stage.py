"""Only memtrain's pool stage, in a fresh process; prints `RESULT {"tasks": ..., "stats": ...}`.

    python -m bench.harness.pool_stage --dump PATH --output DIR [--dump-index PATH] [--workers N] [--pages-per-task N]

A module run with `-m` (not `python -c`) because datatrove's workers (forkserver) re-import the
main module: its imports stay light and the build sits behind the `__main__` guard.
`peers.run_pool_stage` starts and measures it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dump", required=True)
    parser.add_argument("--dump-index", default="")
    parser.add_argument("--output", required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pages-per-task", type=int, default=None)
    args = parser.parse_args(argv)

    from memtrain_data.build_config import BuildConfig
    from memtrain_data.pool import build_passage_pool

    config = BuildConfig(
        output=Path(args.output), dump=[args.dump], dump_index=args.dump_index or None, workers=args.workers
    )
    result = build_passage_pool(config, pages_per_task=args.pages_per_task)
    print("RESULT " + json.dumps({"tasks": result.tasks, "stats": result.stats}))


if __name__ == "__main__":
    main()
