"""`build_episodes` end to end: shards on disk, read back and checked against every rule."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from memtrain_data.build_config import BuildConfig, resolve_build_config
from memtrain_data.episodes.build import EpisodeBuildResult, EpisodeJob, build_episodes, work_paths
from memtrain_data.episodes.judge import JudgeSettings, judge_episode, split_violations
from memtrain_data.errors import ConfigError, InputError
from memtrain_data.records import SPLITS, MaskedReconstructionEpisode
from tests.episodes.pool_helpers import pool_rows, write_pool

# The invented pages name most things once: these build-mechanics tests need no evidence rule
# (test_issue10_rules.py builds with the default one).
SMALL = {
    "num_episodes": 6, "chunk_tokens": 200, "max_chunks": 4, "min_doc_tokens": 300, "max_doc_tokens": 800,
    "answer_evidence": "none",
}  # fmt: skip


class RecordingProgress:
    """A ProgressReporter that keeps what it was told."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.advanced: dict[str, int] = {}

    def start(self, stage: str, total: int | None = None) -> None:
        self.advanced.setdefault(stage, 0)

    def advance(self, stage: str, amount: int = 1) -> None:
        self.advanced[stage] = self.advanced.get(stage, 0) + amount

    def finish(self, stage: str) -> None:
        pass

    def log(self, message: str) -> None:
        self.lines.append(message)


def _config(output: Path, **flags: Any) -> BuildConfig:
    return resolve_build_config(None, {"output": output, "preset": "mini", **SMALL, **flags})


def read_episodes(folder: Path) -> list[MaskedReconstructionEpisode]:
    """Every record of every shard in `folder`, validated by the Pydantic model."""
    import pyarrow.parquet as pq

    return [
        MaskedReconstructionEpisode(**row)
        for path in sorted(folder.glob("*-of-*.parquet"))
        for row in pq.read_table(path).to_pylist()
    ]


def check_written_episodes(result: EpisodeBuildResult, config: BuildConfig, tokenizer: Any) -> list[MaskedReconstructionEpisode]:
    """Assert every rule of the issue on the files a build wrote; return the records."""
    from memtrain_data.episodes.chunking import count_tokens

    episodes = read_episodes(result.output)
    assert episodes
    for episode in episodes:
        assert episode.preset == config.preset and episode.seed == config.seed
        documents = config.episodes.documents
        settings = JudgeSettings(
            chunk_tokens=documents.chunk_tokens,
            max_chunks=documents.max_chunks,
            min_doc_tokens=documents.min_doc_tokens,
            max_doc_tokens=documents.max_doc_tokens,
            validation_fraction=config.episodes.validation_fraction,
            test_fraction=config.episodes.test_fraction,
        )
        assert judge_episode(episode, settings, count_tokens=lambda text: count_tokens(tokenizer, [text])[0]).violations == []
        assert episode.masked_forms and len(set(episode.masked_forms)) == len(episode.masked_forms)
        assert {p.chunk_index for p in episode.recall_probes} <= set(range(len(episode.chunks) - 1))
    assert split_violations((e.split, e.pivot_passage_id) for e in episodes) == []
    assert len({e.id for e in episodes}) == len(episodes)
    for split in SPLITS:
        in_files = sum(1 for e in episodes if e.split == split)
        assert in_files == result.stats["episodes"][split]
        for path in result.output.glob(f"{split}-*.parquet"):
            assert all(e.split == split for e in read_episodes_from(path))
    return episodes


def read_episodes_from(path: Path) -> list[MaskedReconstructionEpisode]:
    import pyarrow.parquet as pq

    return [MaskedReconstructionEpisode(**row) for row in pq.read_table(path).to_pylist()]


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.parquet"))}


