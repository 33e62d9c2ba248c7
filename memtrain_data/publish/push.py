"""`push_dataset`: upload a validated dataset folder to the Hugging Face Hub in one commit.

The folder is validated first (nothing is uploaded from a folder that fails), then the repo
is created if needed, the branch too for `revision`, and every file except the working
state (`.memtrain/`) goes up in a single `create_commit`. The token comes from HF_TOKEN or the
cached login; it is never printed, and any error message is scrubbed of it before it reaches
the user. Failures become one `PushError` line that says the command to retry. Nothing in the
local folder is ever written by a push.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from memtrain_data.errors import InputError, MemtrainError
from memtrain_data.publish.card import REPO_ID_PLACEHOLDER
from memtrain_data.publish.layout import README_NAME, WORKING_STATE_DIR, find_configs, is_hub_id

if TYPE_CHECKING:
    from huggingface_hub import CommitOperationAdd

# Never uploaded: working state, caches, temporary files of an interrupted write.
_EXCLUDED_DIRS = {WORKING_STATE_DIR, ".git", ".cache", "__pycache__"}
_EXCLUDED_SUFFIXES = (".tmp", ".lock")
# Hugging Face tokens look like hf_ followed by letters and digits; scrub any, not only ours.
_TOKEN_PATTERN = re.compile(r"hf_[A-Za-z0-9]{8,}")


class PushError(MemtrainError):
    """The upload failed; the local folder is unchanged and the message says how to retry."""


def upload_paths(folder: Path) -> list[str]:
    """Repo-relative paths of every file that a push uploads, sorted."""
    paths: list[str] = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(folder)
        if any(part in _EXCLUDED_DIRS for part in relative.parts[:-1]) or relative.name.endswith(_EXCLUDED_SUFFIXES):
            continue
        paths.append(relative.as_posix())
    return paths


def retry_command(folder: Path, repo_id: str, *, private: bool, revision: str | None, create_pr: bool) -> str:
    """The `memtrain push` command that repeats this push."""
    args = ["memtrain", "push", str(folder), repo_id]
    if private:
        args.append("--private")
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
        detail = f" ({server_message.strip().splitlines()[0]})" if server_message.strip() else ""
        if status == 401:
            return f"the Hub rejected the token (401 Unauthorized){detail}; check HF_TOKEN or run `hf auth login`"
        if status == 403:
            return f"the token may not write to this repo (403 Forbidden){detail}; use a token with write access to the namespace"
        if status == 404:
            return f"not found (404){detail}; check the repo id and the revision"
        if status >= 500:
            return f"the Hub had a server error ({status}){detail}; try again later"
        return f"the Hub answered {status}{detail}"
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    if name in {"ConnectError", "ConnectTimeout", "ReadTimeout", "NetworkError", "RemoteProtocolError", "TimeoutException"}:
        return f"could not reach {endpoint} ({name}: {first_line}); check the network or HF_ENDPOINT"
    return f"{name}: {first_line}" if first_line else name


def _operations(folder: Path, repo_id: str) -> list[CommitOperationAdd]:
    from huggingface_hub import CommitOperationAdd

    operations = []
    for relative in upload_paths(folder):
        path = folder / relative
        if relative == README_NAME:
            # The card was written before the repo id was known: fill it in, in the upload only.
            text = path.read_text(encoding="utf-8").replace(REPO_ID_PLACEHOLDER, repo_id)
            operations.append(CommitOperationAdd(path_in_repo=relative, path_or_fileobj=text.encode("utf-8")))
        else:
            operations.append(CommitOperationAdd(path_in_repo=relative, path_or_fileobj=str(path)))
    return operations


def push_dataset(folder: Path, repo_id: str, *, private: bool = False, revision: str | None = None, create_pr: bool = False) -> str:
    """Validate `folder`, then upload it to the Hub dataset repo `repo_id` in one commit.

    Returns the URL of the commit, or of the pull request with `create_pr`.
    """
    folder = Path(folder)
    retry = retry_command(folder, repo_id, private=private, revision=revision, create_pr=create_pr)
    if not is_hub_id(repo_id):
        raise InputError(f"{repo_id!r} is not a Hub repo id: expected ORG/NAME")
    if not folder.is_dir():
        raise InputError(f"{folder}: no such dataset folder")
    if not find_configs(folder):
        raise InputError(f"{folder} holds no episode shards (<config>/<split>-*.parquet): nothing to push")

    from huggingface_hub import HfApi, constants, get_token

    # Cheap checks first, so a missing login does not wait for the validation of a large folder.
    if constants.HF_HUB_OFFLINE:
        raise PushError(f"HF_HUB_OFFLINE is set, so nothing can be uploaded; unset it and retry: {retry}")
    token = get_token()
    if not token:
        raise PushError(f"no Hugging Face token: set HF_TOKEN or run `hf auth login`, then retry: {retry}")

    from memtrain_data.publish.validate import validate_dataset

    report = validate_dataset(folder)
    if not report.ok:
        first = report.problems[0]
        where = f"{first.file} row {first.row}" if first.row is not None else first.file or str(folder)
        raise InputError(
            f"{folder} failed validation ({len(report.problems)} problems, first: {where}: {first.reason}); "
            f"nothing was uploaded. See `memtrain validate {folder}`"
        )

    api = HfApi(token=token)
    try:
        api.whoami()
        # Without --private the namespace's default visibility applies (some organizations default to private).
        api.create_repo(repo_id, repo_type="dataset", private=True if private else None, exist_ok=True)
        if revision and revision != constants.DEFAULT_REVISION:
            api.create_branch(repo_id, repo_type="dataset", branch=revision, exist_ok=True)
        configs = ", ".join(find_configs(folder))
        info = api.create_commit(
            repo_id,
            _operations(folder, repo_id),
            repo_type="dataset",
            commit_message=f"Upload memtrain dataset (configs: {configs})",
            commit_description="Built and validated with memtrain; see README.md for how it was built.",
            revision=revision,
            create_pr=create_pr,
        )
    except Exception as exc:  # any failure of the client: HTTP, network, malformed answers
        reason = scrub_secrets(_describe_failure(exc, api.endpoint), token)
        raise PushError(f"push to {repo_id} failed: {reason}. The local folder {folder} is unchanged; retry with: {retry}") from None
    return str(info.pr_url or info.commit_url)
