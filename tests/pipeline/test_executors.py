"""Executors: local runs and resumes, Slurm submits job arrays (checked down to the sbatch script
and run through a stand-in `sbatch`), Ray says how to install itself and, when installed,
runs a pipeline on a local cluster."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memtrain_data.build_config import BuildConfig
from memtrain_data.errors import ConfigError, MissingDependencyError
from memtrain_data.pipeline.executors import SlurmSettings, make_executor

VENV_BIN = Path(sys.executable).parent
REPO_ROOT = Path(__file__).resolve().parents[2]


def write_rank_file(folder: str):
    """A pipeline step (a plain function, as datatrove allows) that writes one file per rank."""

    def step(data, rank: int = 0, world_size: int = 1):
        path = Path(folder) / f"rank-{rank}-of-{world_size}.txt"
        path.write_text(f"pid {os.getpid()}\n")
        yield from ()

    return step


# --------------------------------------------------------------------------- local


def test_local_executor_runs_every_task_with_at_most_workers_at_once_and_a_rerun_skips_them(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    config = BuildConfig(output=tmp_path, workers=2)
    executor = make_executor([write_rank_file(str(out))], tasks=3, config=config, logging_dir=tmp_path / "logs", job_name="t")

    from datatrove.executor.local import LocalPipelineExecutor

    assert isinstance(executor, LocalPipelineExecutor)
    assert executor.workers == 2
    executor.run()
    assert sorted(p.name for p in out.iterdir()) == [f"rank-{r}-of-3.txt" for r in range(3)]
    assert sorted(p.name for p in (tmp_path / "logs" / "completions").iterdir()) == ["00000", "00001", "00002"]

    for path in out.iterdir():
        path.unlink()
    make_executor([write_rank_file(str(out))], tasks=3, config=config, logging_dir=tmp_path / "logs", job_name="t").run()
    assert list(out.iterdir()) == [], "completed tasks must be skipped on a rerun"


def test_local_executor_never_starts_more_workers_than_tasks(tmp_path: Path) -> None:
    executor = make_executor(
        [write_rank_file(str(tmp_path))], tasks=1, config=BuildConfig(workers=8), logging_dir=tmp_path / "l", job_name="t"
    )
    assert executor.workers == 1


def test_a_command_step_runs_its_command_line_and_fails_when_it_fails(tmp_path: Path) -> None:
    from memtrain_data.pipeline.executors import CommandStep

    marker = tmp_path / "ran"
    list(CommandStep([sys.executable, "-c", f"open({str(marker)!r}, 'w').write('yes')"]).run())
    assert marker.read_text() == "yes"
    with pytest.raises(subprocess.CalledProcessError):
        list(CommandStep([sys.executable, "-c", "raise SystemExit(3)"]).run())


def test_executor_kind_and_workers_can_be_given_without_any_build_settings(tmp_path: Path) -> None:
    executor = make_executor([write_rank_file(str(tmp_path))], tasks=4, kind="local", workers=3, logging_dir=tmp_path / "l", job_name="t")
    assert executor.workers == 3
    with pytest.raises(ConfigError, match="unknown executor 'mars'"):
        make_executor([], tasks=1, kind="mars", logging_dir=tmp_path / "m", job_name="t")


# --------------------------------------------------------------------------- Ray


@pytest.mark.skipif(importlib.util.find_spec("ray") is not None, reason="ray is installed here")
def test_ray_executor_without_ray_names_the_extra_to_install(tmp_path: Path) -> None:
    with pytest.raises(MissingDependencyError, match=r"pip install 'memtrain\[ray\]'"):
        make_executor([], tasks=1, config=BuildConfig(executor="ray"), logging_dir=tmp_path, job_name="t")


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray is not installed (pip install 'memtrain[ray]')")
@pytest.mark.slow
def test_ray_executor_runs_every_task_on_a_local_cluster(tmp_path: Path) -> None:
    import ray

    out = tmp_path / "out"
    out.mkdir()
    config = BuildConfig(executor="ray", workers=2)
    try:
        executor = make_executor([write_rank_file(str(out))], tasks=3, config=config, logging_dir=tmp_path / "logs", job_name="t")
        executor.run()
    finally:
        ray.shutdown()
    assert sorted(p.name for p in out.iterdir()) == [f"rank-{r}-of-3.txt" for r in range(3)]
    assert sorted(p.name for p in (tmp_path / "logs" / "completions").iterdir()) == ["00000", "00001", "00002"]


# --------------------------------------------------------------------------- Slurm settings


def test_slurm_settings_need_a_partition() -> None:
    with pytest.raises(ConfigError, match="MEMTRAIN_SLURM_PARTITION"):
        SlurmSettings.from_env({})


def test_slurm_settings_read_the_environment() -> None:
    settings = SlurmSettings.from_env(
        {
            "MEMTRAIN_SLURM_PARTITION": "cpu",
            "MEMTRAIN_SLURM_TIME": "2:00:00",
            "MEMTRAIN_SLURM_MEM_PER_CPU_GB": "8",
            "MEMTRAIN_SLURM_MAX_PARALLEL": "50",
            "MEMTRAIN_SLURM_ENV_COMMAND": "module load python",
            "MEMTRAIN_SLURM_SBATCH_ARGS": "--account=lab --exclusive",
        }
    )
    assert settings == SlurmSettings(
        partition="cpu",
        time="2:00:00",
        mem_per_cpu_gb=8,
        max_parallel=50,
        env_command="module load python",
        sbatch_args={"account": "lab", "exclusive": ""},
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MEMTRAIN_SLURM_MEM_PER_CPU_GB", "lots", "whole number"),
        ("MEMTRAIN_SLURM_MAX_PARALLEL", "0", "at least 1"),
        ("MEMTRAIN_SLURM_SBATCH_ARGS", "account=lab", "--key=value"),
    ],
)
def test_bad_slurm_settings_are_one_line_errors(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SlurmSettings.from_env({"MEMTRAIN_SLURM_PARTITION": "cpu", name: value})


# --------------------------------------------------------------------------- a stand-in Slurm

FAKE_SBATCH = """\
#!{python}
# Stand-in sbatch: records its call; with FAKE_SLURM_RUN=1 runs every array task of the script
# at once, in order (so a dependent job submitted later also runs later).
import json, os, re, subprocess, sys
from pathlib import Path

