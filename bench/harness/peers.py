"""The runs a benchmark compares: memtrain's pool stage and wikiextractor, on the same dump.

Both run as fresh, measured processes; their texts are read back to count words and the markup
left in them (`residue`).
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from typing import Any

from bench.harness.measure import Run, SplitRun, child_env, child_result, measure, measure_split, module_child

RESIDUE_MARKERS = ("{{", "}}", "[[", "]]", "<ref", "&lt;", "thumb|", "File:")


def residue(texts: list[str]) -> dict[str, int]:
    return {marker: sum(text.count(marker) for text in texts) for marker in RESIDUE_MARKERS}


def article_count(dump: Path) -> int:
    """Pages in the main namespace that are not redirects (what both extractors are given to clean)."""
    from bench.harness.dumps import read_dump

    pages = read_dump(dump).pages
    return sum(1 for page in pages if "<ns>0</ns>" in page and "<redirect" not in page)


def run_pool_stage(
    dump: Path, output: Path, workers: int, pages_per_task: int | None = None, index: Path | None = None
) -> tuple[SplitRun, dict[str, Any]]:
    """Only memtrain's pool stage, in a fresh process (`bench.harness.pool_stage`): the run and its RESULT."""
    shutil.rmtree(output, ignore_errors=True)
    args = ["--dump", str(dump), "--output", str(output), "--workers", str(workers), "--dump-index", str(index or "")]
    if pages_per_task:
        args += ["--pages-per-task", str(pages_per_task)]
    command, env = module_child("bench.harness.pool_stage", *args)
    run = measure_split(command, env=env)
    return run, child_result(run.output)


def pool_texts(output: Path) -> list[str]:
    import pyarrow.parquet as pq

    texts: list[str] = []
    for shard in sorted((output / "pool").glob("passages-*.parquet")):
        texts.extend(pq.read_table(shard, columns=["text"]).column("text").to_pylist())
    return texts


_DOC_TAG = re.compile(r"</?doc[^>]*>")


def run_wikiextractor(dump: Path, output: Path, processes: int = 2) -> tuple[Run, list[str]]:
    shutil.rmtree(output, ignore_errors=True)
    command = [sys.executable, "-m", "wikiextractor.WikiExtractor", str(dump), "-o", str(output), "--processes", str(processes)]
    run = measure(command, env=child_env())
    texts = []
    for path in sorted(output.rglob("wiki_*")):
        for document in path.read_text(encoding="utf-8").split("</doc>"):
            body = _DOC_TAG.sub("", document).strip()
            if body:
                # The first line of a wikiextractor document is its title, not text.
                texts.append(body.split("\n", 1)[1] if "\n" in body else "")
    return run, texts
