"""`push_dataset`: upload the dataset in a folder to the Hugging Face Hub in one commit.

Only what the dataset is goes up, by an allow-list (`plan_upload`): the card (README.md),
`stats.json`, every config's declared split shards and its figures, and the passage pool
(passages and alias tables) only when asked for. Anything else in the folder (a `.env`, notes,
the working state `.memtrain/`) is left out and listed, with a warning for names that look like
secrets; a symlink that points outside the folder is never followed. `dry_run` only plans.

Before anything is sent: the repo id is checked against the Hub's rules and a token must be
available (`check_push_target`, also called before a build with `--push-to-hub`), and the
folder is validated. Every Hub call has a bounded timeout and a bounded number of attempts
(`MEMTRAIN_HUB_TIMEOUT_S`, `MEMTRAIN_HUB_ATTEMPTS`), so a Hub that accepts and never answers
ends in one `PushError` line with the command to retry. The token is never printed, and any
error message is scrubbed of it. Nothing in the local folder is ever written by a push.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import shlex
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from memtrain_data.errors import InputError, MemtrainError, first_line
from memtrain_data.publish.card import REPO_ID_PLACEHOLDER
from memtrain_data.publish.layout import (
    FIGURES_DIR,
    POOL_DIR,
    README_NAME,
    STATS_NAME,
    WORKING_STATE_DIR,
    find_configs,
)

if TYPE_CHECKING:
    from huggingface_hub import CommitOperationAdd

logger = logging.getLogger(__name__)

# Hugging Face tokens look like hf_ followed by letters and digits; scrub any, not only ours.
_TOKEN_PATTERN = re.compile(r"hf_[A-Za-z0-9]{8,}")
# File names that usually hold credentials. They are never in the allow-list anyway; naming
# them in a warning tells the user the folder holds something that should not be there.
SECRET_NAME_PATTERNS = (
    ".env", ".env.*", "*.env", "*token*", "*secret*", "*password*", "*credential*", "id_rsa*", "id_dsa*",
    "id_ecdsa*", "id_ed25519*", "*.pem", "*.key", "*.p12", "*.pfx", ".netrc", ".npmrc", ".pypirc", ".git-credentials",
)  # fmt: skip
# Pool files a push may include with `include_pool` (contract 1: passages and alias tables).
POOL_PATTERNS = ("passages-*.parquet", "aliases-*.parquet")

# Hub calls: seconds to wait for a connection or an answer, and attempts per push.
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_ATTEMPTS = 3
TIMEOUT_ENV = "MEMTRAIN_HUB_TIMEOUT_S"
ATTEMPTS_ENV = "MEMTRAIN_HUB_ATTEMPTS"

# Hub repo names: letters, digits, "-", "_", "."; no "--" or ".."; not starting or ending
# with "-" or "."; at most 96 characters; not ending in ".git".
_REPO_PART = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
MAX_REPO_NAME_LENGTH = 96


class PushError(MemtrainError):
    """The upload failed; the local folder is unchanged and the message says how to retry."""


# ---------------------------------------------------------------------------------------------
# What goes up


@dataclass
class UploadPlan:
    """What a push uploads (repo-relative paths, sorted) and what it leaves out, with why."""

    folder: Path
    files: list[str] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum((self.folder / path).stat().st_size for path in self.files)

    @property
    def secrets(self) -> list[str]:
        """Left-out files whose names look like credentials (worth a warning)."""
        return [path for path, why in self.left_out.items() if why.startswith("looks like a secret")]


def looks_like_secret(name: str) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in SECRET_NAME_PATTERNS)


def _inside(path: Path, root: Path) -> bool:
    """True when `path`, with every symlink resolved, is a regular file inside `root`."""
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):  # broken link or a loop
        return False
    return resolved.is_file() and resolved.is_relative_to(root)


def plan_upload(folder: Path, *, include_pool: bool = False, include_stats: bool = True) -> UploadPlan:
    """The allow-list of files a push of `folder` uploads, and every other file with the reason it stays.

    Uploaded: README.md, stats.json (unless `include_stats` is False), `<config>/<split>-*.parquet`
    and `<config>/figures/*.png` of every config, and with `include_pool` the pool's passage and
    alias shards. A file is uploaded only when it (after resolving symlinks) lies inside the folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such dataset folder")
    root = folder.resolve()
    wanted: set[str] = {README_NAME}
    if include_stats:
        wanted.add(STATS_NAME)
    for config_name, splits in find_configs(folder).items():
        wanted.update(path.relative_to(folder).as_posix() for paths in splits.values() for path in paths)
        wanted.update(path.relative_to(folder).as_posix() for path in (folder / config_name / FIGURES_DIR).glob("*.png"))
    pool_files = {path.relative_to(folder).as_posix() for pattern in POOL_PATTERNS for path in (folder / POOL_DIR).glob(pattern)}
    if include_pool:
        wanted |= pool_files

    plan = UploadPlan(folder=folder)
    for path in _walk_without_following_links(folder):
        relative = path.relative_to(folder).as_posix()
        if relative.split("/", 1)[0] == WORKING_STATE_DIR:
            continue  # the builder's own state: not worth a line
        if path.is_symlink() and not _inside(path, root):
            plan.left_out[relative] = "symlink to something outside the folder: not followed"
        elif relative in wanted:
            plan.files.append(relative)
        elif any(looks_like_secret(part) for part in relative.split("/")):
            plan.left_out[relative] = "looks like a secret: never uploaded"
        elif relative in pool_files:
            plan.left_out[relative] = "passage pool: upload it with --include-pool"
        elif relative == STATS_NAME:
            plan.left_out[relative] = "left out on request"
        else:
            plan.left_out[relative] = "not part of the dataset"
    plan.files.sort()
    return plan


