"""Where a build's datatrove pipelines run: this machine, a Slurm cluster, or a Ray cluster.

`make_executor` turns a pipeline (a list of datatrove steps) and a task count into the
executor `--executor` names. The pipeline and the number of tasks never depend on the
executor, so the same command writes the same shards everywhere; only where tasks run changes.

- `local`: datatrove's `LocalPipelineExecutor` (console logging kept off the terminal),
  `--workers` tasks at a time on this machine.
- `ray`: datatrove's `RayPipelineExecutor`, `--workers` tasks at a time, one CPU each. It joins
  the cluster named by `RAY_ADDRESS`, or starts a local one (`ray.init()`) when it is unset.
  `run()` blocks until every task is done, so the build runs exactly as with `local`: the
  driver (the `memtrain build-dataset` process) sequences pool → index → episodes → card.
  Needs the `ray` extra (`pip install 'memtrain[ray]'`).
- `slurm`: datatrove's `SlurmPipelineExecutor` (job arrays). `run()` only *submits* jobs, so
  a Slurm build cannot be sequenced in-process; `launch_slurm_build` chains it instead:

  1. the passage pool as one job array, one array task per input unit (a multistream dump
     gives one unit per byte range, so one 24 GB file feeds hundreds of array tasks);
  2. a *finish* job, one task with `--workers` CPUs, started by Slurm once the whole array
     succeeded (`--dependency=afterok`). It runs the rest of the build on one node exactly as
     the local executor would: the pool tasks are found complete and skipped, the BM25 index is
     built once, the episode tasks run on that node's cores, then the dataset card (and the
     optional Hub upload) is written.

  The episode stage stays on one node because its tasks read the pool view, the retrieval
  index and the pivot plan that the driver writes first; at paper scale (30k episodes) one
  node's cores are enough, whereas the pool (millions of pages) is what needs the array.
  Rerunning the same command resubmits only the pool tasks without a completion marker, and
  the finish job resumes whatever the episode stage left undone.

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
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datatrove.pipeline.base import PipelineStep

from memtrain_data.errors import ConfigError, MissingDependencyError

if TYPE_CHECKING:
    from datatrove.executor.base import PipelineExecutor

    from memtrain_data.build_config import BuildConfig
    from memtrain_data.progress import ProgressReporter

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


def make_executor(
    pipeline: list[Any],
    *,
    tasks: int,
    config: BuildConfig,
    logging_dir: Path | str,
    job_name: str,
    depends: PipelineExecutor | None = None,
    cpus_per_task: int = 1,
    skip_completed: bool = True,
    start_method: str = "forkserver",
) -> PipelineExecutor:
    """The datatrove executor `config.executor` names, running `pipeline` as `tasks` tasks.

    `logging_dir` holds datatrove's logs, per-task stats and completion markers (so a rerun
    skips finished tasks). `job_name` names the Slurm job; `depends` is an executor of the
    same kind that must finish first (Slurm: `afterok` dependency). `cpus_per_task` is what
    one task reserves on Slurm and Ray. `start_method` is how local worker processes start:
    `forkserver` (safe with torch and tokenizers) or `fork` (no re-imports in each worker).
    """
    if tasks < 1:
        raise ValueError(f"a pipeline needs at least one task, got {tasks}")
    if config.executor == "local":
        from memtrain_data.pipeline.executor import QuietLocalExecutor

        return QuietLocalExecutor(
            pipeline,
            tasks=tasks,
            workers=min(config.workers, tasks),
            logging_dir=str(logging_dir),
            depends=depends,
            skip_completed=skip_completed,
            start_method=start_method,
        )
    if config.executor == "ray":
        return _ray_executor(pipeline, tasks, config, logging_dir, depends, cpus_per_task, skip_completed)
    if config.executor == "slurm":
        return _slurm_executor(
            pipeline, tasks, SlurmSettings.from_env(), logging_dir, job_name, depends, cpus_per_task, skip_completed
        )
    raise ConfigError(f"unknown executor '{config.executor}'; choose one of: {', '.join(EXECUTORS)}")


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
    config: BuildConfig,
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
            workers=min(config.workers, tasks),
            depends=depends,
            skip_completed=skip_completed,
            logging_dir=str(logging_dir),
            cpus_per_task=cpus_per_task,
            mem_per_cpu_gb=float(os.environ.get("MEMTRAIN_RAY_MEM_PER_CPU_GB", "2")),
        )


def _slurm_executor(
    pipeline: list[Any],
    tasks: int,
    settings: SlurmSettings,
    logging_dir: Path | str,
    job_name: str,
    depends: PipelineExecutor | None,
    cpus_per_task: int,
    skip_completed: bool,
) -> PipelineExecutor:
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


# --------------------------------------------------------------------------- Slurm build


class _TaskLogProgress:
    """Progress of a build inside a Slurm job: its notes and warnings go to the job's task log."""

    def start(self, stage: str, total: int | None = None) -> None:
        from datatrove.utils.logging import logger

        logger.info(f"{stage}: started ({total} tasks)")

    def advance(self, stage: str, amount: int = 1) -> None:
        pass

    def finish(self, stage: str) -> None:
        from datatrove.utils.logging import logger

        logger.info(f"{stage}: done")

    def log(self, message: str) -> None:
        from datatrove.utils.logging import logger

        if message.startswith("warning"):
            logger.warning(message)
        else:
            logger.info(message)


