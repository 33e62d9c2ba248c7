"""bench/ is a package of scripts run as modules (`python -m bench.<name>`) over a shared harness.

Every module with a `__main__` guard must start and print its help that way, from the
repository root, and no file in bench/ reaches for `sys.path` to find its neighbours.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"


def script_modules() -> list[str]:
    """`bench.run`, `bench.harness.pool_stage`, ...: every bench module a command line starts."""
    modules = []
    for path in sorted(BENCH.rglob("*.py")):
        if 'if __name__ == "__main__":' in path.read_text(encoding="utf-8"):
            modules.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return modules


def test_the_scripts_are_found() -> None:
    assert {"bench.run", "bench.scale", "bench.output_digests", "bench.harness.pool_stage"} <= set(script_modules())


@pytest.mark.parametrize("module", script_modules())
def test_each_script_prints_its_help_as_a_module(module: str) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: ")


def test_no_bench_file_touches_sys_path() -> None:
    touching = [str(p.relative_to(ROOT)) for p in sorted(BENCH.rglob("*.py")) if "sys.path" in p.read_text(encoding="utf-8")]
    assert touching == []


def test_the_makefile_runs_bench_scripts_as_modules() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "python -m bench.run" in makefile and "python -m bench.scale" in makefile
    assert "bench/run.py" not in makefile and "bench/scale.py" not in makefile
