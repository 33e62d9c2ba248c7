"""memtrain benchmarks: speed and memory of `build-dataset`, side by side with the tools it replaces.

    .venv/bin/python -m bench.run [--dump PATH] [--quick] [--results bench/RESULTS.md]

Everything runs on the same input, on the same machine, in the same run, and every target is
printed as a ratio with PASS or FAIL:

1. text extraction: memtrain's dump → passages stage vs wikiextractor (same dump, same number
   of processes): pages/s, words/s and markup residue; on the dump and on a copy 10× larger.
2. NER: memtrain's NER stage (`episodes.entities.extract_entities`) vs plain spaCy `nlp.pipe`
   with only the `ner` component: words/s.
3. the whole build (`mini`, and `paper` with 10 episodes): episodes/s and peak RSS.
4. scaling of the pool stage, `--workers 1` vs `--workers 2`, on the 10× dump.
5. peak RSS of a whole build on the 10× dump vs the base dump.
6. BM25 index size and build time.
7. when `ray` is installed: the mini build on a local Ray cluster, compared file by file with
   the local build.

Timings are wall-clock seconds of a fresh process (start-up included, as a user sees it); peak
RSS is the largest sum of the resident memory of the process and all its descendants, polled
every 20 ms (`bench.harness.measure`). This is a script, not a test: nothing here runs in `make test`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import DEFAULT_DUMP
from bench.harness.measure import (
    Run,
    SplitRun,
    child_env,
    machine_ceiling,
    machine_facts,
    measure,
    task_phase_seconds,
)
from bench.harness.peers import article_count, pool_texts, residue, run_pool_stage, run_wikiextractor
from bench.harness.tables import Section, mib, print_section, render_markdown, verdict

PROCESSES = 2
# Pages per pool task when the 10× dump is split by byte ranges: small enough that a dump of a
# thousand pages gives a dozen tasks, as enwiki (24M index entries, 50,000 per task) gives ~480.
BENCH_PAGES_PER_TASK = 100
# The base dump is one plain .bz2 of 3.1 MB: ranges of 200 pages × 4 KiB give 4 tasks.
BASE_PAGES_PER_TASK = 200


# --------------------------------------------------------------------------- inputs


def make_big_dump(src: Path, workdir: Path, times: int) -> tuple[Path, Path]:
    from bench.harness.dumps import write_repeated_multistream

    return write_repeated_multistream(src, workdir / f"enwiki-{times}x-multistream.xml.bz2", times)


# --------------------------------------------------------------------------- sections


def extraction_rows(
    label: str, dump: Path, index: Path | None, workdir: Path, pages_per_task: int | None, repeats: int
) -> tuple[list[list[str]], dict]:
    pages = article_count(dump)
    memtrain_runs, wx_runs = [], []
    # Alternate the two tools and keep each one's fastest run: the machine may be shared.
    for _ in range(repeats):
        memtrain_runs.append(run_pool_stage(dump, workdir / f"pool-{label}", PROCESSES, pages_per_task, index))
        wx_runs.append(run_wikiextractor(dump, workdir / f"wikiextractor-{label}", PROCESSES))
    memtrain_run, memtrain = min(memtrain_runs, key=lambda pair: pair[0].seconds)
    wx_run, wx_texts = min(wx_runs, key=lambda pair: pair[0].seconds)
    m_texts = pool_texts(workdir / f"pool-{label}")
    m_words = sum(len(text.split()) for text in m_texts)
    wx_words = sum(len(text.split()) for text in wx_texts)
    m_res, wx_res = residue(m_texts), residue(wx_texts)
    rows = [
        [f"memtrain ({label}, {memtrain['tasks']} task(s))", f"{pages:,}", f"{memtrain_run.seconds:.2f}",
         f"{pages / memtrain_run.seconds:,.1f}", f"{m_words:,}", f"{m_words / memtrain_run.seconds:,.0f}",
         str(sum(m_res.values())), " ".join(f"{k}:{v}" for k, v in m_res.items() if v) or "-"],
        [f"wikiextractor ({label})", f"{pages:,}", f"{wx_run.seconds:.2f}", f"{pages / wx_run.seconds:,.1f}",
         f"{wx_words:,}", f"{wx_words / wx_run.seconds:,.0f}", str(sum(wx_res.values())),
         " ".join(f"{k}:{v}" for k, v in wx_res.items() if v) or "-"],
    ]  # fmt: skip
    facts = {
        "ratio": wx_run.seconds / memtrain_run.seconds,
        "residue_ok": sum(m_res.values()) <= sum(wx_res.values()),
        "memtrain_words": m_words,
        "wx_words": wx_words,
        "memtrain_seconds": memtrain_run.seconds,
    }
    return rows, facts


def section_extraction(dump: Path, big: tuple[Path, Path], times: int, workdir: Path, repeats: int) -> Section:
    section = Section(
        f"1. text extraction: memtrain pool stage vs wikiextractor ({PROCESSES} processes each, best of {repeats})",
        ["run", "article pages", "seconds", "pages/s", "words out", "words/s", "residue", "residue by marker"],
    )
    base_rows, base = extraction_rows("base dump", dump, None, workdir, BASE_PAGES_PER_TASK, repeats)
    big_rows, bigf = extraction_rows(f"{times}x dump", big[0], big[1], workdir, BENCH_PAGES_PER_TASK, repeats)
    section.rows = base_rows + big_rows
    for label, facts in (("base dump", base), (f"{times}x dump", bigf)):
        section.targets.append(
            f"{label}: memtrain pages/s ÷ wikiextractor pages/s = {facts['ratio']:.2f} (target ≥ 1.00) "
            f"{verdict(facts['ratio'] >= 1.0)}; residue no more than wikiextractor {verdict(facts['residue_ok'])}"
        )
    section.notes.append(
        f"The {times}x dump is a multistream .bz2 with its index, split by byte ranges into tasks of "
        f"{BENCH_PAGES_PER_TASK} pages (enwiki: 50,000 pages per task). The base dump is one plain .bz2 file, "
        f"split by its bz2 block index into ranges of {BASE_PAGES_PER_TASK} × 4 KiB of XML (--pages-per-task "
        f"{BASE_PAGES_PER_TASK}; the default, 50,000, keeps a file this small in one task)."
    )
    return section


def section_ner(pool_output: Path, max_words: int) -> Section:
    import spacy

    from memtrain_data.build_config import ONTONOTES_LABELS
    from memtrain_data.episodes.entities import extract_entities
    from memtrain_data.nlp import load_spacy_ner

    texts: list[str] = []
    words = 0
    for text in pool_texts(pool_output):
        texts.append(text)
        words += len(text.split())
        if words >= max_words:
            break
    memtrain_nlp = load_spacy_ner("en_core_web_sm")
    name = memtrain_nlp.meta.get("name", "core_web_sm")
    package = f"{memtrain_nlp.meta.get('lang', 'en')}_{name}"
    try:
        plain = spacy.load(package)
    except OSError:
        import importlib

        plain = importlib.import_module(package).load()
    plain.select_pipes(enable=["ner"])

    def time_memtrain() -> float:
        started = time.perf_counter()
        for _ in extract_entities(memtrain_nlp, texts, ONTONOTES_LABELS):
            pass
        return time.perf_counter() - started

    def time_plain() -> float:
        started = time.perf_counter()
        for _ in plain.pipe(texts, batch_size=32):
            pass
        return time.perf_counter() - started

    # Warm both once, then alternate and keep each one's best of three (the machine is shared).
    time_memtrain(), time_plain()
    memtrain_times, plain_times = [], []
    for _ in range(3):
        memtrain_times.append(time_memtrain())
        plain_times.append(time_plain())
    memtrain_s, plain_s = min(memtrain_times), min(plain_times)
    ratio = plain_s / memtrain_s
    section = Section(
        "2. NER: memtrain's NER stage vs plain spaCy nlp.pipe (only 'ner' enabled), one process",
        ["run", "passages", "words", "seconds (best of 3)", "words/s", "components run"],
    )
    section.rows = [
        ["memtrain extract_entities", f"{len(texts):,}", f"{words:,}", f"{memtrain_s:.2f}", f"{words / memtrain_s:,.0f}",
         ", ".join(memtrain_nlp.pipe_names)],
        ["spaCy nlp.pipe", f"{len(texts):,}", f"{words:,}", f"{plain_s:.2f}", f"{words / plain_s:,.0f}", ", ".join(plain.pipe_names)],
    ]  # fmt: skip
    section.targets.append(f"memtrain words/s ÷ spaCy words/s = {ratio:.2f} (target ≥ 0.90) {verdict(ratio >= 0.9)}")
    return section


def run_build(
    dump: Path, index: Path | None, output: Path, preset: str, workers: int, episodes: int | None, executor: str = "local"
) -> tuple[Run, dict]:
    shutil.rmtree(output, ignore_errors=True)
    command = [str(Path(sys.executable).parent / "memtrain"), "build-dataset", "--dump", str(dump), "--output", str(output)]
    command += ["--preset", preset, "--workers", str(workers), "--executor", executor]
    if index is not None:
        command += ["--dump-index", str(index)]
    if episodes is not None:
        command += ["--num-episodes", str(episodes)]
    run = measure(command, env=child_env())
    return run, json.loads((output / "stats.json").read_text())


def section_builds(dump: Path, workdir: Path, quick: bool) -> tuple[Section, dict[str, dict]]:
    section = Section(
        f"3. whole build (memtrain build-dataset, --workers {PROCESSES}, base dump)",
        ["preset", "episodes", "seconds", "episodes/s", "peak RSS (tree)", "pool passages", "episode tasks"],
    )
    stats_by_preset: dict[str, dict] = {}
    presets = [("mini", None)] + ([] if quick else [("paper", 10)])
    for preset, episodes in presets:
        run, stats = run_build(dump, None, workdir / f"build-{preset}", preset, PROCESSES, episodes)
        config = stats["configs"][preset]
        stats_by_preset[preset] = {"run": run, "stats": stats}
        section.rows.append(
            [preset + (f" (--num-episodes {episodes})" if episodes else ""), str(config["episodes_total"]), f"{run.seconds:.1f}",
             f"{config['episodes_total'] / run.seconds:.2f}", mib(run.peak_rss_bytes), f"{config['pool_passages']:,}", str(config["tasks"])]
        )  # fmt: skip
    section.notes.append("Seconds include process start-up, model loading (spaCy, tokenizer) in every worker, the pool and the index.")
    return section, stats_by_preset


def section_scaling(big: tuple[Path, Path], times: int, workdir: Path, repeats: int) -> Section:
    section = Section(
        f"4. scaling: pool stage on the {times}x dump, --workers 1 vs --workers 2 (best of {repeats})",
        ["workers", "tasks", "seconds (process)", "pages/s", "seconds (stage, stats.json)", "seconds (tasks, from task logs)"],
    )
    pages = article_count(big[0])
    runs: dict[int, list[tuple[SplitRun, dict, float]]] = {1: [], 2: []}
    for _ in range(repeats):
        for workers in (1, 2):
            output = workdir / f"scale-{workers}"
            run, result = run_pool_stage(big[0], output, workers, BENCH_PAGES_PER_TASK, big[1])
            runs[workers].append((run, result, task_phase_seconds(output)))
    seconds, task_seconds = {}, {}
    for workers, measured in runs.items():
        run, result, tasks_s = min(measured, key=lambda entry: entry[0].seconds)
        seconds[workers], task_seconds[workers] = run.seconds, tasks_s
        section.rows.append(
            [str(workers), str(result["tasks"]), f"{run.seconds:.2f}", f"{pages / run.seconds:,.1f}",
             f"{result['stats']['seconds']:.2f}", f"{tasks_s:.2f}"]
        )  # fmt: skip
    ratio = seconds[1] / seconds[2]
    one, two = machine_ceiling(repeats + 1)
    section.rows.append(["(machine: pure-Python CPU loop, 1 / 2 processes)", "-", f"{one:.2f} / {two:.2f}", "-", "-", "-"])
    section.targets.append(f"speed-up 2 workers ÷ 1 worker = {ratio:.2f} (target ≥ 1.70) {verdict(ratio >= 1.7)}")
    task_ratio = task_seconds[1] / task_seconds[2]
    section.notes.append(
        f"Task phase only (first task start to last task end): {task_ratio:.2f}x; the rest is fixed cost per run "
        "(interpreter and imports, planning, datatrove's process pool and manager, stats), which a real dump amortizes."
    )
    section.notes.append(
        f"The same machine runs a pure CPU loop {one / two:.2f}x faster on 2 processes than on 1 in this run: "
        "the ceiling the pool stage is measured against."
    )
    return section


def section_memory(dump: Path, big: tuple[Path, Path], times: int, workdir: Path) -> tuple[Section, dict[str, dict]]:
    section = Section(
        f"5. peak RSS of a whole build (mini, --workers 1): base dump vs {times}x dump",
        ["dump", "pool passages", "seconds", "peak RSS (tree)"],
    )
    runs = {}
    for label, path, index in (("base", dump, None), (f"{times}x", big[0], big[1])):
        run, stats = run_build(path, index, workdir / f"rss-{label}", "mini", 1, None)
        runs[label] = {"run": run, "stats": stats}
        section.rows.append([label, f"{stats['configs']['mini']['pool_passages']:,}", f"{run.seconds:.1f}", mib(run.peak_rss_bytes)])
    ratio = runs[f"{times}x"]["run"].peak_rss_bytes / runs["base"]["run"].peak_rss_bytes
    section.targets.append(f"peak RSS {times}x ÷ base = {ratio:.2f} (target ≤ 1.20) {verdict(ratio <= 1.2)}")
    return section, runs


def parquet_digests(output: Path) -> dict[str, str]:
    import hashlib

    return {str(p.relative_to(output)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(output.glob("*/*.parquet"))}


def section_ray(dump: Path, workdir: Path, local_build: Path) -> Section:
    """The mini build again with `--executor ray` on a local Ray cluster; its files must equal the local build's."""
    section = Section(
        f"7. Ray: the mini build with --executor ray (local cluster, --workers {PROCESSES}) vs --executor local",
        ["executor", "episodes", "seconds", "peak RSS (tree)", "parquet files", "identical to local"],
    )
    run, stats = run_build(dump, None, workdir / "build-mini-ray", "mini", PROCESSES, None, executor="ray")
    ray_files, local_files = parquet_digests(workdir / "build-mini-ray"), parquet_digests(local_build)
    same = ray_files == local_files
    section.rows.append(
        ["ray", str(stats["configs"]["mini"]["episodes_total"]), f"{run.seconds:.1f}", mib(run.peak_rss_bytes),
         str(len(ray_files)), "yes" if same else "NO"]
    )  # fmt: skip
    section.targets.append(f"Ray build byte-identical to the local build {verdict(same)}")
    section.notes.append("Seconds include starting the local Ray cluster (ray.init()).")
    return section