def test_build_writes_valid_episodes_in_every_split(small_pool: Path, tokenizer: Any) -> None:
    config = _config(small_pool)
    progress = RecordingProgress()
    result = build_episodes(EpisodeJob.of(config), progress=progress)
    assert result.output == small_pool / "mini"
    episodes = check_written_episodes(result, config, tokenizer)
    assert len(episodes) == 6
    assert {e.split for e in episodes} == set(SPLITS)
    stats = result.stats
    assert stats["episodes_total"] == 6
    assert stats["masked_occurrences"] == sum(e.masked_occurrences for e in episodes)
    assert stats["recall_probes"] == sum(len(e.recall_probes) for e in episodes)
    assert stats["tokens"]["min"] == min(e.n_tokens for e in episodes)
    assert stats["tokens"]["max"] == max(e.n_tokens for e in episodes)
    assert stats["tokenizer"] == config.episodes.tokenizer and stats["retriever"] == "bm25" and stats["preset"] == "mini"
    assert stats["spacy_model"].startswith("en_core_web_sm")
    assert stats["index_bytes"] > 0
    assert progress.advanced["episodes"] == stats["tasks"]
    assert not any(line.startswith("warning") for line in progress.lines)


def test_written_folder_loads_with_datasets(small_pool: Path) -> None:
    from datasets import load_dataset

    build_episodes(EpisodeJob.of(_config(small_pool)))
    # Split names come from the shard names; the dataset card (publish) adds the named config.
    dataset = load_dataset(str(small_pool), data_dir="mini")
    assert set(dataset) == set(SPLITS)
    assert sum(len(part) for part in dataset.values()) == 6
    first = dataset["train"][0]
    assert first["question"].endswith("[MASK] placeholder?")
    assert isinstance(first["recall_probes"], list)


def test_same_command_gives_identical_files_and_a_rerun_skips_finished_tasks(small_pool: Path, tmp_path: Path) -> None:
    first = build_episodes(EpisodeJob.of(_config(small_pool)))
    before = {p.name: p.stat().st_mtime_ns for p in first.files}
    progress = RecordingProgress()
    again = build_episodes(EpisodeJob.of(_config(small_pool)), progress=progress)
    assert {p.name: p.stat().st_mtime_ns for p in again.files} == before
    assert any("already done" in line for line in progress.lines)
    assert again.stats["episodes"] == first.stats["episodes"]

    other = tmp_path / "other"
    write_pool(other)
    assert _digests(build_episodes(EpisodeJob.of(_config(other))).output) == _digests(first.output)


def test_an_interrupted_task_is_redone_and_the_result_is_identical(small_pool: Path) -> None:
    config = _config(small_pool)
    complete = build_episodes(EpisodeJob.of(config))
    digests = _digests(complete.output)
    paths = work_paths(EpisodeJob.of(config))
    # What a kill in the middle of task 1 leaves: no summary, no completion marker, no shards.
    (paths.logs / "completions" / "00001").unlink()
    paths.summary(1).unlink()
    for shard in complete.output.glob("*-00001-of-*.parquet"):
        shard.unlink()
    untouched = {p.name: p.stat().st_mtime_ns for p in complete.output.glob("*-00000-of-*.parquet")}
    resumed = build_episodes(EpisodeJob.of(config))
    assert _digests(resumed.output) == digests
    assert {p.name: p.stat().st_mtime_ns for p in resumed.output.glob("*-00000-of-*.parquet")} == untouched
    assert resumed.stats["episodes"] == complete.stats["episodes"]


def test_changed_settings_rebuild_instead_of_mixing(small_pool: Path) -> None:
    first = _digests(build_episodes(EpisodeJob.of(_config(small_pool))).output)
    progress = RecordingProgress()
    second = build_episodes(EpisodeJob.of(_config(small_pool, seed=5)), progress=progress)
    assert any("rebuilding" in line for line in progress.lines)
    assert all(e.seed == 5 for e in read_episodes(second.output))
    assert _digests(second.output) != first