def _walk_without_following_links(folder: Path) -> Iterator[Path]:
    """Every file or link under `folder`; symlinked directories are listed, never entered."""
    for directory, subdirs, files in os.walk(folder, followlinks=False):
        base = Path(directory)
        if base == folder:
            subdirs[:] = [name for name in subdirs if name != WORKING_STATE_DIR]  # never listed: no need to walk it
        for name in sorted(files):
            yield base / name
        for name in sorted(subdirs):
            if (base / name).is_symlink():
                yield base / name


# ---------------------------------------------------------------------------------------------
# Checks before anything is built or sent


def check_repo_id(repo_id: str) -> None:
    """Raise `InputError` unless `repo_id` is a Hub repo id ORG/NAME by the Hub's naming rules."""
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(parts):
        raise InputError(f"{repo_id!r} is not a Hub repo id: expected ORG/NAME (letters, digits, '-', '_', '.')")
    for part in parts:
        if not _REPO_PART.match(part) or "--" in part or ".." in part:
            raise InputError(
                f"{repo_id!r} is not a Hub repo id: {part!r} must use letters, digits, '-', '_', '.', "
                "not start or end with '-' or '.', and hold no '--' or '..' (expected ORG/NAME)"
            )
    if len(parts[1]) > MAX_REPO_NAME_LENGTH or parts[1].endswith(".git"):
        raise InputError(f"{repo_id!r} is not a Hub repo id: the name must be at most {MAX_REPO_NAME_LENGTH} characters and not end in '.git'")


def check_push_target(repo_id: str) -> None:
    """Raise a one-line `MemtrainError` unless a push to `repo_id` can start: a valid id, online, a token.

    Cheap and offline (nothing is sent), so a build with `--push-to-hub` calls it before building.
    """
    check_repo_id(repo_id)
    from huggingface_hub import constants, get_token

    if constants.HF_HUB_OFFLINE:
        raise PushError(f"HF_HUB_OFFLINE is set, so nothing can be pushed to {repo_id}; unset it and retry")
    if not get_token():
        raise PushError(f"no Hugging Face token to push to {repo_id}: set HF_TOKEN or run `hf auth login`, then retry")


def retry_command(folder: Path, repo_id: str, *, private: bool, revision: str | None, create_pr: bool, include_pool: bool = False) -> str:
    """The `memtrain push` command that repeats this push."""
    args = ["memtrain", "push", str(folder), repo_id]
    if private:
        args.append("--private")
    if include_pool:
        args.append("--include-pool")
    if revision:
        args += ["--revision", revision]
    if create_pr:
        args.append("--create-pr")
    return shlex.join(args)


