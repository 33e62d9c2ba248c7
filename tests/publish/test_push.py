"""`push_dataset`: the real huggingface_hub client against a real local HTTP Hub (tests/publish/hub_server.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from memtrain_data.errors import InputError
from memtrain_data.publish.card import REPO_ID_PLACEHOLDER
from memtrain_data.publish.push import (
    ATTEMPTS_ENV,
    TIMEOUT_ENV,
    PushError,
    check_push_target,
    plan_upload,
    push_dataset,
    retry_command,
    scrub_secrets,
)
from tests.publish.conftest import leave_answer_visible
from tests.publish.hub_server import FakeHub, SilentServer, point_client_at

TOKEN = "hf_TestTokenThatMustNeverBePrinted123"


def folder_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder`, working state included."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeHub]:
    """A running local Hub; the client in this process points at it, online, without Xet, with HF_TOKEN set."""
    hub = FakeHub(TOKEN).start()
    point_client_at(hub, monkeypatch, tmp_path, TOKEN)
    monkeypatch.setenv(ATTEMPTS_ENV, "2")  # one retry after a transient failure keeps the tests quick
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
    shards = {p.relative_to(built_dataset).as_posix() for p in built_dataset.glob("mini/*.parquet")}
    figures = {"mini/figures/episode_tokens.png", "mini/figures/entity_labels.png"}
    # The dataset and nothing else: no pool unless asked for, no working state.
    assert len(shards) == 6
    assert set(commit.files) == {"README.md", "stats.json", *shards, *figures}
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
    # A server error is transient: tried twice in all; a refused token is not worth a retry.
    assert sum(1 for r in fake_hub.requests if r.path == "/api/whoami-v2") == (2 if status == 500 else 1)


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
    with pytest.raises(PushError, match="no Hugging Face token to push to memtrain-org/episodes: set HF_TOKEN or run `hf auth login`, then retry: memtrain push "):
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


def test_retry_command_and_scrubbing() -> None:
    assert retry_command(Path("out"), "a/b", private=False, revision=None, create_pr=True) == "memtrain push out a/b --create-pr"
    assert retry_command(Path("out"), "a/b", private=True, revision=None, create_pr=False, include_pool=True) == "memtrain push out a/b --private --include-pool"
    assert scrub_secrets(f"Bearer {TOKEN} and hf_abcdefghijklmnop", TOKEN) == "Bearer *** and hf_***"


# --- Only the dataset goes up (issue 13.1) ------------------------------------------------------


def add_things_that_are_not_the_dataset(folder: Path, outside: Path) -> None:
    """What a careless user leaves in a dataset folder: a token in .env, a thesis, links out of the folder."""
    outside.mkdir()
    (outside / "private.txt").write_text("my private diary\n")
    (outside / "keys").mkdir()
    (outside / "keys" / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (folder / ".env").write_text(f"HF_TOKEN={TOKEN}\n")
    (folder / "thesis.txt").write_text("Chapter 1\n")
    (folder / "mini" / "train-00000-of-00002.parquet.tmp").write_bytes(b"partial write")
    (folder / "mini" / "figures" / "diary.png").symlink_to(outside / "private.txt")  # allow-listed name, outside target
    (folder / "notes.txt").symlink_to(outside / "private.txt")
    (folder / "keys").symlink_to(outside / "keys", target_is_directory=True)
    (folder / "pool" / "aliases-00000-of-00001.parquet").write_bytes((folder / "pool" / "passages-00000.parquet").read_bytes())


def test_plan_lists_the_dataset_and_leaves_out_everything_else_with_a_reason(built_dataset: Path, tmp_path: Path) -> None:
    add_things_that_are_not_the_dataset(built_dataset, tmp_path / "outside")

    plan = plan_upload(built_dataset)

    shards = sorted(p.relative_to(built_dataset).as_posix() for p in built_dataset.glob("mini/*-of-*.parquet"))
    assert plan.files == sorted(["README.md", "stats.json", *shards, "mini/figures/entity_labels.png", "mini/figures/episode_tokens.png"])
    assert plan.left_out[".env"] == "looks like a secret: never uploaded"
    assert plan.left_out["thesis.txt"] == "not part of the dataset"
    assert plan.left_out["mini/train-00000-of-00002.parquet.tmp"] == "not part of the dataset"
    for link in ("mini/figures/diary.png", "notes.txt", "keys"):
        assert plan.left_out[link] == "symlink to something outside the folder: not followed"
    assert plan.left_out["pool/passages-00000.parquet"] == "passage pool: upload it with --include-pool"
    assert plan.secrets == [".env"]
    assert not [path for path in [*plan.files, *plan.left_out] if path.startswith(".memtrain")]

    with_pool = plan_upload(built_dataset, include_pool=True, include_stats=False)
    assert {"pool/passages-00000.parquet", "pool/aliases-00000-of-00001.parquet"} <= set(with_pool.files)
    assert "stats.json" not in with_pool.files


def test_push_of_a_cluttered_folder_uploads_only_the_dataset(built_dataset: Path, tmp_path: Path, fake_hub: FakeHub, caplog: pytest.LogCaptureFixture) -> None:
    add_things_that_are_not_the_dataset(built_dataset, tmp_path / "outside")

    push_dataset(built_dataset, "memtrain-org/episodes", include_pool=True)

    uploaded = fake_hub.commits[0].files
    assert set(uploaded) == set(plan_upload(built_dataset, include_pool=True).files)
    assert "pool/aliases-00000-of-00001.parquet" in uploaded and "pool/passages-00000.parquet" in uploaded
    assert not {".env", "thesis.txt", "notes.txt", "mini/figures/diary.png"} & set(uploaded)
    sent = b"".join(request.body for request in fake_hub.requests)
    assert b"my private diary" not in sent and b"OPENSSH" not in sent and TOKEN.encode() not in sent
    assert "left out .env: it looks like a secret" in caplog.text


def test_a_token_inside_the_card_is_refused_before_anything_is_sent(built_dataset: Path, fake_hub: FakeHub) -> None:
    readme = built_dataset / "README.md"
    readme.write_text(readme.read_text() + f"\nUse token {TOKEN} to download.\n")

    with pytest.raises(PushError, match=r"README\.md holds what looks like a Hugging Face token") as raised:
        push_dataset(built_dataset, "memtrain-org/episodes")
    assert TOKEN not in str(raised.value)
    assert fake_hub.requests == []


# --- The target is checked first (issue 13.13) --------------------------------------------------


@pytest.mark.parametrize(
    "repo_id",
    ["not a repo", "episodes", "org/", "/name", "a/b/c", "org/-name", "org/name.", "org/na--me", "org/na..me", "org/name.git", "org/" + "x" * 97, "org/naïve"],
)
def test_check_push_target_refuses_ids_the_hub_refuses(repo_id: str, fake_hub: FakeHub) -> None:
    with pytest.raises(InputError, match="is not a Hub repo id") as raised:
        check_push_target(repo_id)
    assert "\n" not in str(raised.value)


def test_check_push_target_needs_a_token_and_sends_nothing(fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    check_push_target("memtrain-org/episodes.v2_x")
    monkeypatch.delenv("HF_TOKEN")

    with pytest.raises(PushError, match=r"^no Hugging Face token to push to memtrain-org/episodes: set HF_TOKEN or run `hf auth login`, then retry$"):
        check_push_target("memtrain-org/episodes")
    assert fake_hub.requests == []


# --- A Hub that never answers (issue 13.6) ------------------------------------------------------


def test_a_hub_that_accepts_and_never_answers_ends_in_bounded_time_with_the_retry_hint(
    built_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    server = SilentServer().start()
    point_client_at(server, monkeypatch, tmp_path, TOKEN)
    monkeypatch.setenv(TIMEOUT_ENV, "0.5")
    monkeypatch.setenv(ATTEMPTS_ENV, "2")
    failures: list[tuple[int, int, str]] = []
    started = time.monotonic()
    try:
        with pytest.raises(PushError) as raised:
            push_dataset(built_dataset, "memtrain-org/episodes", on_attempt_failed=lambda *args: failures.append(args))
    finally:
        server.stop()

    elapsed = time.monotonic() - started
    message = str(raised.value)
    assert elapsed < 10, f"push waited {elapsed:.1f} s on a silent Hub"
    assert server.accepted >= 2
    assert [f[:2] for f in failures] == [(1, 2)] and "did not answer in time" in failures[0][2]
    assert "after 2 attempts of at most 0.5 s per call" in message and "did not answer in time" in message
    assert message.endswith(f"retry with: memtrain push {built_dataset} memtrain-org/episodes") and "\n" not in message


@pytest.mark.parametrize("value", ["soon", "0", "-1", "inf"])
def test_bad_timeout_setting_is_one_line(built_dataset: Path, fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, value)
    with pytest.raises(InputError, match=TIMEOUT_ENV):
        push_dataset(built_dataset, "memtrain-org/episodes")
    assert fake_hub.requests == []


def test_a_config_folder_linked_from_outside_is_refused_not_half_uploaded(built_dataset: Path, tmp_path: Path, fake_hub: FakeHub) -> None:
    import shutil

    elsewhere = tmp_path / "elsewhere" / "mini"
    shutil.move(built_dataset / "mini", elsewhere)
    (built_dataset / "mini").symlink_to(elsewhere, target_is_directory=True)

    with pytest.raises(PushError, match=r"mini/train-00000-of-00002\.parquet lies outside .* \(through a symlink\), so it is never uploaded"):
        push_dataset(built_dataset, "memtrain-org/episodes")
    assert fake_hub.commits == []
