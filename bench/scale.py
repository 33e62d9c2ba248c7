"""memtrain at scale: a realistic dump 100× and 300× the sample (both above the view's and the
index's buffer bounds), built end to end, and the retrieval engines compared on the same pool.

    .venv/bin/python -m bench.scale [--times 100 300] [--small-times 10] [--workdir bench/out] [--results FILE]

1. dumps: `bench.harness.dumps.write_repeated_plain` writes the sample's real pages `times` times
   with new page ids and titles, as one plain (single-stream) `.bz2` — the layout of
   Wikimedia's default `pages-articles.xml.bz2` (100×: 6,000 articles + 6,000 redirects).
2. for each size, a whole `memtrain build-dataset --preset mini --workers 2`: wall time per
   stage (from stats.json), peak RSS of the driver process and of its worker tree (sums of the
   children's RSS, polled every 20 ms), pool / view / index sizes on disk.
3. plain .bz2 extraction: the pool stage on the 10× dump (`--small-times`) vs wikiextractor, 2
   processes each.
4. `--workers 2` ÷ `--workers 1` for the pool stage on the 10× dump, next to the machine's own
   ratio on a pure CPU loop measured in the same run.
5. the BM25 index build on the largest pool, as the episode stage runs it (per-shard tasks on the
   local executor), with `--workers 1` and `2`: seconds per step, peak RSS, the index's digest
   (the same bytes with either), next to the machine's CPU-loop ratio.
6. retrieval engines on the largest pool: one bm25s index over the whole pool in memory (what
   memtrain did before), memtrain's sharded BM25, and tantivy (disk-based, fixed writer memory):
   build seconds, peak RSS, index size, query latency, and agreement with bm25s's top 29.
7. a projection to full English Wikipedia from the measured per-unit costs.

Generated dumps and builds stay under the work folder (default `bench/out/`, ignored by git).
This is a script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import DEFAULT_DUMP, REPO_ROOT
from bench.harness.measure import (
    SplitRun,
    child_env,
    child_result,
    machine_ceiling,
    machine_facts,
    measure_split,
    module_child,
    task_phase_seconds,
)
from bench.harness.peers import article_count, pool_texts, run_pool_stage, run_wikiextractor
from bench.harness.tables import Section, mib, print_section, render_markdown, verdict

WORKERS = 2
# Plain-bz2 ranges of 600 pages × 4 KiB = 2.4 MB of XML: the 10× dump (31 MB) gives 13 tasks, the
# 100× dump 127 tasks (enwiki with the default 50,000 pages per task: ~480 tasks).
BENCH_PAGES_PER_TASK = 600
QUERIES = 100
RELATED = 29

# Full English Wikipedia (2024–25 pages-articles dump), for the projection.
ENWIKI_ARTICLES = 6_900_000
ENWIKI_WORDS = 4.5e9
ENWIKI_VOCABULARY = 12_000_000  # distinct bm25s tokens: an assumption (Heaps' law on 4.5B words), not measured


def folder_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- dumps


def make_dump(src: Path, workdir: Path, times: int) -> Path:
    from bench.harness.dumps import write_repeated_plain

    path = workdir / f"enwiki-{times}x.xml.bz2"
    marker = path.with_name(path.name + ".done")
    if not (path.is_file() and marker.is_file()):
        write_repeated_plain(src, path, times)
        marker.write_text(f"{src.stat().st_size}\n")
    return path


# --------------------------------------------------------------------------- whole builds


def run_whole_build(dump: Path, output: Path) -> tuple[SplitRun, dict[str, Any]]:
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    config = output.parent / f"{output.name}.yaml"
    config.write_text(f"pages_per_task: {BENCH_PAGES_PER_TASK}\n")
    command = [str(Path(sys.executable).parent / "memtrain"), "build-dataset", "--dump", str(dump), "--output", str(output)]
    command += ["--preset", "mini", "--workers", str(WORKERS), "--config", str(config)]
    run = measure_split(command, env=child_env())
    return run, json.loads((output / "stats.json").read_text())


def section_builds(dumps: dict[int, Path], workdir: Path) -> tuple[Section, dict[int, dict[str, Any]]]:
    section = Section(
        f"S1. whole build (memtrain build-dataset --preset mini --workers {WORKERS}, plain .bz2, "
        f"pages_per_task {BENCH_PAGES_PER_TASK})",
        ["dump", "articles", "pool tasks", "pool passages", "wall s", "pool s", "index s", "episodes s",
         "peak RSS driver", "peak RSS workers", "peak RSS tree", "peak anon driver", "peak anon tree",
         "pool on disk", "view", "BM25 index"],
    )  # fmt: skip
    measured: dict[int, dict[str, Any]] = {}
    for times, dump in dumps.items():
        output = workdir / f"build-{times}x"
        run, stats = run_whole_build(dump, output)
        mini = stats["configs"]["mini"]
        pool = stats["pool"]
        entry = {
            "run": run,
            "stats": stats,
            "articles": pool["read"]["articles"],
            "passages": mini["pool_passages"],
            "pool_bytes": folder_bytes(output / "pool"),
            "view_bytes": folder_bytes(output / ".memtrain" / "index" / "passages.arrow"),
            "index_bytes": mini["index_bytes"],
            "pool_seconds": pool["seconds"],
            "index_seconds": mini["index_build_seconds"],
            "episodes_seconds": mini["build_seconds"],
            "task_seconds": task_phase_seconds(output),
            "words": pool["write"].get("words_written") or sum(len(t.split()) for t in pool_texts(output)),
        }
        measured[times] = entry
        section.rows.append(
            [f"{times}x", f"{entry['articles']:,}", str(pool["tasks"]), f"{entry['passages']:,}", f"{run.seconds:.1f}",
             f"{entry['pool_seconds']:.1f}", f"{entry['index_seconds']:.1f}", f"{entry['episodes_seconds']:.1f}",
             mib(run.driver_peak), mib(run.workers_peak), mib(run.tree_peak), mib(run.driver_anon_peak),
             mib(run.tree_anon_peak), mib(entry["pool_bytes"]),
             mib(entry["view_bytes"]), mib(entry["index_bytes"])]
        )  # fmt: skip
    small, large = min(measured), max(measured)
    for what, label in (("driver_peak", "RSS, driver"), ("tree_peak", "RSS, tree"),
                        ("driver_anon_peak", "anonymous, driver"), ("tree_anon_peak", "anonymous, tree")):
        ratio = getattr(measured[large]["run"], what) / getattr(measured[small]["run"], what)
        section.targets.append(
            f"peak {label} {large}x ÷ {small}x = {ratio:.2f} (target ≤ 1.15) {verdict(ratio <= 1.15)}"
        )
    section.notes.append(
        "episodes s is the episode stage after the pool (view, index, plan and the episode tasks); index s is "
        "the BM25 build alone. Peak RSS of the workers is the largest sum over the driver's descendants; "
        "anonymous = RSS less file-backed and shared pages (psutil rss − shared), i.e. without the memory-mapped "
        "view and index."
    )
    return section, measured


# --------------------------------------------------------------------------- extraction and scaling


def run_pool(dump: Path, output: Path, workers: int) -> tuple[SplitRun, dict[str, Any]]:
    return run_pool_stage(dump, output, workers, BENCH_PAGES_PER_TASK)


def section_extraction(dump: Path, times: int, workdir: Path, repeats: int) -> Section:
    section = Section(
        f"S2. plain .bz2 extraction, {times}x dump: memtrain pool stage vs wikiextractor ({WORKERS} processes each, "
        f"best of {repeats})",
        ["run", "tasks", "article pages", "seconds", "pages/s"],
    )
    pages = article_count(dump)
    memtrain_best = wx_best = float("inf")
    tasks = 0
    for _ in range(repeats):
        run, result = run_pool(dump, workdir / "extract-memtrain", WORKERS)
        memtrain_best, tasks = min(memtrain_best, run.seconds), result["tasks"]
        wx_run, _ = run_wikiextractor(dump, workdir / "extract-wikiextractor", WORKERS)
        wx_best = min(wx_best, wx_run.seconds)
    section.rows = [
        ["memtrain pool stage", str(tasks), f"{pages:,}", f"{memtrain_best:.2f}", f"{pages / memtrain_best:,.1f}"],
        ["wikiextractor", "-", f"{pages:,}", f"{wx_best:.2f}", f"{pages / wx_best:,.1f}"],
    ]
    ratio = wx_best / memtrain_best
    section.targets.append(f"memtrain pages/s ÷ wikiextractor pages/s = {ratio:.2f} (target ≥ 1.00) {verdict(ratio >= 1.0)}")
    return section


def section_scaling(dump: Path, times: int, workdir: Path, repeats: int) -> Section:
    section = Section(
        f"S3. pool stage on the {times}x plain .bz2, --workers 1 vs 2 (best of {repeats}), and the machine's CPU loop",
        ["run", "tasks", "seconds (process)", "seconds (task phase)"],
    )
    best: dict[int, tuple[float, float]] = {}
    tasks = 0
    for _ in range(repeats):
        for workers in (1, 2):
            output = workdir / f"scale-{workers}"
            run, result = run_pool(dump, output, workers)
            tasks = result["tasks"]
            phase = task_phase_seconds(output)
            if workers not in best or run.seconds < best[workers][0]:
                best[workers] = (run.seconds, phase)
    one, two = machine_ceiling(repeats + 1)
    for workers in (1, 2):
        section.rows.append([f"--workers {workers}", str(tasks), f"{best[workers][0]:.2f}", f"{best[workers][1]:.2f}"])
    section.rows.append(["CPU loop, 1 / 2 processes", "-", f"{one:.2f} / {two:.2f}", "-"])
    machine = one / two
    ratio = best[1][0] / best[2][0]
    phase_ratio = best[1][1] / best[2][1]
    section.targets.append(
        f"--workers 2 ÷ --workers 1 = {ratio:.2f}; machine CPU loop 2 ÷ 1 = {machine:.2f}; ratio ÷ machine = "
        f"{ratio / machine:.2f} (target ≥ 0.90) {verdict(ratio / machine >= 0.9)}"
    )
    section.notes.append(f"Task phase only (first task start to last task end): {phase_ratio:.2f}x.")
    return section


# --------------------------------------------------------------------------- BM25 index build, 1 vs 2 workers


def index_child(argv: list[str]) -> None:
    """`python -m bench.scale _index VIEW INDEX_DIR WORKERS`: memtrain's BM25 index build, as the episode stage
    runs it (its per-shard tasks on the local executor), timed per step; prints the index's digest."""
    import hashlib

    from memtrain_data.build_config import ExecutionSettings
    from memtrain_data.episodes.bm25_index import build_bm25_index
    from memtrain_data.episodes.build import index_task_runner
    from memtrain_data.episodes.passages import PassageView
    from memtrain_data.progress import NullProgress

    view_path, index_dir, workers = Path(argv[0]), Path(argv[1]), int(argv[2])
    shutil.rmtree(index_dir, ignore_errors=True)
    shutil.rmtree(index_dir.with_name(index_dir.name + ".building"), ignore_errors=True)
    runner = index_task_runner(ExecutionSettings(workers=workers), NullProgress())
    steps: dict[str, float] = {}

    def timed(step: str, task: Any, count: int, logs: Path) -> None:
        started = time.perf_counter()
        runner(step, task, count, logs)
        steps[step] = time.perf_counter() - started

    started = time.perf_counter()
    build_bm25_index(PassageView.open(view_path), index_dir, "bench", run_tasks=timed)
    seconds = time.perf_counter() - started
    digest = hashlib.sha256()
    for path in sorted(p for p in index_dir.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(index_dir)).encode() + b"\0" + path.read_bytes())
    shards = len(json.loads((index_dir / "bm25.json").read_text())["shards"])
    steps["merge and the rest"] = seconds - sum(steps.values())
    print("RESULT " + json.dumps({"seconds": seconds, "steps": steps, "digest": digest.hexdigest(), "shards": shards}))