state = Path(os.environ["FAKE_SLURM_DIR"])
counter = state / "next_job_id"
job_id = int(counter.read_text()) if counter.exists() else 1
counter.write_text(str(job_id + 1))
script_path = sys.argv[-1]
script = Path(script_path).read_text()
(state / f"job-{{job_id}}.slurm").write_text(script)
with open(state / "calls.jsonl", "a") as calls:
    calls.write(json.dumps({{"job_id": job_id, "args": sys.argv[1:-1]}}) + "\\n")
print(f"Submitted batch job {{job_id}}")
sys.stdout.flush()
if os.environ.get("FAKE_SLURM_RUN") == "1":
    first, last = map(int, re.search(r"#SBATCH --array=(\\d+)-(\\d+)", script).groups())
    env = dict(os.environ, SLURM_JOB_ID=str(job_id), SLURM_ARRAY_JOB_ID=str(job_id), SLURM_NODELIST="localhost")
    for arg in sys.argv[1:-1]:
        if arg.startswith("--export=ALL,"):
            env.update(item.split("=", 1) for item in arg.split(",")[1:])
    for task in range(first, last + 1):
        env["SLURM_ARRAY_TASK_ID"] = str(task)
        with open(state / f"job-{{job_id}}-{{task}}.out", "w") as log:
            code = subprocess.call(["bash", script_path], env=env, stdout=log, stderr=subprocess.STDOUT)
        with open(state / "runs.jsonl", "a") as runs:
            runs.write(json.dumps({{"job_id": job_id, "task": task, "exit": code}}) + "\\n")
"""

FAKE_SRUN = """\
#!/bin/bash
# Stand-in srun: drop srun's own options and run the command once.
while [[ "$1" == -* ]]; do
  case "$1" in -n|-N|--ntasks|--nodes) shift 2 ;; *) shift ;; esac