@pytest.mark.slow
def test_worker_count_does_not_change_the_output(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write_pool(one)
    write_pool(two)
    single = build_episodes(EpisodeJob.of(_config(one, workers=1, num_episodes=6, probes_per_chunk=1)))
    double = build_episodes(EpisodeJob.of(_config(two, workers=2, num_episodes=6, probes_per_chunk=1)))
    assert single.stats["tasks"] == double.stats["tasks"] > 1
    assert _digests(single.output) == _digests(double.output)


def test_fewer_episodes_than_requested_are_announced(small_pool: Path) -> None:
    progress = RecordingProgress()
    result = build_episodes(EpisodeJob.of(_config(small_pool, num_episodes=80, probes_per_chunk=0)), progress=progress)
    assert result.stats["episodes_total"] < 80
    [warning] = [line for line in progress.lines if line.startswith("warning")]
    assert f"wrote {result.stats['episodes_total']} of 80" in warning


def test_pool_too_small_for_the_preset_says_how_many_are_needed(tmp_path: Path) -> None:
    write_pool(tmp_path, pool_rows()[:10])
    with pytest.raises(InputError, match=r"has 10 passages but one 'mini' episode needs 12"):
        build_episodes(EpisodeJob.of(_config(tmp_path)))


def test_missing_pool_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no passage pool"):
        build_episodes(EpisodeJob.of(_config(tmp_path)))


def test_unknown_entity_label_fails_before_any_work(small_pool: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown spaCy entity label\(s\) CITY.*valid labels: CARDINAL, DATE"):
        build_episodes(EpisodeJob.of(_config(small_pool, entity_labels=["GPE", "CITY"])))
    assert not work_paths(EpisodeJob.of(_config(small_pool))).logs.exists()


def test_tokenizer_that_cannot_load_offline_fails_before_workers_start(small_pool: Path) -> None:
    with pytest.raises(InputError, match="cannot load tokenizer 'no-such-org/no-such-tokenizer'") as raised:
        build_episodes(EpisodeJob.of(_config(small_pool, tokenizer="no-such-org/no-such-tokenizer")))
    assert "\n" not in str(raised.value)
    assert not work_paths(EpisodeJob.of(_config(small_pool))).logs.exists()


def test_slurm_is_refused_here_because_slurm_builds_run_this_stage_in_their_finish_job(small_pool: Path) -> None:
    with pytest.raises(ConfigError, match="finish job"):
        build_episodes(EpisodeJob.of(_config(small_pool, executor="slurm")))


def test_yaml_config_with_a_typo_is_a_config_error(tmp_path: Path) -> None:
    settings = tmp_path / "build.yaml"
    settings.write_text("preset: mini\nnum_episode: 10\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key 'num_episode' \(did you mean 'num_episodes'\?\)"):
        resolve_build_config(settings, {})


@pytest.fixture(scope="module")
def enwiki_output(enwiki_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder whose pool is the real pool build of the 60-article enwiki sample."""
    from memtrain_data.pool import build_passage_pool

    output = tmp_path_factory.mktemp("enwiki")
    build_passage_pool(resolve_build_config(None, {"output": output, "dump": [str(enwiki_sample)]}))
    return output


@pytest.mark.slow
def test_mini_preset_on_the_real_sample_meets_every_rule(enwiki_output: Path, tokenizer: Any) -> None:
    config = resolve_build_config(None, {"output": enwiki_output, "preset": "mini"})
    result = build_episodes(EpisodeJob.of(config))
    episodes = check_written_episodes(result, config, tokenizer)
    assert len(episodes) == config.num_episodes
    assert {e.split for e in episodes} == set(SPLITS)
    assert all(len(e.passage_ids) >= 12 and len(e.chunks) <= 4 for e in episodes)
    assert all(e.source == "enwiki-2016-sample.xml.bz2" for e in episodes)


@pytest.mark.slow
def test_paper_preset_on_the_real_sample_meets_every_rule(enwiki_output: Path, tokenizer: Any) -> None:
    config = resolve_build_config(None, {"output": enwiki_output, "preset": "paper", "num_episodes": 10})
    result = build_episodes(EpisodeJob.of(config))
    episodes = check_written_episodes(result, config, tokenizer)
    assert len(episodes) == 10
    for episode in episodes:
        assert 24_000 <= episode.n_tokens <= 40_960
        assert len(episode.chunks) <= 8 and max(episode.chunk_n_tokens) <= 5_120
        assert len(episode.passage_ids) >= 150 and len(episode.related_passage_ids) == 29
        assert len(episode.recall_probes) >= len(episode.chunks) - 1
