"""`push_dataset`: the real huggingface_hub client against a real local HTTP Hub (tests/publish/hub_server.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from memtrain_data.errors import InputError
from memtrain_data.publish.card import REPO_ID_PLACEHOLDER
from memtrain_data.publish.push import PushError, push_dataset, retry_command, scrub_secrets, upload_paths
from tests.publish.conftest import leave_answer_visible
from tests.publish.hub_server import FakeHub, point_client_at

TOKEN = "hf_TestTokenThatMustNeverBePrinted123"


def folder_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder`, working state included."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeHub]:
    """A running local Hub; the client in this process points at it, online, without Xet, with HF_TOKEN set."""
    hub = FakeHub(TOKEN).start()
    point_client_at(hub, monkeypatch, tmp_path, TOKEN)
    yield hub
    hub.stop()


def test_push_makes_exactly_one_commit_with_card_shards_and_stats(built_dataset: Path, fake_hub: FakeHub) -> None:
    url = push_dataset(built_dataset, "memtrain-org/episodes", private=True, revision=None, create_pr=False)

    assert len(fake_hub.commits) == 1
    commit = fake_hub.commits[0]
    assert url.endswith(f"/datasets/memtrain-org/episodes/commit/{commit.oid}")
    assert commit.repo_id == "memtrain-org/episodes" and commit.revision == "main" and not commit.create_pr
    assert fake_hub.repos["memtrain-org/episodes"].repo_type == "dataset"
    assert fake_hub.repos["memtrain-org/episodes"].private is True
    expected = set(upload_paths(built_dataset))
    assert set(commit.files) == expected
    shards = {p.relative_to(built_dataset).as_posix() for p in built_dataset.glob("mini/*.parquet")}
    assert len(shards) == 6 and shards <= expected
    assert {"README.md", "stats.json", "pool/passages-00000.parquet", "mini/figures/episode_tokens.png"} <= expected
    assert not any(path.startswith(".memtrain/") for path in commit.files)
    for path in shards | {"stats.json"}:
        assert commit.files[path] == (built_dataset / path).read_bytes()
    # The card names the repo it now lives in; the local card keeps its placeholder.
    card = commit.files["README.md"].decode()
    assert 'load_dataset("memtrain-org/episodes", "mini")' in card and REPO_ID_PLACEHOLDER not in card
    assert REPO_ID_PLACEHOLDER in (built_dataset / "README.md").read_text()
    # Parquet went through LFS (binary), the card as a regular file, as on the Hub.
    assert any(r.path.endswith(".git/info/lfs/objects/batch") for r in fake_hub.requests)
    assert sum(1 for r in fake_hub.requests if "/commit/" in r.path) == 1


def test_token_is_sent_but_never_recorded_outside_the_authorization_header(built_dataset: Path, fake_hub: FakeHub) -> None:
    push_dataset(built_dataset, "memtrain-org/episodes")
    for request in fake_hub.requests:
        assert TOKEN not in str(request.headers)
        assert TOKEN.encode() not in request.body


def test_pushed_dataset_validates_and_inspects_by_hub_id(built_dataset: Path, fake_hub: FakeHub) -> None:
    from memtrain_data.publish.inspect import load_episode
    from memtrain_data.publish.validate import validate_dataset

    push_dataset(built_dataset, "memtrain-org/episodes")
    report = validate_dataset("memtrain-org/episodes")

    assert report.ok, report.problems
    assert report.rows == {"mini": {"train": 6, "validation": 2, "test": 2}}
    assert report.folder != built_dataset
    downloaded = {r.path.split("/resolve/", 1)[1].split("/", 1)[1] for r in fake_hub.requests if r.method == "GET" and "/resolve/" in r.path}
    assert "README.md" in downloaded and "mini/test-00001-of-00002.parquet" in downloaded
    assert not [path for path in downloaded if path.startswith("pool/") or path.endswith(".png")]  # only what validation reads

    view = load_episode("memtrain-org/episodes", split="test", index=1)
    local = load_episode(built_dataset, split="test", index=1)
    assert view.episode == local.episode


def test_revision_creates_the_branch_and_commits_there(built_dataset: Path, fake_hub: FakeHub) -> None:
    push_dataset(built_dataset, "memtrain-org/episodes", revision="v1")

    assert any(r.path == "/api/datasets/memtrain-org/episodes/branch/v1" for r in fake_hub.requests)
    assert [c.revision for c in fake_hub.commits] == ["v1"]
    assert "README.md" in fake_hub.repos["memtrain-org/episodes"].branches["v1"]
    assert fake_hub.repos["memtrain-org/episodes"].branches["main"] == {}
    # Without --private the repo gets the namespace's default visibility: none is requested.
    create = next(r for r in fake_hub.requests if r.path == "/api/repos/create")
    assert json.loads(create.body) == {"name": "episodes", "organization": "memtrain-org", "type": "dataset"}


def test_create_pr_opens_a_pull_request_instead_of_writing_the_branch(built_dataset: Path, fake_hub: FakeHub) -> None:
    push_dataset(built_dataset, "memtrain-org/episodes")
    url = push_dataset(built_dataset, "memtrain-org/episodes", create_pr=True)

    assert url.endswith("/datasets/memtrain-org/episodes/discussions/2")
    assert [c.create_pr for c in fake_hub.commits] == [False, True]


@pytest.mark.parametrize(("status", "fail_path", "words"), [(401, None, "401"), (403, None, "403"), (500, "/commit/", "500")])
def test_failing_hub_leaves_the_folder_intact_and_says_how_to_retry(
    built_dataset: Path, fake_hub: FakeHub, status: int, fail_path: str | None, words: str
) -> None:
    before = folder_digest(built_dataset)
    fake_hub.fail_status, fake_hub.fail_path = status, fail_path

    with pytest.raises(PushError) as raised:
        push_dataset(built_dataset, "memtrain-org/episodes", private=True, revision="v2")

    message = str(raised.value)
    assert words in message and "\n" not in message
    assert f"retry with: memtrain push {built_dataset} memtrain-org/episodes --private --revision v2" in message
    assert TOKEN not in message
    assert folder_digest(built_dataset) == before
    assert fake_hub.commits == []


def test_wrong_token_is_reported_as_rejected(built_dataset: Path, fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_SomeOtherTokenNotKnownToTheHub99")
    with pytest.raises(PushError, match="rejected the token") as raised:
        push_dataset(built_dataset, "memtrain-org/episodes")
    assert "hf_SomeOtherTokenNotKnownToTheHub99" not in str(raised.value)


def test_unreachable_hub_is_a_one_line_error(built_dataset: Path, fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    fake_hub.stop()
    monkeypatch.setattr(constants, "ENDPOINT", fake_hub.endpoint)
    with pytest.raises(PushError, match="could not reach") as raised:
        push_dataset(built_dataset, "memtrain-org/episodes")
    assert "retry with: memtrain push" in str(raised.value)


def test_no_token_says_how_to_log_in_and_sends_nothing(built_dataset: Path, fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(PushError, match="no Hugging Face token: set HF_TOKEN or run `hf auth login`"):
        push_dataset(built_dataset, "memtrain-org/episodes")
    assert fake_hub.requests == []


def test_a_folder_that_fails_validation_is_not_uploaded(built_dataset: Path, fake_hub: FakeHub) -> None:
    leave_answer_visible(built_dataset)

    with pytest.raises(InputError, match=r"failed validation .* answer_leak"):
        push_dataset(built_dataset, "memtrain-org/episodes")
    assert fake_hub.requests == []


def test_bad_repo_id_is_an_input_error(built_dataset: Path) -> None:
    with pytest.raises(InputError, match="expected ORG/NAME"):
        push_dataset(built_dataset, "not a repo id")


def test_upload_paths_skip_working_state() -> None:
    assert retry_command(Path("out"), "a/b", private=False, revision=None, create_pr=True) == "memtrain push out a/b --create-pr"
    assert scrub_secrets(f"Bearer {TOKEN} and hf_abcdefghijklmnop", TOKEN) == "Bearer *** and hf_***"


def test_upload_paths_list_everything_but_the_working_state(built_dataset: Path) -> None:
    (built_dataset / "mini" / "train-00009.parquet.tmp").write_bytes(b"partial")
    paths = upload_paths(built_dataset)
    assert "README.md" in paths and "stats.json" in paths
    assert not [p for p in paths if p.startswith(".memtrain/") or p.endswith(".tmp")]