done
exec "$@"
"""

FAKE_SCONTROL = """\
#!/bin/bash
# Stand-in scontrol: one node; requeue does nothing.
if [[ "$1" == "show" && "$2" == "hostnames" ]]; then echo localhost; fi
"""


DATATROVE_TOOL = """\
#!/bin/bash
exec {python} -m datatrove.tools.{tool} "$@"
"""


@pytest.fixture
def fake_slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`sbatch`, `srun` and `scontrol` stand-ins first on PATH; returns the folder where sbatch records its calls."""
    bin_dir = tmp_path / "fake-slurm-bin"
    state = tmp_path / "fake-slurm-state"
    bin_dir.mkdir()
    state.mkdir()
    scripts = {"sbatch": FAKE_SBATCH.format(python=sys.executable), "srun": FAKE_SRUN, "scontrol": FAKE_SCONTROL}
    for tool in ("launch_pickled_pipeline", "merge_stats"):
        if not (VENV_BIN / tool).is_file():
            # A venv without datatrove's console scripts (its packages shared from another venv).
            scripts[tool] = DATATROVE_TOOL.format(python=sys.executable, tool=tool)
    for name, text in scripts.items():
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SLURM_DIR", str(state))
    monkeypatch.setenv("MEMTRAIN_SLURM_PARTITION", "cpu")
    monkeypatch.setenv("MEMTRAIN_SLURM_TIME", "3:00:00")
    monkeypatch.setenv("MEMTRAIN_SLURM_SBATCH_ARGS", "--account=lab")
    return state


def sbatch_calls(state: Path) -> list[dict]:
    return [json.loads(line) for line in (state / "calls.jsonl").read_text().splitlines()]


def sbatch_directives(script: str) -> dict[str, str]:
    directives = {}
    for line in script.splitlines():
        if line.startswith("#SBATCH --"):
            key, _, value = line.removeprefix("#SBATCH --").partition("=")
            directives[key] = value
    return directives