def scrub_secrets(text: str, token: str | None) -> str:
    """`text` without the token (or anything shaped like a Hugging Face token)."""
    if token:
        text = text.replace(token, "***")
    return _TOKEN_PATTERN.sub("hf_***", text)


def _describe_failure(exc: BaseException, endpoint: str) -> str:
    """A one-line reason for a failed Hub call, by status code where there is one."""
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        status = exc.response.status_code
        server_message = getattr(exc, "server_message", None) or ""
        detail = f" ({first_line(server_message)})" if server_message.strip() else ""
        if status == 401:
            return f"the Hub rejected the token (401 Unauthorized){detail}; check HF_TOKEN or run `hf auth login`"
        if status == 403:
            return f"the token may not write to this repo (403 Forbidden){detail}; use a token with write access to the namespace"
        if status == 404:
            return f"not found (404){detail}; check the repo id and the revision"
        if status >= 500:
            return f"the Hub had a server error ({status}){detail}; try again later"
        return f"the Hub answered {status}{detail}"
    message = first_line(exc, empty="")
    name = type(exc).__name__
    if name.endswith("Timeout"):
        return f"{endpoint} did not answer in time ({name}); check the network or HF_ENDPOINT, or raise {TIMEOUT_ENV}"
    if name in _NETWORK_ERRORS:
        return f"could not reach {endpoint} ({name}: {message}); check the network or HF_ENDPOINT"
    return f"{name}: {message}" if message else name


def _operations(folder: Path, repo_id: str, files: list[str]) -> list[CommitOperationAdd]:
    from huggingface_hub import CommitOperationAdd

    operations = []
    for relative in files:
        path = folder / relative
        if relative == README_NAME:
            # The card was written before the repo id was known: fill it in, in the upload only.
            text = path.read_text(encoding="utf-8").replace(REPO_ID_PLACEHOLDER, repo_id)
            operations.append(CommitOperationAdd(path_in_repo=relative, path_or_fileobj=text.encode("utf-8")))
        else:
            operations.append(CommitOperationAdd(path_in_repo=relative, path_or_fileobj=str(path)))
    return operations


def _refuse_token_in_text_files(folder: Path, files: list[str], token: str) -> None:
    """The card and stats are uploaded as text: refuse them if they hold a Hugging Face token."""
    for relative in files:
        if relative.endswith((".md", ".json")):
            text = (folder / relative).read_text(encoding="utf-8", errors="replace")
            if token in text or _TOKEN_PATTERN.search(text):
                raise PushError(f"{folder / relative} holds what looks like a Hugging Face token; remove it before pushing")


def hub_limits() -> tuple[float, int]:
    """(timeout in seconds per Hub call, attempts per push) from the environment, with defaults."""
    values: list[float] = []
    for name, default in ((TIMEOUT_ENV, DEFAULT_TIMEOUT_S), (ATTEMPTS_ENV, DEFAULT_ATTEMPTS)):
        raw = os.environ.get(name, "").strip()
        try:
            value = float(raw) if raw else float(default)
        except ValueError:
            raise InputError(f"{name}={raw!r} is not a number") from None
        if not value > 0 or value == float("inf"):
            raise InputError(f"{name}={raw!r} must be a positive number")
        values.append(value)
    return values[0], max(1, int(values[1]))


@contextmanager
def _bounded_hub_session(timeout_s: float) -> Iterator[None]:
    """huggingface_hub's shared HTTP client with a timeout on connect, read, write and pool waits.

    The client's default waits forever for an answer; the previous client factory is restored after.
    """
    import httpx2
    from huggingface_hub import set_client_factory
    from huggingface_hub.utils._http import default_client_factory

    def bounded_client() -> httpx2.Client:
        client = default_client_factory()
        client.timeout = httpx2.Timeout(timeout_s)
        return client

    set_client_factory(bounded_client)
    try:
        yield
    finally:
        set_client_factory(default_client_factory)


def _is_transient(exc: BaseException) -> bool:
    """Worth another attempt: network errors, timeouts, rate limits and server errors."""
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return type(exc).__name__ in _NETWORK_ERRORS