def section_index(view: Path, passages: int, workdir: Path, repeats: int) -> tuple[Section, dict[str, Any]]:
    section = Section(
        f"S6. BM25 index build on the largest pool ({passages:,} passages), --workers 1 vs 2 (best of {repeats}), "
        "and the machine's CPU loop",
        ["workers", "shards", "seconds", "count s", "merge s", "weigh s", "peak RSS driver", "peak anon tree", "index digest"],
    )
    best: dict[int, dict[str, Any]] = {}
    for _ in range(repeats):
        for workers in (1, 2):
            command, env = module_child("bench.scale", "_index", str(view), str(workdir / f"index-{workers}"), str(workers))
            run = measure_split(command, env=env)
            result = {**child_result(run.output), "run": run}
            if workers not in best or result["seconds"] < best[workers]["seconds"]:
                best[workers] = result
    one, two = machine_ceiling(repeats + 1)
    for workers, result in best.items():
        steps = result["steps"]
        section.rows.append(
            [str(workers), str(result["shards"]), f"{result['seconds']:.1f}", f"{steps['count']:.1f}",
             f"{steps['merge and the rest']:.1f}", f"{steps['weigh']:.1f}", mib(result["run"].driver_peak),
             mib(result["run"].tree_anon_peak), result["digest"][:16]]
        )  # fmt: skip
    section.rows.append(["CPU loop, 1 / 2 processes", "-", f"{one:.2f} / {two:.2f}", "-", "-", "-", "-", "-", "-"])
    machine = one / two
    ratio = best[1]["seconds"] / best[2]["seconds"]
    section.targets.append(
        f"index build --workers 2 ÷ --workers 1 = {ratio:.2f}; machine CPU loop 2 ÷ 1 = {machine:.2f}; ratio ÷ machine "
        f"= {ratio / machine:.2f} (target ≥ 0.90) {verdict(ratio / machine >= 0.9)}"
    )
    same = best[1]["digest"] == best[2]["digest"]
    section.targets.append(f"index files of the 2-worker build identical to the 1-worker build's: {verdict(same)}")
    section.notes.append(
        "count and weigh are the per-shard task steps (a process per worker: its start-up and imports included); "
        "merge and the rest = the driver's vocabulary merge, disk check and folder moves."
    )
    return section, {"passages": passages, **{f"workers_{w}": r for w, r in best.items()}}


