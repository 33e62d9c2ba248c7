"""sha256 of what memtrain's commands write, to show a refactor leaves outputs byte-identical.

Runs, in OUT: a mini build and a paper build of the shared sample, a proxy eval and a
RULER-HotpotQA eval of the mini build with the tests' tiny model, and a 2-step `cpu-smoke`
train run. Prints one line per file, `sha256  path`, and writes it to OUT/digests.txt. Run it
on two commits and `diff` the two files.

Values that differ between two runs of the same commit are left out (`VOLATILE_KEY`): wall-clock
times and speeds, creation times, the command line and paths (they name OUT), and what is keyed on
the model folder's path and modification time (eval's weights fingerprint and settings key);
checkpoint optimizer/RNG state files are not digested. Checked by two runs of one commit in two
folders giving the same digests.txt.

    python -m bench.output_digests --work /tmp/digests-before
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.harness import REPO_ROOT as ROOT

SHARED = ROOT.parent / "shared" / "data"
# Keys whose values are wall-clock times or name the run's folder: not outputs of the method.
VOLATILE_KEY = re.compile(
    r"(^|_)(seconds|elapsed|runtime|duration|time|wall|started|finished|command|output|output_dir|"
    r"samples_per_second|steps_per_second|flos|peak_rss|rss|cpu|path|logging_dir|weights_fingerprint|settings_key|created|tokens_per_second|step_time)($|_)"
)


def _scrub(value: Any, work: str) -> Any:
    if isinstance(value, dict):
        return {k: ("<volatile>" if VOLATILE_KEY.search(str(k)) else _scrub(v, work)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, work) for v in value]
    if isinstance(value, str):
        return value.replace(work, "WORK")  # the run's own folder, in every path it records
    return value


def digest_file(path: Path, work: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".json":
        data = json.dumps(_scrub(json.loads(data), str(work)), sort_keys=True).encode()
    elif path.suffix == ".jsonl":
        rows = [_scrub(json.loads(line), str(work)) for line in data.splitlines() if line.strip()]
        data = "\n".join(json.dumps(row, sort_keys=True) for row in rows).encode()
    elif path.suffix in (".md", ".txt", ".yaml"):
        data = data.replace(str(work).encode(), b"WORK")
        data = re.sub(rb"memtrain build-dataset[^\n`]*", b"memtrain build-dataset ...", data)
    return hashlib.sha256(data).hexdigest()


def run(args: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
    print("+", " ".join(args), flush=True)
    done = subprocess.run(args, env=env, capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(args)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--skip", nargs="*", default=[], choices=["paper", "eval", "train"])
    parser.add_argument("--digest-only", action="store_true", help="Only digest what OUT already holds.")
    parser.add_argument("--root", type=Path, default=ROOT, help="Checkout whose code runs (default: this one).")
    options = parser.parse_args()
    work: Path = options.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    root: Path = options.root.resolve()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(root), "MEMTRAIN_DEBUG": "1"}
    memtrain = [sys.executable, "-m", "memtrain_cli"]
    if options.digest_only:
        options.skip = ["build", "paper", "eval", "train"]
    dump = SHARED / "wikipedia" / "enwiki-2016-sample.xml.bz2"
    if "build" not in options.skip:
        run([*memtrain, "build-dataset", "--dump", str(dump), "--preset", "mini", "--output", str(work / "mini")], env)
    if "paper" not in options.skip:
        config = work / "paper.yaml"
        config.write_text("validation_fraction: 0.25\ntest_fraction: 0.25\nnum_episodes: 6\n")
        run([*memtrain, "build-dataset", "--dump", str(dump), "--preset", "paper", "--config", str(config),
             "--output", str(work / "paper")], env)  # fmt: skip
    tiny = work / "tiny-model"
    if ("eval" not in options.skip or "train" not in options.skip) and not tiny.exists():
        # In a child started in root: the tiny model of the checkout under test, not of this one.
        code = f"from pathlib import Path; from tests.tiny_model import build_tiny_model; build_tiny_model(Path({str(tiny)!r}))"
        run([sys.executable, "-c", code], env, cwd=root)
    if "eval" not in options.skip:
        common = ["--model", str(tiny), "--device", "cpu", "--limit", "2", "--no-plot",
                  "--chunk-tokens", "256", "--memory-tokens", "64", "--response-tokens", "32"]  # fmt: skip
        run([*memtrain, "eval", "--task", "proxy", "--data", str(work / "mini"), "--output", str(work / "eval-proxy"),
             *common], env)  # fmt: skip
        run([*memtrain, "eval", "--task", "ruler-hqa", "--data", str(SHARED / "hotpotqa" / "ruler_hqa" / "eval_50.json"),
             "--output", str(work / "eval-ruler"), *common], env)  # fmt: skip
    if "train" not in options.skip:
        run([*memtrain, "train", "--model", str(tiny), "--dataset", str(work / "mini"), "--preset", "cpu-smoke",
             "--output-dir", str(work / "train"), "--max-steps", "2"], env)  # fmt: skip
    lines = []
    for path in sorted(p for p in work.rglob("*") if p.is_file()):
        relative = path.relative_to(work)
        if relative.parts[0] in ("tiny-model", "digests.txt", "paper.yaml") or ".memtrain" in relative.parts:
            continue
        if path.name in ("optimizer.pt", "scheduler.pt", "rng_state.pth", "training_args.bin") or path.suffix == ".log":
            continue
        lines.append(f"{digest_file(path, work)}  {relative}")
    (work / "digests.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