class FinishBuildStep(PipelineStep):
    """datatrove step of the Slurm *finish* job: the whole build on one node, with local workers.

    It runs after the pool's job array, so the pool stage only merges the finished tasks'
    stats; the episode stage and the card run as in a local build. Yields no documents.
    """

    type = "🏁 - BUILD"
    name = "finish build (episodes, card)"

    def __init__(self, config: BuildConfig, command: str | None) -> None:
        super().__init__()
        self.config = config
        self.command = command

    def run(self, data: Any = None, rank: int = 0, world_size: int = 1) -> Any:
        from memtrain_data.build import build_dataset

        result = build_dataset(replace(self.config, executor="local"), progress=_TaskLogProgress(), command=self.command)
        self.stat_update("episodes_written", value=int(result.stats["configs"][self.config.config_name]["episodes_total"]))
        yield from ()


@dataclass
class SlurmLaunch:
    """What `launch_slurm_build` submitted: job ids (None when nothing was left to run) and where to look."""

    pool_job_id: str | None
    finish_job_id: str | None
    pool_tasks: int
    pool_tasks_to_run: int
    pool_logging_dir: Path
    finish_logging_dir: Path

    def as_stats(self) -> dict[str, Any]:
        return {
            "pool_job_id": self.pool_job_id or "none (all pool tasks complete)",
            "finish_job_id": self.finish_job_id or "none",
            "pool_tasks": self.pool_tasks,
            "pool_tasks_submitted": self.pool_tasks_to_run,
            "pool_launch_script": str(self.pool_logging_dir / "launch_script.slurm"),
            "finish_launch_script": str(self.finish_logging_dir / "launch_script.slurm"),
        }


def finish_logging_dir(output: Path, config_name: str) -> Path:
    return Path(output) / ".memtrain" / "logs" / f"slurm-finish-{config_name}"


def _absolute_inputs(config: BuildConfig) -> BuildConfig:
    """Paths made absolute: Slurm jobs may start in another working directory."""
    dumps = [str(Path(dump).resolve()) if Path(dump).exists() else dump for dump in config.dump]
    index = config.dump_index
    if index is not None and Path(index).exists():
        index = str(Path(index).resolve())
    return replace(config, output=Path(config.output).resolve(), dump=dumps, dump_index=index)


def launch_slurm_build(
    config: BuildConfig, progress: ProgressReporter | None = None, command: str | None = None
) -> SlurmLaunch:
    """Submit a build to Slurm: the pool as a job array, then the finish job (see the module doc).

    Returns at once with the job ids; `squeue` and the logs under `OUT/.memtrain/logs/` show
    the progress, and `OUT/stats.json` appears when the finish job is done.
    """
    from memtrain_data.pool import (
        _check_same_plan,
        _plan_record,
        plan_pool_input,
        pool_dir,
        pool_logging_dir,
        pool_pipeline,
    )
    from memtrain_data.progress import NullProgress

    progress = progress or NullProgress()
    config = _absolute_inputs(config)
    settings = SlurmSettings.from_env()
    plan = plan_pool_input(config)
    for note in plan.notes:
        progress.log(note)
    config.output.mkdir(parents=True, exist_ok=True)
    pool_logs = pool_logging_dir(config.output)
    _check_same_plan(pool_logs, _plan_record(plan, config), config.output)
    tasks = len(plan.units)
    pool_executor = _slurm_executor(
        pool_pipeline(plan, config, pool_dir(config.output)),
        tasks,
        settings,
        pool_logs,
        "memtrain-pool",
        None,
        1,
        True,
    )
    to_run = len(pool_executor.get_incomplete_ranks())
    finish_logs = finish_logging_dir(config.output, str(config.config_name))
    # The finish job always runs (no completion marker check): the build it runs resumes by itself.
    finish_executor = _slurm_executor(
        [FinishBuildStep(config, command)],
        1,
        settings,
        finish_logs,
        f"memtrain-finish-{config.config_name}",
        pool_executor,
        config.workers,
        False,
    )
    progress.log(f"slurm: submitting {to_run} of {tasks} pool task(s) as a job array, then the finish job")
    from memtrain_data.pipeline.executor import datatrove_console_quiet

    try:
        with datatrove_console_quiet():
            finish_executor.run()
    except FileNotFoundError as exc:
        raise ConfigError(f"--executor slurm: {exc.filename or 'sbatch'} not found; run this on a Slurm login node") from None
    except subprocess.CalledProcessError as exc:
        raise ConfigError(f"--executor slurm: sbatch refused the job (exit {exc.returncode}): {_first_line(exc.output)}") from None
    pool_job = None if pool_executor.job_id in (None, -1) else str(pool_executor.job_id)
    return SlurmLaunch(
        pool_job_id=pool_job,
        finish_job_id=str(finish_executor.job_id),
        pool_tasks=tasks,
        pool_tasks_to_run=to_run,
        pool_logging_dir=pool_logs,
        finish_logging_dir=finish_logs,
    )


def _first_line(output: bytes | str | None) -> str:
    text = output.decode("utf-8", "replace") if isinstance(output, bytes) else (output or "")
    return text.strip().splitlines()[0] if text.strip() else "no output"