def test_slurm_executor_submits_one_job_array_with_the_configured_settings(tmp_path: Path, fake_slurm: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    logs = tmp_path / "logs"
    executor = make_executor(
        [write_rank_file(str(out))], tasks=3, config=BuildConfig(executor="slurm"), logging_dir=logs, job_name="memtrain-pool"
    )
    executor.run()

    script = (logs / "launch_script.slurm").read_text()
    directives = sbatch_directives(script)
    assert directives["array"] == "0-2", "one array task per pipeline task"
    assert directives["partition"] == "cpu"
    assert directives["time"] == "3:00:00"
    assert directives["job-name"] == "memtrain-pool"
    assert directives["cpus-per-task"] == "1"
    assert directives["mem-per-cpu"] == "4G"
    assert directives["account"] == "lab"
    assert "qos" not in directives, "no QOS unless one is set: clusters reject unknown ones"
    assert f"srun  -l -n 1 launch_pickled_pipeline {logs / 'executor.pik'}" in script
    assert f"source {VENV_BIN / 'activate'}" in script, "jobs activate the same virtual environment"
    assert json.loads((logs / "ranks_to_run.json").read_text()) == [0, 1, 2]
    calls = sbatch_calls(fake_slurm)
    assert calls[0]["args"] == ["--export=ALL,RUN_OFFSET=0"]
    merge = sbatch_directives((fake_slurm / f"job-{calls[1]['job_id']}.slurm").read_text())
    assert merge["dependency"] == "afterok:1", "datatrove's stats merge job waits for the array"
    assert executor.job_id == "1"

    # An array task started by Slurm runs its own rank from the pickled executor.
    # (PYTHONPATH: the pickled step is a function of this test module.)
    env = dict(os.environ, SLURM_ARRAY_TASK_ID="1", SLURM_JOB_ID="1", SLURM_NODELIST="localhost", PYTHONPATH=str(REPO_ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "datatrove.tools.launch_pickled_pipeline", str(logs / "executor.pik")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert [p.name for p in out.iterdir()] == ["rank-1-of-3.txt"]
    assert (logs / "completions" / "00001").is_file()


def test_slurm_without_sbatch_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enwiki_sample: Path) -> None:
    import memtrain_cli.app

    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch anywhere
    monkeypatch.setenv("MEMTRAIN_SLURM_PARTITION", "cpu")
    result = CliRunner().invoke(
        memtrain_cli.app.app,
        ["build-dataset", "--dump", str(enwiki_sample), "--output", str(tmp_path / "out"), "--executor", "slurm"],
    )
    assert result.exit_code == 2
    assert "sbatch not found" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_build_dataset_on_slurm_chains_the_pool_array_and_a_finish_job_to_a_complete_dataset(
    tmp_path: Path, fake_slurm: Path, monkeypatch: pytest.MonkeyPatch, enwiki_sample: Path
) -> None:
    import memtrain_cli.app
    from bench.harness.dumps import write_parts

    parts = tmp_path / "parts"
    write_parts(enwiki_sample, parts, 3)
    monkeypatch.setenv("FAKE_SLURM_RUN", "1")
    output = tmp_path / "dataset"
    args = ["build-dataset", "--dump", str(parts), "--output", str(output), "--executor", "slurm"]
    result = CliRunner().invoke(memtrain_cli.app.app, [*args, "--workers", "2", "--num-episodes", "3"])
    assert result.exit_code == 0, result.output

    calls = sbatch_calls(fake_slurm)
    runs = [json.loads(line) for line in (fake_slurm / "runs.jsonl").read_text().splitlines()]
    assert all(run["exit"] == 0 for run in runs), runs
    pool_script = sbatch_directives((fake_slurm / "job-1.slurm").read_text())
    assert pool_script["array"] == "0-2" and pool_script["job-name"] == "memtrain-pool"
    finish = next(call for call in calls if call["job_id"] == 3)
    finish_script = sbatch_directives((fake_slurm / "job-3.slurm").read_text())
    assert finish_script["job-name"] == "memtrain-finish-mini"
    assert finish_script["array"] == "0-0" and finish_script["cpus-per-task"] == "2"
    assert "--dependency=afterok:1" in finish["args"], "the finish job starts only once the pool array succeeded"

    assert sorted(p.name for p in (output / "pool").glob("passages-*.parquet")) == [
        f"passages-{rank:05d}-of-00003.parquet" for rank in range(3)
    ]
    assert sorted(p.name for p in (output / "pool").glob("aliases-*.parquet")) == [
        f"aliases-{rank:05d}-of-00003.parquet" for rank in range(3)
    ]
    stats = json.loads((output / "stats.json").read_text())
    assert stats["pool"]["tasks"] == 3 and stats["pool"]["tasks_skipped"] == 3, "the finish job reuses the array's pool"
    # The finish job runs the CLI on the settings saved at submission, not an import of the builder.
    request = json.loads((output / ".memtrain" / "logs" / "slurm-finish-mini" / "request.json").read_text())
    assert request["config"]["executor"] == "local" and request["config"]["workers"] == 2
    finish_log = (fake_slurm / "job-3-0.out").read_text()
    assert "memtrain_cli build-dataset --finish-saved-build" in finish_log
    assert stats["configs"]["mini"]["episodes_total"] == 3
    assert list((output / "mini").glob("train-*.parquet"))

    # Everything done: a rerun submits no pool array, only the finish job (recorded, not run again).
    (fake_slurm / "calls.jsonl").unlink()
    monkeypatch.setenv("FAKE_SLURM_RUN", "0")
    again = CliRunner().invoke(memtrain_cli.app.app, [*args, "--workers", "2", "--num-episodes", "3"])
    assert again.exit_code == 0, again.output
    rerun_calls = sbatch_calls(fake_slurm)
    assert [sbatch_directives((fake_slurm / f"job-{c['job_id']}.slurm").read_text())["job-name"] for c in rerun_calls] == [
        "memtrain-finish-mini",
        "memtrain-finish-mini",
    ], textwrap.shorten(str(rerun_calls), 300)
