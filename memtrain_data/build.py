"""`build_dataset`: dump → passage pool → episodes (with their retrieval index) → dataset card (→ Hub).

The one module that knows the whole build. Each stage is a plain function of its own part of
the build settings (`build_config.BuildConfig`) and the output folder, in its own package, and
can be run alone:

    memtrain_data.pool.build_passage_pool          OUT/pool/                   PoolRequest: input, PoolSettings, ExecutionSettings
    memtrain_data.episodes.build.build_episodes    OUT/.memtrain/index/, OUT/<config>/   EpisodeJob.of(config)
    memtrain_data.publish.write_card.write_dataset_card  OUT/README.md, OUT/<config>/figures/  the whole BuildConfig (for now)
    memtrain_data.publish.push.push_dataset        the Hub                     PublishSettings

This module checks the request and the folder before any stage starts, holds the folder's
lock while they run, sequences them, gathers their statistics into `OUT/stats.json`
(`memtrain_data.stats`), and chains them as Slurm jobs when `--executor slurm` is chosen.
Executors (`memtrain_data.pipeline.executors`) only know how to run a datatrove pipeline.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from memtrain_data.atomic import atomic_write_text
from memtrain_data.build_config import BuildConfig
from memtrain_data.config import assemble, config_to_dict
from memtrain_data.errors import InputError, MemtrainError, user_error_from_os_error
from memtrain_data.progress import NullProgress, ProgressReporter
from memtrain_data.stats import read_stats, write_stats

__all__ = ["BuildResult", "build_dataset", "finish_saved_build", "write_stats"]

# Counters of the pool's read stage that drop whole pages, and what they mean to a reader.
_PAGE_DROPS = {
    "redirects_dropped": "redirects",
    "disambiguations_dropped": "disambiguation pages",
    "other_namespaces_dropped": "outside the article namespace",
    "oversized_pages_dropped": "over max_page_bytes",
    "empty_pages_dropped": "empty",
    "pages_without_id_dropped": "without a page id",
}


@dataclass
class BuildResult:
    output: Path
    stats: dict[str, Any] = field(default_factory=dict)
    pushed_url: str | None = None


def build_dataset(
    config: BuildConfig,
    progress: ProgressReporter | None = None,
    command: str | None = None,
    *,
    overwrite: bool = False,
) -> BuildResult:
    """Run the whole build into `config.output`; reruns skip finished work.

    Everything that can be checked without building is checked first (settings, the Hub
    target when pushing, the output folder); then the folder is locked for the whole build.
    `overwrite` allows building in a non-empty folder that is not a memtrain build.
    """
    from memtrain_data.output_folder import output_lock, prepare_output

    progress = progress or NullProgress()
    if config.publish.push_to_hub:
        check_push_target(config.publish.push_to_hub)
    for note in prepare_output(config.output, config_name=str(config.config_name), overwrite=overwrite):
        progress.log(note)
    if config.execution.executor == "slurm":
        # Slurm runs the stages as jobs (the pool array, then a finish job): submit and return.
        with output_lock(config.output, command):
            launch = _prepare_slurm_build(config, progress, command)
        return BuildResult(output=config.output, stats={"slurm": launch.submit(progress)})
    with output_lock(config.output, command) as previous:
        if previous:
            progress.log(
                f"resuming after an interrupted build (pid {previous.get('pid')} on {previous.get('host')}, "
                f"started {previous.get('started')})"
            )
        try:
            return _run_stages(config, progress, command)
        except MemtrainError:
            raise
        except (OSError, RuntimeError) as exc:
            # A full disk or an unwritable folder outside a stage's tasks (stats, the card) is still the user's.
            user_error = user_error_from_os_error(exc, str(config.output))
            if user_error is None:
                raise
            raise user_error from exc


def check_push_target(repo_id: str) -> None:
    """Refuse a bad Hub repo id or a missing token before hours of building (the publish stage's check)."""
    from memtrain_data.publish.push import check_push_target as check

    check(repo_id)


def _run_stages(config: BuildConfig, progress: ProgressReporter, command: str | None) -> BuildResult:
    from memtrain_data.episodes.build import EpisodeJob, build_episodes, passages_per_episode
    from memtrain_data.pool import build_passage_pool
    from memtrain_data.publish.write_card import write_dataset_card

    # Each stage reads its own part: the pool its input, PoolSettings and ExecutionSettings
    # (`pool.PoolRequest`), the episodes their `EpisodeJob`. The card still reads the whole config.
    pool = build_passage_pool(config, progress=progress)
    write_stats(config.output, "pool", pool.stats)
    check_pool_is_usable(pool.stats, passages_per_episode(config.episodes.documents), config.preset)
    episodes = build_episodes(EpisodeJob.of(config), progress=progress)
    stats = write_stats(config.output, "configs", {config.config_name: episodes.stats})
    write_dataset_card(config, stats=stats, command=command)
    # The card adds per-split statistics to stats.json; report those too.
    result = BuildResult(output=config.output, stats=read_stats(config.output))
    publish = config.publish
    if publish.push_to_hub:
        from memtrain_data.publish.push import push_dataset

        result.pushed_url = push_dataset(
            config.output,
            publish.push_to_hub,
            private=publish.private,
            revision=publish.revision,
            create_pr=publish.create_pr,
        )
    return result


# --------------------------------------------------------------------------- an unusable pool


def check_pool_is_usable(pool_stats: dict[str, Any], needed: int, preset: str) -> None:
    """Refuse a pool too small for one episode, saying what the input's pages became and why."""
    passages = int(pool_stats.get("write", {}).get("passages_written", 0))
    if passages >= needed:
        return
    what = "empty" if passages == 0 else f"too small: {passages} passage(s), and one '{preset}' episode needs {needed}"
    hint = "use a dump with more articles"
    if preset != "mini":
        hint += " or --preset mini (smaller episodes)"
    raise InputError(f"the passage pool is {what}: {describe_pool_input(pool_stats)}; {hint}")


def describe_pool_input(pool_stats: dict[str, Any]) -> str:
    """What became of the input's pages, e.g. "all 40 pages were redirects"."""
    read = pool_stats.get("read", {})
    pages = int(read.get("pages_read", 0))
    problems = [
        f"{read[key]} {label}"
        for key, label in (
            ("xml_errors", "XML error(s) ended reading early"),
            ("truncated_files", "truncated file(s)"),
            ("decompress_errors", "corrupt compressed stream(s)"),
        )
        if read.get(key)
    ]
    if pages == 0:
        text = "no page was read from the input"
        return f"{text} ({'; '.join(problems)})" if problems else text
    drops = sorted(((int(read.get(key, 0)), label) for key, label in _PAGE_DROPS.items() if read.get(key)), reverse=True)
    skipped = {key.removeprefix("skipped_"): int(value) for key, value in pool_stats.get("extract", {}).items() if key.startswith("skipped_") and value}
    drops += sorted(((count, f"skipped ({reason.replace('_', ' ')})") for reason, count in skipped.items()), reverse=True)
    if len(drops) == 1 and drops[0][0] == pages:
        text = f"all {pages:,} pages were {drops[0][1]}"
    else:
        articles = int(read.get("articles", 0)) - sum(skipped.values())
        dropped = ", ".join(f"{count:,} {label}" for count, label in drops) or "none"
        text = f"of {pages:,} pages read, {max(articles, 0):,} were usable articles (dropped: {dropped})"
        if articles > 0 and not pool_stats.get("write", {}).get("passages_written"):
            text += "; their text gave no passage of min_passage_words words"
    return f"{text}; {'; '.join(problems)}" if problems else text


# --------------------------------------------------------------------------- Slurm


@dataclass
class SlurmBuildLaunch:
    """The two job submissions of a Slurm build (see `pipeline/executors.py` for how they run)."""

    pool_executor: Any
    finish_executor: Any
    pool_tasks: int
    pool_logging_dir: Path
    finish_logging_dir: Path

    def submit(self, progress: ProgressReporter) -> dict[str, Any]:
        from memtrain_data.pipeline.executors import submit_slurm

        to_run = len(self.pool_executor.get_incomplete_ranks())
        progress.log(f"slurm: submitting {to_run} of {self.pool_tasks} pool task(s) as a job array, then the finish job")
        submit_slurm(self.finish_executor)
        pool_job = self.pool_executor.job_id
        return {
            "pool_job_id": "none (all pool tasks complete)" if pool_job in (None, -1) else str(pool_job),
            "finish_job_id": str(self.finish_executor.job_id),
            "pool_tasks": self.pool_tasks,
            "pool_tasks_submitted": to_run,
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


def _prepare_slurm_build(config: BuildConfig, progress: ProgressReporter, command: str | None) -> SlurmBuildLaunch:
    """The pool as a job array, then one *finish* job that runs `memtrain build-dataset` with the
    saved settings on one node (the pool tasks are then found complete and skipped)."""
    from memtrain_data.pipeline.executors import CommandStep, SlurmSettings, slurm_executor
    from memtrain_data.pool import (
        check_same_plan,
        plan_pool_input,
        plan_record,
        pool_dir,
        pool_logging_dir,
        pool_pipeline,
    )

    config = _absolute_inputs(config)
    settings = SlurmSettings.from_env()
    plan = plan_pool_input(config)
    for note in plan.notes:
        progress.log(note)
    pool_logs = pool_logging_dir(config.output)
    check_same_plan(pool_logs, plan_record(plan, config.pool), config.output)
    tasks = len(plan.units)
    pool_executor = slurm_executor(
        pool_pipeline(plan, config.pool, pool_dir(config.output)), tasks=tasks, settings=settings, logging_dir=pool_logs,
        job_name="memtrain-pool",
    )
    finish_logs = finish_logging_dir(config.output, str(config.config_name))
    on_one_node = replace(config, execution=replace(config.execution, executor="local"))
    request = save_build_request(on_one_node, command, finish_logs / "request.json")
    finish_command = [sys.executable, "-m", "memtrain_cli", "build-dataset", "--finish-saved-build", str(request)]
    # The finish job always runs (no completion marker check): the build it runs resumes by itself.
    finish_executor = slurm_executor(
        [CommandStep(finish_command)], tasks=1, settings=settings, logging_dir=finish_logs,
        job_name=f"memtrain-finish-{config.config_name}", depends=pool_executor, cpus_per_task=config.execution.workers,
        skip_completed=False,
    )
    return SlurmBuildLaunch(pool_executor, finish_executor, tasks, pool_logs, finish_logs)


def save_build_request(config: BuildConfig, command: str | None, path: Path) -> Path:
    """The settings (and the user's command line, for the card) of a build to finish elsewhere.

    The settings are saved flat, as a YAML file gives them (`config_to_dict`), so a request saved
    by an older version, before the settings were split into parts, reads back the same way.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"config": config_to_dict(config), "command": command}, indent=2) + "\n")
    return path


def finish_saved_build(request: Path, progress: ProgressReporter | None = None) -> BuildResult:
    """Run a build from `save_build_request`'s file: what a Slurm build's finish job does."""
    saved = json.loads(Path(request).read_text(encoding="utf-8"))
    return build_dataset(assemble(BuildConfig, saved["config"]), progress=progress, command=saved.get("command"))