_NETWORK_ERRORS = {"ConnectError", "ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout", "NetworkError", "ReadError", "WriteError", "RemoteProtocolError", "TimeoutException"}


def push_dataset(
    folder: Path,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    create_pr: bool = False,
    include_pool: bool = False,
    include_stats: bool = True,
    on_attempt_failed: Callable[[int, int, str], None] | None = None,
) -> str:
    """Validate `folder`, then upload its dataset files (`plan_upload`) to the Hub dataset repo `repo_id` in one commit.

    Returns the URL of the commit, or of the pull request with `create_pr`. A transient failure
    (network, timeout, 429, 5xx) is retried up to MEMTRAIN_HUB_ATTEMPTS times in all, each Hub
    call waiting at most MEMTRAIN_HUB_TIMEOUT_S seconds; `on_attempt_failed(attempt, attempts,
    reason)` hears of each failed attempt before the next.
    """
    folder = Path(folder)
    retry = retry_command(folder, repo_id, private=private, revision=revision, create_pr=create_pr, include_pool=include_pool)
    check_repo_id(repo_id)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such dataset folder")
    if not find_configs(folder):
        raise InputError(f"{folder} holds no episode shards (<config>/<split>-*.parquet): nothing to push")
    timeout_s, attempts = hub_limits()

    # Cheap checks first, so a missing login does not wait for the validation of a large folder.
    try:
        check_push_target(repo_id)
    except PushError as exc:
        raise PushError(f"{exc}: {retry}") from None
    from huggingface_hub import HfApi, constants, get_token

    token = get_token()
    assert token is not None  # checked by check_push_target

    from memtrain_data.publish.validate import validate_dataset

    report = validate_dataset(folder)
    if not report.ok:
        first = report.problems[0]
        where = f"{first.file} row {first.row}" if first.row is not None else first.file or str(folder)
        raise InputError(
            f"{folder} failed validation ({len(report.problems)} problems, first: {where}: {first.reason}); "
            f"nothing was uploaded. See `memtrain validate {folder}`"
        )
    plan = plan_upload(folder, include_pool=include_pool, include_stats=include_stats)
    shards = [path.relative_to(folder).as_posix() for splits in find_configs(folder).values() for paths in splits.values() for path in paths]
    outside = [path for path in shards if path not in plan.files]
    if outside or README_NAME not in plan.files:
        first = outside[0] if outside else README_NAME
        raise PushError(f"{first} lies outside {folder} (through a symlink), so it is never uploaded and the dataset would be incomplete; copy the files into the folder and retry")
    _refuse_token_in_text_files(folder, plan.files, token)
    for path in plan.secrets:
        logger.warning("left out %s: it looks like a secret", path)

    configs = ", ".join(find_configs(folder))
    api = HfApi(token=token)
    reason = ""
    with _bounded_hub_session(timeout_s):
        for attempt in range(1, attempts + 1):
            try:
                api.whoami()
                # Without --private the namespace's default visibility applies (some organizations default to private).
                api.create_repo(repo_id, repo_type="dataset", private=True if private else None, exist_ok=True)
                if revision and revision != constants.DEFAULT_REVISION:
                    api.create_branch(repo_id, repo_type="dataset", branch=revision, exist_ok=True)
                info = api.create_commit(
                    repo_id,
                    _operations(folder, repo_id, plan.files),
                    repo_type="dataset",
                    commit_message=f"Upload memtrain dataset (configs: {configs})",
                    commit_description="Built and validated with memtrain; see README.md for how it was built.",
                    revision=revision,
                    create_pr=create_pr,
                )
                return str(info.pr_url or info.commit_url)
            except Exception as exc:  # any failure of the client: HTTP, network, malformed answers
                reason = scrub_secrets(_describe_failure(exc, api.endpoint), token)
                if not _is_transient(exc) or attempt == attempts:
                    break
                if on_attempt_failed is not None:
                    on_attempt_failed(attempt, attempts, reason)
                time.sleep(min(2.0 ** (attempt - 1), timeout_s))
    tries = f" (after {attempt} attempts of at most {timeout_s:g} s per call)" if attempt > 1 else ""
    raise PushError(f"push to {repo_id} failed{tries}: {reason}. The local folder {folder} is unchanged; retry with: {retry}")
