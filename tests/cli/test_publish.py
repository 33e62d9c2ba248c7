"""`memtrain validate`, `memtrain inspect` and `memtrain push` from the command line.

`push` runs as a real subprocess with HF_ENDPOINT pointing at the local Hub of
tests/publish/hub_server.py, exactly as a user would run it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memtrain_cli.app import app
from tests.publish.conftest import leave_answer_visible, write_card, write_dataset
from tests.publish.hub_server import FakeHub, point_client_at

runner = CliRunner()
WIDE = {"COLUMNS": "220"}
TOKEN = "hf_CliTestTokenThatMustStaySecret42"


@pytest.fixture(scope="module")
def built_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_dataset(tmp_path_factory.mktemp("cli-built") / "dataset")
    write_card(folder)
    return folder


@pytest.fixture
def built_dataset(built_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of a built folder (config `mini`, card written) for each test."""
    return Path(shutil.copytree(built_template, tmp_path / "built"))


def test_validate_passes_a_fresh_folder(built_dataset: Path) -> None:
    result = runner.invoke(app, ["validate", str(built_dataset)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "valid: 10 episodes, no problems" in result.output


def test_validate_fails_naming_the_row_and_the_reason(built_dataset: Path) -> None:
    episode_id = leave_answer_visible(built_dataset, "mini/train-00001-of-00002.parquet", row=1)

    result = runner.invoke(app, ["validate", str(built_dataset)], env=WIDE)

    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if episode_id in line)
    # The row names the file, row 1, the id and the reason; cells fold (never cut) on a narrow terminal.
    assert re.search(r"mini/train-0000\S*\s+│\s+1\s+│\s+" + episode_id + r"\s+│\s+answer_leak:", line), line
    assert "chunk 2" in result.output
    assert "invalid: 1 problems in 1 of 10 rows (answer_leak 1)" in result.output


def test_validate_report_prints_the_quality_table_and_json_for_comparing_builds(built_dataset: Path) -> None:
    import json

    result = runner.invoke(app, ["validate", str(built_dataset), "--report"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "quality of config mini" in result.output
    # Cells fold on a narrow terminal (the console's width is fixed when it is created), so the
    # rendered table is checked for its rows and the figures through --json.
    for row in ("partial-mask", "visible-alias", "passages per", "tokens per"):
        assert row in result.output

    as_json = runner.invoke(app, ["validate", str(built_dataset), "--json"], env=WIDE)
    assert as_json.exit_code == 0, as_json.output
    payload = json.loads(as_json.output)
    assert payload["ok"] is True and payload["rows"] == {"mini": {"train": 6, "validation": 2, "test": 2}}
    assert payload["quality"]["mini"]["splits"]["test"]["cross_split_documents"] == 0
    train = payload["quality"]["mini"]["splits"]["train"]
    assert train["partial_mask_rate"] == 0.0
    assert train["passages_per_document"] == {"min": 3, "mean": 3.0, "max": 3}


def test_validate_json_of_an_invalid_folder_exits_1_with_the_counts(built_dataset: Path) -> None:
    import json

    leave_answer_visible(built_dataset, "mini/train-00001-of-00002.parquet", row=1)
    result = runner.invoke(app, ["validate", str(built_dataset), "--json"], env=WIDE)
    assert result.exit_code == 1
    assert json.loads(result.output)["problems_by_code"] == {"answer_leak": 1}


def test_validate_missing_folder_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope")], env=WIDE)
    assert result.exit_code == 2
    assert "no such folder" in result.output and "Traceback" not in result.output


def test_inspect_renders_one_episode(built_dataset: Path) -> None:
    result = runner.invoke(app, ["inspect", str(built_dataset), "--config-name", "mini", "--split", "test", "--index", "1"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "mini/test #1 of 2" in result.output
    assert "chunk 1/3" in result.output and "chunk 3/3" in result.output
    assert "[MASK]" in result.output and "[TARGET]" in result.output and "answer:" in result.output


def test_inspect_bad_index_is_one_line(built_dataset: Path) -> None:
    result = runner.invoke(app, ["inspect", str(built_dataset), "--index", "99"], env=WIDE)
    assert result.exit_code == 2
    assert "index 99 is out of range" in result.output


# ------------------------------------------------------------------------------------------ push


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    server = FakeHub(TOKEN).start()
    yield server
    server.stop()


def _push_env(hub: FakeHub, tmp_path: Path) -> dict[str, str]:
    # A controlled environment: huggingface_hub also reads TRANSFORMERS_OFFLINE as offline mode.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING_FACE", "TRANSFORMERS_", "MEMTRAIN_"))}
    # One attempt: retries are tested against the library (tests/publish/test_push.py); here they would only cost time.
    return env | {"HF_ENDPOINT": hub.endpoint, "HF_HUB_DISABLE_XET": "1", "HF_HOME": str(tmp_path / "hf-home"), "COLUMNS": "220", "MEMTRAIN_HUB_ATTEMPTS": "1"}


def _push(folder: Path, hub: FakeHub, tmp_path: Path, *args: str, token: str | None = TOKEN) -> subprocess.CompletedProcess[str]:
    env = _push_env(hub, tmp_path)
    if token:
        env["HF_TOKEN"] = token
    command = [sys.executable, "-m", "memtrain_cli", "push", str(folder), "memtrain-org/episodes", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_push_uploads_one_commit_and_never_prints_the_token(built_dataset: Path, hub: FakeHub, tmp_path: Path) -> None:
    result = _push(built_dataset, hub, tmp_path, "--private")

    assert result.returncode == 0, result.stderr
    assert len(hub.commits) == 1
    files = set(hub.commits[0].files)
    shards = {p.relative_to(built_dataset).as_posix() for p in built_dataset.glob("mini/*.parquet")}
    assert {"README.md", "stats.json"} | shards <= files
    assert not [f for f in files if f.startswith(".memtrain/")]
    assert f"pushed: {hub.endpoint}/datasets/memtrain-org/episodes/commit/{hub.commits[0].oid}" in result.stdout.replace("\n", "")
    assert TOKEN not in result.stdout + result.stderr


def test_push_to_a_failing_hub_exits_non_zero_with_a_retry_hint(built_dataset: Path, hub: FakeHub, tmp_path: Path) -> None:
    before = _digest(built_dataset)
    hub.fail_status, hub.fail_path = 500, "/commit/"

    result = _push(built_dataset, hub, tmp_path, "--create-pr")

    assert result.returncode == 2
    assert "500" in result.stderr and f"retry with: memtrain push {built_dataset} memtrain-org/episodes --create-pr" in result.stderr.replace("\n", "")
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stdout + result.stderr
    assert _digest(built_dataset) == before
    assert hub.commits == []


def test_push_without_a_token_says_how_to_log_in(built_dataset: Path, hub: FakeHub, tmp_path: Path) -> None:
    result = _push(built_dataset, hub, tmp_path, token=None)
    assert result.returncode == 2
    assert "no Hugging Face token to push to memtrain-org/episodes: set HF_TOKEN or run `hf auth login`" in result.stderr.replace("\n", "")
    assert hub.requests == []


def test_push_dry_run_lists_the_upload_and_what_is_left_out_and_sends_nothing(built_dataset: Path, hub: FakeHub, tmp_path: Path) -> None:
    (built_dataset / ".env").write_text(f"HF_TOKEN={TOKEN}\n")
    (built_dataset / "thesis.txt").write_text("Chapter 1\n")
    (tmp_path / "outside.txt").write_text("private\n")
    (built_dataset / "link.txt").symlink_to(tmp_path / "outside.txt")

    result = _push(built_dataset, hub, tmp_path, "--dry-run", token=None)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "would upload 10 files" in out and "README.md" in out and "mini/test-00001-of-00002.parquet" in out
    assert "left out .env: looks like a secret: never uploaded" in out
    assert "left out thesis.txt: not part of the dataset" in out
    assert "left out link.txt: symlink to something outside the folder: not followed" in out
    assert "left out pool/passages-00000.parquet: passage pool: upload it with --include-pool" in out
    assert "look like secrets" in result.stderr and "dry run: nothing was sent" in out
    assert hub.requests == [] and TOKEN not in out + result.stderr


def test_push_of_a_bad_repo_id_fails_before_anything_else(built_dataset: Path, hub: FakeHub, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "memtrain_cli", "push", str(built_dataset), "not a repo"],
        env={**_push_env(hub, tmp_path), "HF_TOKEN": TOKEN}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "'not a repo' is not a Hub repo id" in result.stderr and "Traceback" not in result.stderr
    assert hub.requests == []


@pytest.mark.slow
def test_build_dataset_with_push_to_hub_publishes_a_valid_loadable_folder(
    tmp_path: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`memtrain build-dataset --preset mini --push-to-hub ORG/NAME` end to end, on the real builder."""
    import importlib.util
    import json

    if importlib.util.find_spec("memtrain_data.episodes.build") is None or importlib.util.find_spec("memtrain_data.pool") is None:
        pytest.skip("the episode builder (memtrain_data.episodes.build) is not in this checkout yet")
    from datasets import load_dataset

    from memtrain_data.features import episode_features
    from memtrain_data.publish.validate import validate_dataset

    point_client_at(hub, monkeypatch, tmp_path, TOKEN)
    output = tmp_path / "mini-build"
    arguments = ["build-dataset", "--preset", "mini", "--output", str(output), "--push-to-hub", "memtrain-org/mini"]
    monkeypatch.setattr("sys.argv", ["memtrain", *arguments])  # the CLI records the command it was run with
    built = runner.invoke(app, arguments, env=WIDE)
    assert built.exit_code == 0, built.output
    assert TOKEN not in built.output

    # One commit with the card, stats and every shard; no working state.
    [commit] = hub.commits
    shards = {p.relative_to(output).as_posix() for p in output.glob("mini/*.parquet")}
    assert {"README.md", "stats.json"} | shards <= set(commit.files)
    assert not [f for f in commit.files if f.startswith(".memtrain/")]
    assert f"pushed: {hub.endpoint}/datasets/memtrain-org/mini/commit/{commit.oid}" in built.output.replace("\n", "")

    # The fresh build passes validation, loads with the declared features, and its card describes it.
    report = validate_dataset(output)
    assert report.ok, report.problems[:5]
    stats = json.loads((output / "stats.json").read_text())["configs"]["mini"]
    assert report.rows_checked == sum(stats["episodes"].values())
    dataset = load_dataset(str(output), "mini", cache_dir=str(tmp_path / "cache"))
    assert list(dataset) == ["train", "validation", "test"]
    assert dataset["train"].features == episode_features()
    card = (output / "README.md").read_text()
    assert f"| command | `memtrain build-dataset --preset mini --output {output} --push-to-hub memtrain-org/mini` |" in card
    model_name, model_version = stats["spacy_model"].rsplit("-", 1)
    assert f"| spaCy model | {model_name} {model_version} (spaCy 3." in card
    assert stats["splits"]["train"]["tokens_per_episode"]["max"] == max(dataset["train"]["n_tokens"])
    assert f"| episodes | {dataset['train'].num_rows} | {dataset['validation'].num_rows} | {dataset['test'].num_rows} |" in card
    assert 'load_dataset("memtrain-org/mini", "mini")' in commit.files["README.md"].decode()

    # One record tampered (answer left visible): validation names it, and only it.
    shard = sorted(shards)[0]
    episode_id = leave_answer_visible(output, shard, row=0)
    result = runner.invoke(app, ["validate", str(output)], env=WIDE)
    assert result.exit_code == 1
    tampered = validate_dataset(output)
    assert [(p.file, p.row, p.episode_id, p.code) for p in tampered.problems] == [(shard, 0, episode_id, "answer_leak")]
