"""Settings a build refuses before it writes anything: unsafe config names, out-of-range numbers,
an unusable Hub target."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.helpers import assert_one_line_error, run_cli, tree


@pytest.mark.parametrize(
    "name",
    ["../../victim/mini", "../victim", "a/b", "a\\b", "pool", "POOL", ".memtrain", "", ".", "..", "-x", "x..y", "README.md",
     "stats.json", "x" * 65, "mini\n"],
)  # fmt: skip
def test_an_unsafe_or_reserved_config_name_is_refused_and_nothing_is_written(tmp_path: Path, name: str) -> None:
    victim = tmp_path / "victim" / "mini"
    victim.mkdir(parents=True)
    (victim / "train-00000-of-00001.parquet").write_bytes(b"another dataset's shard")
    before = tree(tmp_path)

    result = run_cli("build-dataset", "--output", tmp_path / "a" / "b" / "out", "--config-name", name)

    assert_one_line_error(result, "config name")
    assert tree(tmp_path) == before
    assert not (tmp_path / "a").exists(), "nothing may be created for a refused build"


@pytest.mark.parametrize("name", ["mini", "paper", "mini-2016", "20231101.en", "my_config"])
def test_ordinary_config_names_are_accepted(name: str) -> None:
    from memtrain_data.build_config import BuildConfig

    assert BuildConfig(config_name=name).config_name == name


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--seed", str(2**64)], "seed must be between 0 and"),
        (["--seed", "99999999999999999999999"], "seed must be between 0 and"),
        (["--seed", "-1"], "seed must be between 0 and"),
        (["--pool-size", "0"], "pool_size must be at least 1"),
        (["--num-episodes", "0"], "num_episodes must be at least 1"),
    ],
)
def test_out_of_range_numbers_on_the_command_line_fail_up_front(tmp_path: Path, args: list[str], fragment: str) -> None:
    result = run_cli("build-dataset", "--output", tmp_path / "out", *args)

    assert_one_line_error(result, fragment)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("yaml_line", "fragment"),
    [
        ("max_page_bytes: -5", "max_page_bytes must be at least 1, got -5"),
        ("page_timeout_s: 0", "page_timeout_s must be above 0"),
        ("pages_per_task: 0", "pages_per_task must be at least 1"),
    ],
)
def test_out_of_range_numbers_in_a_yaml_config_fail_up_front(tmp_path: Path, yaml_line: str, fragment: str) -> None:
    config = tmp_path / "build.yaml"
    config.write_text(yaml_line + "\n")

    result = run_cli("build-dataset", "--output", tmp_path / "out", "--config", config)

    assert_one_line_error(result, fragment)
    assert not (tmp_path / "out").exists()


def test_a_bad_push_target_is_refused_before_building(tmp_path: Path) -> None:
    result = run_cli("build-dataset", "--output", tmp_path / "out", "--push-to-hub", "not a repo")

    assert_one_line_error(result, "not a repo")
    assert not (tmp_path / "out").exists(), "the check runs before any stage"


def test_a_missing_hub_token_is_refused_before_building(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-login" / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no-login" / "stored_tokens"))
    monkeypatch.delenv("HF_TOKEN", raising=False)

    result = run_cli("build-dataset", "--output", tmp_path / "out", "--push-to-hub", "memtrain-org/episodes")

    assert_one_line_error(result, "no Hugging Face token to push to memtrain-org/episodes")
    assert not (tmp_path / "out").exists(), "the check runs before any stage"


def test_the_episode_task_count_stays_bounded_whatever_is_requested() -> None:
    from memtrain_data.episodes.build import MAX_EPISODES_PER_TASK, MIN_EPISODES_PER_TASK, num_tasks

    assert num_tasks(1) == 1
    assert num_tasks(24) == 5, "small requests keep small tasks (several workers get work)"
    assert num_tasks(30_000) <= 256, "the paper's 30k episodes: a few hundred shards, not 6,000"
    for requested in (10, 999, 30_000, 10**6, 10**8, 10**20):
        tasks = num_tasks(requested)
        assert MIN_EPISODES_PER_TASK * (tasks - 1) < requested <= MAX_EPISODES_PER_TASK * tasks