# --------------------------------------------------------------------------- retrieval engines


def engine_child(argv: list[str]) -> None:
    """`python -m bench.scale _engine build|query ENGINE VIEW INDEX_DIR [RESULT_JSON]` in a fresh process."""
    import numpy as np

    from memtrain_data.episodes.passages import PassageView

    action, engine, view_path, index_dir = argv[:4]
    view = PassageView.open(Path(view_path))
    directory = Path(index_dir)
    if action == "build":
        shutil.rmtree(directory, ignore_errors=True)
        started = time.perf_counter()
        if engine == "bm25s":
            import bm25s

            texts = view.texts()  # the whole pool in memory, as memtrain built it before the shards
            model = bm25s.BM25()
            model.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
            model.save(str(directory), show_progress=False)
        elif engine == "shards":
            from memtrain_data.episodes.retrieval import build_bm25_index

            build_bm25_index(view, directory, "bench")
        elif engine == "tantivy":
            import tantivy

            schema_builder = tantivy.SchemaBuilder()
            schema_builder.add_text_field("text", stored=False, tokenizer_name="default")
            schema_builder.add_integer_field("row", stored=True, indexed=False, fast=True)
            directory.mkdir(parents=True)
            index = tantivy.Index(schema_builder.build(), path=str(directory))
            writer = index.writer(heap_size=128_000_000, num_threads=1)
            row = 0
            for batch in view.text_batches():
                for text in batch:
                    writer.add_document(tantivy.Document(text=text, row=row))
                    row += 1
            writer.commit()
            writer.wait_merging_threads()
        print("RESULT " + json.dumps({"seconds": time.perf_counter() - started}))
        return

    from memtrain_data.episodes.bm25_index import tokenize
    from memtrain_data.episodes.retrieval import top_rows

    pivots = [int(i) for i in np.linspace(0, len(view) - 1, QUERIES)]
    texts = [str(view.rows([pivot])[0]["text"]) for pivot in pivots]
    if engine == "bm25s":
        import bm25s

        model = bm25s.BM25.load(str(directory), mmap=True, show_progress=False)

        def related(pivot: int, text: str) -> list[int]:
            ids = model.get_tokens_ids(tokenize([text])[0])
            return top_rows(model.get_scores_from_ids(ids), pivot, RELATED) if ids else []

    elif engine == "shards":
        from memtrain_data.episodes.retrieval import BM25Retriever

        retriever = BM25Retriever(directory)

        def related(pivot: int, text: str) -> list[int]:
            return retriever.related(pivot, text, RELATED)

    else:
        import tantivy

        index = tantivy.Index.open(str(directory))
        searcher = index.searcher()
        schema = index.schema

        def related(pivot: int, text: str) -> list[int]:
            terms = [tantivy.Query.term_query(schema, "text", token) for token in tokenize([text])[0]]
            if not terms:
                return []
            query = tantivy.Query.boolean_query([(tantivy.Occur.Should, term) for term in terms])
            hits = searcher.search(query, limit=RELATED + 1).hits
            rows = [searcher.doc(address)["row"][0] for _, address in hits]
            return [row for row in rows if row != pivot][:RELATED]

    related(pivots[0], texts[0])  # warm caches and lazy imports once
    latencies, answers = [], []
    for pivot, text in zip(pivots, texts, strict=True):
        started = time.perf_counter()
        answers.append(related(pivot, text))
        latencies.append(time.perf_counter() - started)
    Path(argv[4]).write_text(json.dumps(answers))
    print("RESULT " + json.dumps({"latencies": latencies}))