def section_index(builds: dict[str, dict]) -> Section:
    section = Section("6. BM25 index (bm25s) over the pool", ["build", "pool passages", "index size", "index build seconds"])
    for label, entry in builds.items():
        for config in entry["stats"]["configs"].values():
            section.rows.append(
                [label, f"{config['pool_passages']:,}", mib(config["index_bytes"]) if config["index_bytes"] >= 2**20
                 else f"{config['index_bytes'] / 1024:,.0f} KiB", f"{config['index_build_seconds']:.2f}"]
            )  # fmt: skip
    return section


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dump", type=Path, default=DEFAULT_DUMP, help="MediaWiki .xml.bz2 dump to measure on.")
    parser.add_argument("--quick", action="store_true", help="Smaller run for development: 3x dump, no paper build, less NER text.")
    parser.add_argument("--results", type=Path, help="Also write the tables as Markdown to this file (e.g. bench/RESULTS.md).")
    parser.add_argument("--workdir", type=Path, help="Keep the outputs in this folder (default: a temporary one, removed).")
    args = parser.parse_args()
    if not args.dump.is_file():
        sys.exit(f"bench: dump not found: {args.dump} (pass --dump PATH to a MediaWiki .xml.bz2 dump)")
    if shutil.which("python") is None and not Path(sys.executable).exists():
        sys.exit("bench: no Python interpreter to run the children with")
    try:
        import wikiextractor  # noqa: F401
    except ImportError:
        sys.exit("bench: wikiextractor is not installed; run: .venv/bin/pip install -r bench/requirements.txt")

    times = 3 if args.quick else 10
    repeats = 1 if args.quick else 2
    facts = machine_facts()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="memtrain-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    sections: list[Section] = []
    try:
        print(f"bench: making the {times}x dump in {workdir} ...", flush=True)
        big = make_big_dump(args.dump, workdir, times)
        for build in (
            lambda: section_extraction(args.dump, big, times, workdir, repeats),
            lambda: section_ner(workdir / "pool-base dump", 20_000 if args.quick else 60_000),
        ):
            sections.append(build())
            print_section(sections[-1])
        build_section, builds = section_builds(args.dump, workdir, args.quick)
        sections.append(build_section)
        print_section(build_section)
        sections.append(section_scaling(big, times, workdir, repeats))
        print_section(sections[-1])
        memory_section, memory_builds = section_memory(args.dump, big, times, workdir)
        sections.append(memory_section)
        print_section(memory_section)
        index_builds = {f"{preset}, base dump": entry for preset, entry in builds.items()}
        index_builds.update({f"mini, {label} dump": entry for label, entry in memory_builds.items() if label != "base"})
        sections.append(section_index(index_builds))
        print_section(sections[-1])
        if importlib.util.find_spec("ray") is not None:
            sections.append(section_ray(args.dump, workdir, workdir / "build-mini"))
            print_section(sections[-1])
        else:
            print("bench: ray is not installed; skipping the Ray section (pip install 'memtrain[ray]')")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    facts.append(f"load average at end: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    if args.results:
        command = "python -m bench.run " + " ".join(sys.argv[1:])
        args.results.write_text(render_markdown(sections, facts, command) + "\n", encoding="utf-8")
        print(f"bench: wrote {args.results}")


if __name__ == "__main__":
    main()
