"""Where a build's datatrove pipelines run: this machine, a Slurm cluster, or a Ray cluster.

`make_executor` turns a pipeline (a list of datatrove steps) and a task count into the
executor `--executor` names. This module knows nothing about what the pipelines do: the
pipeline and the number of tasks never depend on the executor, so the same command writes
the same shards everywhere; only where tasks run changes. Local worker processes end with
the process that started them (`executor.exit_with_parent`).

- `local`: datatrove's `LocalPipelineExecutor` (console logging kept off the terminal),
  `--workers` tasks at a time on this machine.
- `ray`: datatrove's `RayPipelineExecutor`, `--workers` tasks at a time, one CPU each. It joins
  the cluster named by `RAY_ADDRESS`, or starts a local one (`ray.init()`) when it is unset.
  `run()` blocks until every task is done, exactly as with `local`.
  Needs the `ray` extra (`pip install 'memtrain[ray]'`).
- `slurm`: datatrove's `SlurmPipelineExecutor` (job arrays). `run()` only *submits* jobs; a
  later job waits for an earlier one with `depends` (`--dependency=afterok`). `CommandStep`
  lets such a job run a command line, so a chain of jobs can end in a program's own entry
  point (memtrain's build chains its pool array to a finish job this way, see
  `memtrain_data/build.py`).

  Slurm settings come from the environment (all optional but the partition):
  `MEMTRAIN_SLURM_PARTITION`, `MEMTRAIN_SLURM_TIME` (default 24:00:00),
  `MEMTRAIN_SLURM_MEM_PER_CPU_GB` (default 4), `MEMTRAIN_SLURM_QOS`,
  `MEMTRAIN_SLURM_MAX_PARALLEL` (array tasks running at once; default no limit),
  `MEMTRAIN_SLURM_ENV_COMMAND` (shell line that activates the environment in each job; default
  sourcing this Python's venv), `MEMTRAIN_SLURM_SBATCH_ARGS` (extra `--key=value` options, e.g.
  `--account=lab`).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datatrove.pipeline.base import PipelineStep

from memtrain_data.errors import ConfigError, MissingDependencyError, first_line

if TYPE_CHECKING:
    from datatrove.executor.base import PipelineExecutor

EXECUTORS: tuple[str, ...] = ("local", "ray", "slurm")
RAY_INSTALL_HINT = "pip install 'memtrain[ray]'"


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class SlurmSettings:
    """sbatch settings of a Slurm build, read from `MEMTRAIN_SLURM_*` environment variables."""

    partition: str
    time: str = "24:00:00"
    mem_per_cpu_gb: int = 4
    qos: str | None = None
    max_parallel: int = -1
    env_command: str | None = None
    sbatch_args: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SlurmSettings:
        """Settings from `environ` (default `os.environ`); a one-line ConfigError when one is unusable."""
        env = os.environ if environ is None else environ
        partition = env.get("MEMTRAIN_SLURM_PARTITION", "").strip()
        if not partition:
            raise ConfigError(
                "--executor slurm needs a partition: set MEMTRAIN_SLURM_PARTITION "
                "(and optionally MEMTRAIN_SLURM_TIME, MEMTRAIN_SLURM_MEM_PER_CPU_GB, MEMTRAIN_SLURM_SBATCH_ARGS)"
            )
        return cls(
            partition=partition,
            time=env.get("MEMTRAIN_SLURM_TIME", "").strip() or cls.time,
            mem_per_cpu_gb=_positive_int(env, "MEMTRAIN_SLURM_MEM_PER_CPU_GB", cls.mem_per_cpu_gb),
            qos=env.get("MEMTRAIN_SLURM_QOS", "").strip() or None,
            max_parallel=_positive_int(env, "MEMTRAIN_SLURM_MAX_PARALLEL", -1),
            env_command=env.get("MEMTRAIN_SLURM_ENV_COMMAND", "").strip() or default_env_command(),
            sbatch_args=_parse_sbatch_args(env.get("MEMTRAIN_SLURM_SBATCH_ARGS", "")),
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got '{raw}'") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}")
    return value


def _parse_sbatch_args(raw: str) -> dict[str, str]:
    """`--account=lab --exclusive` → {"account": "lab", "exclusive": ""} (datatrove's sbatch_args form)."""
    parsed: dict[str, str] = {}
    for token in shlex.split(raw):
        if not token.startswith("--") or len(token) < 3:
            raise ConfigError(f"MEMTRAIN_SLURM_SBATCH_ARGS: expected --key=value options, got '{token}'")
        key, _, value = token[2:].partition("=")
        parsed[key] = value
    return parsed


def default_env_command() -> str | None:
    """The shell line that activates this Python's virtual environment in a Slurm job, if it is one."""
    activate = Path(sys.prefix) / "bin" / "activate"
    if sys.prefix != sys.base_prefix and activate.is_file():
        return f"source {shlex.quote(str(activate))}"
    return None


# --------------------------------------------------------------------------- executors


class CallStep(PipelineStep):
    """A step that calls `function(rank)` for its task and yields no documents: for tasks that
    write their own files (e.g. the BM25 index's shards). `function` must pickle (a module-level
    function or a `functools.partial` of one)."""

    type = "MEMTRAIN"

    def __init__(self, name: str, function: Callable[[int], object]) -> None:
        super().__init__()
        self.name = name
        self.function = function

    def run(self, data: Any = None, rank: int = 0, world_size: int = 1) -> Any:
        self.function(rank)
        yield from ()


def make_executor(
    pipeline: list[Any],
    *,
    tasks: int,
    logging_dir: Path | str,
    job_name: str,
    kind: str | None = None,
    workers: int | None = None,
    config: Any = None,
    depends: PipelineExecutor | None = None,
    cpus_per_task: int = 1,
    skip_completed: bool = True,
    start_method: str = "forkserver",
) -> PipelineExecutor:
    """The datatrove executor named `kind` (local, ray or slurm), running `pipeline` as `tasks` tasks.

    `kind` and `workers` (tasks at once) may instead come from `config`, any settings object
    with `.executor` and `.workers`. `logging_dir` holds datatrove's logs, per-task stats and
    completion markers (so a rerun skips finished tasks). `job_name` names the Slurm job;
    `depends` is an executor of the same kind that must finish first (Slurm: `afterok`
    dependency). `cpus_per_task` is what one task reserves on Slurm and Ray. `start_method`
    is how local worker processes start: `forkserver` (safe with torch and tokenizers) or
    `fork` (no re-imports in each worker).
    """
    kind = kind if kind is not None else getattr(config, "executor", "local")
    workers = workers if workers is not None else int(getattr(config, "workers", 1))
    if tasks < 1:
        raise ValueError(f"a pipeline needs at least one task, got {tasks}")
    if kind == "local":
        from memtrain_data.pipeline.executor import QuietLocalExecutor

        return QuietLocalExecutor(
            pipeline,
            tasks=tasks,
            workers=min(workers, tasks),
            logging_dir=str(logging_dir),
            depends=depends,
            skip_completed=skip_completed,
            start_method=start_method,
        )
    if kind == "ray":
        return _ray_executor(pipeline, tasks, workers, logging_dir, depends, cpus_per_task, skip_completed)
    if kind == "slurm":
        return slurm_executor(
            pipeline, tasks=tasks, settings=SlurmSettings.from_env(), logging_dir=logging_dir, job_name=job_name,
            depends=depends, cpus_per_task=cpus_per_task, skip_completed=skip_completed,
        )
    raise ConfigError(f"unknown executor '{kind}'; choose one of: {', '.join(EXECUTORS)}")


def require_ray() -> Any:
    """The `ray` module, or a MissingDependencyError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise MissingDependencyError(
            f"--executor ray needs the 'ray' package, which is not installed; install it with: {RAY_INSTALL_HINT}"
        ) from None
    return ray


def _ray_executor(
    pipeline: list[Any],
    tasks: int,
    workers: int,
    logging_dir: Path | str,
    depends: PipelineExecutor | None,
    cpus_per_task: int,
    skip_completed: bool,
) -> PipelineExecutor:
    ray = require_ray()
    from datatrove.executor.ray import RayPipelineExecutor

    if not ray.is_initialized():
        # RAY_ADDRESS names a running cluster; without it ray.init() starts one on this machine.
        # Task output goes to the task log files, not through the driver's terminal.
        ray.init(address=os.environ.get("RAY_ADDRESS") or None, log_to_driver=False, include_dashboard=False)
    from memtrain_data.pipeline.executor import datatrove_console_quiet

    # datatrove warns that a local logging dir must be shared by all nodes: true on one machine,
    # and documented for clusters; kept off the terminal like the rest of its console logging.
    with datatrove_console_quiet():
        return RayPipelineExecutor(
            pipeline,
            tasks=tasks,
            workers=min(workers, tasks),
            depends=depends,
            skip_completed=skip_completed,
            logging_dir=str(logging_dir),
            cpus_per_task=cpus_per_task,
            mem_per_cpu_gb=float(os.environ.get("MEMTRAIN_RAY_MEM_PER_CPU_GB", "2")),
        )


def slurm_executor(
    pipeline: list[Any],
    *,
    tasks: int,
    settings: SlurmSettings,
    logging_dir: Path | str,
    job_name: str,
    depends: PipelineExecutor | None = None,
    cpus_per_task: int = 1,
    skip_completed: bool = True,
) -> PipelineExecutor:
    """datatrove's Slurm executor: `pipeline` as a job array of `tasks` array tasks (submitted by `run()`)."""
    from datatrove.executor.slurm import SlurmPipelineExecutor

    return SlurmPipelineExecutor(
        pipeline,
        tasks=tasks,
        time=settings.time,
        partition=settings.partition,
        cpus_per_task=cpus_per_task,
        mem_per_cpu_gb=settings.mem_per_cpu_gb,
        workers=settings.max_parallel,
        job_name=job_name,
        qos=settings.qos,
        env_command=settings.env_command,
        sbatch_args=dict(settings.sbatch_args),
        depends=depends,
        logging_dir=str(logging_dir),
        skip_completed=skip_completed,
        # Mail needs a user; datatrove only adds mail settings when one is given.
        mail_user=None,
    )


# --------------------------------------------------------------------------- commands as jobs


class CommandStep(PipelineStep):
    """A datatrove step that runs one command line and fails when it fails; yields no documents.

    It lets a job (e.g. a Slurm job chained after a job array) run a program's own entry point
    rather than unpickling and importing the caller's code.
    """

    type = "⚙️ - COMMAND"
    name = "run a command"

    def __init__(self, argv: list[str]) -> None:
        super().__init__()
        self.argv = list(argv)

    def run(self, data: Any = None, rank: int = 0, world_size: int = 1) -> Any:
        from datatrove.utils.logging import logger

        logger.info(f"running: {shlex.join(self.argv)}")
        subprocess.run(self.argv, check=True)
        yield from ()


def submit_slurm(executor: PipelineExecutor) -> None:
    """Submit `executor`'s jobs (and those it depends on) with sbatch; one-line errors when that fails."""
    from memtrain_data.pipeline.executor import datatrove_console_quiet

    try:
        with datatrove_console_quiet():
            executor.run()
    except FileNotFoundError as exc:
        raise ConfigError(f"--executor slurm: {exc.filename or 'sbatch'} not found; run this on a Slurm login node") from None
    except subprocess.CalledProcessError as exc:
        raise ConfigError(f"--executor slurm: sbatch refused the job (exit {exc.returncode}): {first_line(exc.output, empty='no output')}") from None