def section_engines(view: Path, passages: int, workdir: Path) -> Section:
    import numpy as np

    section = Section(
        f"S4. retrieval engines on the same pool ({passages:,} passages, {QUERIES} pivot queries, top {RELATED})",
        ["engine", "build s", "build peak RSS", "index size", "query ms (median)", "query ms (p90)",
         "query peak RSS", f"top-{RELATED} same as bm25s"],
    )  # fmt: skip
    answers: dict[str, list[list[int]]] = {}
    for engine in ("bm25s", "shards", "tantivy"):
        directory = workdir / f"engine-{engine}"
        build = measure_split(*module_child("bench.scale", "_engine", "build", engine, str(view), str(directory)))
        build_seconds = json.loads(build.output.split("RESULT ", 1)[1].splitlines()[0])["seconds"]
        result_file = workdir / f"engine-{engine}.json"
        query = measure_split(
            *module_child("bench.scale", "_engine", "query", engine, str(view), str(directory), str(result_file))
        )
        latencies = np.array(json.loads(query.output.split("RESULT ", 1)[1].splitlines()[0])["latencies"]) * 1000
        answers[engine] = json.loads(result_file.read_text())
        same = sum(a == b for a, b in zip(answers[engine], answers["bm25s"], strict=True))
        overlap = np.mean(
            [len(set(a) & set(b)) / max(len(b), 1) for a, b in zip(answers[engine], answers["bm25s"], strict=True)]
        )
        section.rows.append(
            [engine, f"{build_seconds:.1f}", mib(build.tree_peak), mib(folder_bytes(directory)),
             f"{np.median(latencies):.1f}", f"{np.percentile(latencies, 90):.1f}", mib(query.tree_peak),
             f"{same}/{QUERIES} identical lists, {overlap:.0%} overlap"]
        )  # fmt: skip
    section.notes.append(
        "bm25s = one bm25s index over the whole pool, its texts and tokens in memory (memtrain before this change); "
        "shards = memtrain's streaming sharded BM25 (50,000 rows per shard); tantivy = tantivy 0.27, default "
        "tokenizer, one indexing thread, 128 MB writer heap, queried with the same bm25s tokens as OR-ed terms."
    )
    return section


