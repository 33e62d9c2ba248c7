"""Build-then-validate sweep: does `memtrain validate` accept what `memtrain build-dataset` writes?

For each dump half, preset and seed, builds a dataset and validates the same folder, then
prints one row per build: validate's exit code, the problems by code, and the episodes the
builder dropped by the judge's rule (from `stats.json`).

The sample dump is split into two halves by a hash of each article's title
(`split_dump_halves`): rules are tuned on `tune` and reported on `heldout`. Redirects go to
both halves (they name pages; they are not text).

    python -m bench.judge_sweep --dump ../shared/data/wikipedia/enwiki-2016-sample.xml.bz2 \
        --work /tmp/sweep --seeds 1 2 3 4 5 --presets mini paper --halves heldout
    python -m bench.judge_sweep --judge-existing /tmp/old-build-*   # this judge on older builds

A paper document needs 150 passages of its own split's pages: on a half of the sample that
takes larger validation and test shares (`--paper-split-fraction`, 0.3; 0.4 for `heldout`).
"""

from __future__ import annotations

import argparse
import bz2
import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.harness.dumps import read_dump

HALVES = ("tune", "heldout")


def half_of(title: str) -> str:
    """The half an article belongs to: the parity of a sha256 of its title."""
    return HALVES[hashlib.sha256(title.encode()).digest()[0] % 2]


def split_dump_halves(src: Path, folder: Path) -> dict[str, Path]:
    """Write `tune.xml.bz2` and `heldout.xml.bz2`: articles split by title hash, redirects in both."""
    import re

    dump = read_dump(src)
    pages: dict[str, list[str]] = {half: [] for half in HALVES}
    for page in dump.pages:
        title = re.search(r"<title>([^<]*)</title>", page)
        if "<redirect" in page:
            for half in HALVES:
                pages[half].append(page)
        else:
            pages[half_of(title.group(1) if title else "")].append(page)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for half in HALVES:
        path = folder / f"{half}.xml.bz2"
        path.write_bytes(bz2.compress((dump.header + "".join(pages[half]) + dump.footer).encode()))
        written[half] = path
    return written


def build_and_validate(memtrain: str, dump: Path, output: Path, preset: str, seed: int, extra: list[str]) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    build = subprocess.run(
        [memtrain, "build-dataset", "--dump", str(dump), "--preset", preset, "--seed", str(seed), "--output", str(output), "--overwrite", *extra],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    row: dict = {"build_rc": build.returncode}
    if build.returncode != 0:
        row["build_error"] = (build.stderr.strip().splitlines() or ["?"])[-1]
        return row
    check = subprocess.run([memtrain, "validate", str(output), "--json"], capture_output=True, text=True, env=env)
    row["validate_rc"] = check.returncode
    try:
        result = json.loads(check.stdout)
    except json.JSONDecodeError:
        result = {}
    row["problems"] = result.get("problems_by_code") or result.get("counts_by_code") or {}
    row["examples"] = [p.get("reason") for p in (result.get("problems") or [])[:3]]
    stats = json.loads((output / "stats.json").read_text())
    config = next(iter(stats.get("configs", {}).values()), {})
    row["episodes"] = sum((config.get("episodes") or {}).values()) if isinstance(config.get("episodes"), dict) else config.get("episodes")
    row["dropped"] = config.get("dropped") or {}
    row["rejected_answers"] = config.get("rejected_answers") or {}
    row["rejected_probe_targets"] = config.get("rejected_probe_targets") or {}
    return row


def judge_existing(memtrain: str, folders: list[Path]) -> Counter[str]:
    """Episodes of already built folders (an older build, say) that this version's judge rejects, by rule."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    rejected: Counter[str] = Counter()
    for folder in folders:
        check = subprocess.run([memtrain, "validate", str(folder), "--json", "--max-rows", "1000000"], capture_output=True, text=True, env=env)
        problems = json.loads(check.stdout).get("problems") or []
        by_rule: dict[str, set[str]] = {}
        for problem in problems:
            by_rule.setdefault(problem["reason"].split(":", 1)[0], set()).add(str(problem.get("episode")))
        counts = {rule: len(episodes) for rule, episodes in by_rule.items()}
        print(json.dumps({"folder": str(folder), "episodes_rejected_by_rule": counts}), flush=True)
        rejected.update(counts)
    return rejected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--presets", nargs="+", default=["mini", "paper"])
    parser.add_argument("--halves", nargs="+", default=[*HALVES, "all"])
    parser.add_argument("--memtrain", default=str(Path(sys.executable).with_name("memtrain")))
    parser.add_argument("--paper-episodes", type=int, default=20)
    parser.add_argument(
        "--paper-split-fraction", type=float, default=0.3,
        help="validation and test share of pages for paper builds (a paper document needs 150 passages of its split's pages)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="write every row here")
    parser.add_argument("--judge-existing", type=Path, nargs="+", help="only validate these built folders with this version's judge")
    args = parser.parse_args()
    if args.judge_existing:
        print(f"episodes rejected by rule: {dict(judge_existing(args.memtrain, args.judge_existing).most_common())}")
        return
    if args.dump is None or args.work is None:
        parser.error("--dump and --work are needed to build")
    dumps = split_dump_halves(args.dump, args.work / "dumps")
    paper_yaml = args.work / "paper-splits.yaml"
    paper_yaml.write_text(f"validation_fraction: {args.paper_split_fraction}\ntest_fraction: {args.paper_split_fraction}\n")
    dumps["all"] = args.dump
    rows = []
    totals: Counter[str] = Counter()
    dropped_totals: Counter[str] = Counter()
    passed_over: Counter[str] = Counter()
    ambiguous = 0
    for half in args.halves:
        for preset in args.presets:
            for seed in args.seeds:
                extra = ["--num-episodes", str(args.paper_episodes), "--config", str(paper_yaml)] if preset == "paper" else []
                row = build_and_validate(args.memtrain, dumps[half], args.work / f"{half}-{preset}-{seed}", preset, seed, extra)
                row.update(half=half, preset=preset, seed=seed)
                rows.append(row)
                totals.update(row.get("problems") or {})
                dropped_totals.update({k: v for k, v in (row.get("dropped") or {}).items() if isinstance(v, int)})
                passed_over.update({k: v for k, v in (row.get("rejected_probe_targets") or {}).items() if isinstance(v, int)})
                ambiguous += int((row.get("rejected_answers") or {}).get("ambiguous_name", 0))
                print(json.dumps(row), flush=True)
    failing = sum(1 for r in rows if r.get("build_rc") != 0 or r.get("validate_rc") != 0)
    print(f"builds: {len(rows)}, failing build or validate: {failing}")
    print(f"validate problems by code: {dict(totals.most_common())}")
    print(f"builder drops by reason: {dict(dropped_totals.most_common())}")
    print(f"answers passed over as linked to two pages (ambiguous_name): {ambiguous}")
    print(f"probe targets passed over by reason: {dict(passed_over.most_common())}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
