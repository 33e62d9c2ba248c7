"""What the benchmark scripts share; each script in `bench/` only defines and runs its sections.

- `measure`: a child process's wall seconds and peak RSS (driver and descendants), the
  machine's facts and its two-process ceiling, and the task phase of a pool run from its logs.
- `peers`: the runs compared: memtrain's pool stage in a fresh process (`pool_stage`) and
  wikiextractor on the same dump, their texts and markup residue.
- `tables`: a result `Section`, printed with rich and rendered as Markdown.
- `dumps`: bigger or split dumps made from a small one (also used by the resume tests).
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DUMP = REPO_ROOT.parent / "shared" / "data" / "wikipedia" / "enwiki-2016-sample.xml.bz2"
