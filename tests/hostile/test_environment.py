"""The test suite's own environment: the caller's Hub, model and cluster settings (e.g.
`TRANSFORMERS_OFFLINE=1`, common on clusters, which huggingface_hub also reads as offline mode)
never reach the tests or the processes they start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CALLER = {
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_XET": "0",
    "HF_ENDPOINT": "http://127.0.0.1:9/unreachable",
    "HUGGINGFACE_HUB_VERBOSITY": "debug",
    "MEMTRAIN_DEBUG": "1",
    "SLURM_JOB_ID": "123",
}


def test_the_callers_library_settings_never_reach_a_subprocess_of_the_tests() -> None:
    probe = (
        "import tests.conftest, json, os, subprocess, sys;"
        "child = subprocess.run([sys.executable, '-c', 'import os, json; print(json.dumps(dict(os.environ)))'],"
        " capture_output=True, text=True, check=True).stdout;"
        "print(child)"
    )
    env = {**os.environ, **CALLER, "HF_HOME": "/somewhere/hf-home"}
    done = subprocess.run([sys.executable, "-c", probe], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert not set(CALLER) & set(seen), "the caller's settings leaked into a test subprocess"
    assert seen["HF_HUB_OFFLINE"] == "1", "the tests set their own"
    assert seen["HF_HOME"] == "/somewhere/hf-home", "where caches live is kept, so cached models are found"