# --------------------------------------------------------------------------- projection


def projection(measured: dict[int, dict[str, Any]], index: dict[str, Any] | None = None) -> list[str]:
    large = measured[max(measured)]
    small = measured[min(measured)]
    run: SplitRun = large["run"]
    passages_per_article = large["passages"] / large["articles"]
    words_per_passage = large["words"] / large["passages"]
    enwiki_passages = ENWIKI_WORDS / words_per_passage
    per_passage = {key: large[key] / large["passages"] for key in ("pool_bytes", "view_bytes", "index_bytes")}
    disk = {key: value * enwiki_passages for key, value in per_passage.items()}
    # pool stage: CPU seconds per article = task-phase seconds × workers ÷ articles (2 cores, loaded machine)
    pool_cpu_per_article = large["task_seconds"] * WORKERS / large["articles"]
    lines = [
        f"- measured on the {max(measured)}x build: {passages_per_article:.1f} passages per article, "
        f"{words_per_passage:.0f} words per passage; pool {per_passage['pool_bytes']:.0f} B, view "
        f"{per_passage['view_bytes']:.0f} B, BM25 index {per_passage['index_bytes']:.0f} B per passage; pool stage "
        f"{pool_cpu_per_article * 1000:.0f} ms of CPU per article.",
        f"- enwiki ({ENWIKI_WORDS / 1e9:.1f}B words, ~{ENWIKI_ARTICLES / 1e6:.1f}M articles): ~{enwiki_passages / 1e6:.0f}M "
        f"passages; disk: pool {disk['pool_bytes'] / 1e9:.0f} GB, view {disk['view_bytes'] / 1e9:.0f} GB, BM25 index "
        f"{disk['index_bytes'] / 1e9:.0f} GB (plus the 22 GB dump).",
        f"- hours: pool stage {ENWIKI_ARTICLES * pool_cpu_per_article / 3600 / 16:.1f} h on 16 cores, "
        f"{ENWIKI_ARTICLES * pool_cpu_per_article / 3600 / 64:.1f} h on 64 (CPU per article × articles ÷ cores).",
    ]
    if index and "workers_1" in index:
        one = index["workers_1"]
        tasks_per_passage = (one["steps"]["count"] + one["steps"]["weigh"]) / index["passages"]
        serial_per_passage = one["steps"]["merge and the rest"] / index["passages"]
        shards = enwiki_passages / 50_000

        def hours(cores: int) -> float:
            # the shard tasks divide over the cores (~1,000 shards: no straggler limit); the merge stays serial
            return enwiki_passages * (tasks_per_passage / min(cores, shards) + serial_per_passage) / 3600

        lines.append(
            f"- BM25 index (S6, 1 worker): per-shard tasks {tasks_per_passage * 1e6:.0f} µs of CPU per passage, the "
            f"driver's merge {serial_per_passage * 1e6:.1f} µs per passage → enwiki {hours(16):.1f} h on 16 cores, "
            f"{hours(64):.1f} h on 64 (serial before: {enwiki_passages * (tasks_per_passage + serial_per_passage) / 3600:.1f} h "
            "on any number). The merge's cost grows with the shards' distinct tokens summed, which the synthetic dump "
            "(the same pages repeated) keeps low; enwiki's shards hold more distinct tokens each."
        )
    lines.append(
        f"- peak RSS: driver {mib(small['run'].driver_peak)} at {min(measured)}x and {mib(run.driver_peak)} at "
        f"{max(measured)}x, workers {mib(small['run'].workers_peak)} and {mib(run.workers_peak)} (RSS includes the "
        "memory-mapped pages of the view and the index that a process touched). Bounded by settings: view buckets of "
        "100,000 rows, index shards of 50,000 rows, plan buckets. What still grows with the input: the merged "
        f"vocabulary's numpy arrays in the driver (~40 B per distinct token: ~{ENWIKI_VOCABULARY * 40 / 2**30:.1f} GiB "
        f"for an assumed {ENWIKI_VOCABULARY / 1e6:.0f}M distinct tokens, against ~255 B per token in the Counter before; "
        "the synthetic dump repeats pages, so its vocabulary does not grow and this term is not measured)."
    )
    return lines


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dump", type=Path, default=DEFAULT_DUMP, help="The small real dump to repeat.")
    parser.add_argument("--times", type=int, nargs="+", default=[100, 300], help="Sizes to build (S1), as multiples of the dump.")
    parser.add_argument("--small-times", type=int, default=10, help="The dump size of the extraction and pool-scaling runs (S2, S3).")
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / "bench" / "out", help="Dumps and builds (kept).")
    parser.add_argument("--repeats", type=int, default=2, help="Runs per timing in S2/S3 (best kept).")
    parser.add_argument("--results", type=Path, help="Also write the tables as Markdown to this file.")
    parser.add_argument("--skip", nargs="*", default=[], choices=["builds", "extraction", "scaling", "index", "engines"])
    parser.add_argument("--engines-view", type=Path, help="Pool view for S4 (default: the largest build's).")
    args = parser.parse_args()
    facts = machine_facts()
    args.workdir.mkdir(parents=True, exist_ok=True)
    sizes = sorted(args.times)
    dumps = {times: make_dump(args.dump, args.workdir, times) for times in sizes} if "builds" not in args.skip else {}
    small_dump = make_dump(args.dump, args.workdir, args.small_times) if {"extraction", "scaling"} - set(args.skip) else None
    sections: list[Section] = []
    measured: dict[int, dict[str, Any]] = {}
    measured_index: dict[str, Any] = {}
    command = "python -m bench.scale " + " ".join(sys.argv[1:])

    def report(section: Section | None = None) -> None:
        """Print a finished section and rewrite the results file, so a stopped run keeps what it measured."""
        if section is not None:
            sections.append(section)
            print_section(section)
        if args.results:
            load = f"load average now: {' '.join(f'{value:.2f}' for value in os.getloadavg())}"
            text = render_markdown(sections, [*facts, load], command)
            lines = projection(measured, measured_index) if len(measured) > 1 else []
            if lines:
                text += "\n## S5. projection to full English Wikipedia (from the measured per-unit costs)\n\n"
                text += "\n".join(lines) + "\n"
            args.results.write_text(text, encoding="utf-8")

    if "builds" not in args.skip:
        section, measured = section_builds(dumps, args.workdir)
        report(section)
    if "extraction" not in args.skip:
        report(section_extraction(small_dump, args.small_times, args.workdir, args.repeats))
    if "scaling" not in args.skip:
        report(section_scaling(small_dump, args.small_times, args.workdir, args.repeats))
    from memtrain_data.episodes.passages import PassageView

    largest_view = args.engines_view or args.workdir / f"build-{sizes[-1]}x" / ".memtrain" / "index" / "passages.arrow"
    if "index" not in args.skip:
        section, index_measured = section_index(largest_view, len(PassageView.open(largest_view)), args.workdir, args.repeats)
        measured_index.update(index_measured)
        report(section)
    if "engines" not in args.skip:
        report(section_engines(largest_view, len(PassageView.open(largest_view)), args.workdir))
    for line in projection(measured, measured_index) if len(measured) > 1 else []:
        print(line)
    report()
    if args.results:
        print(f"bench: wrote {args.results}")

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_engine":
        engine_child(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "_index":
        index_child(sys.argv[2:])
    else:
        main()
