"""A small Hugging Face Hub over real HTTP, for push tests with the real `huggingface_hub` client.

It implements exactly the endpoints that `huggingface_hub` 2.4 calls for `whoami`,
`create_repo`, `create_branch`, `create_commit` (README YAML check, preupload, LFS batch +
basic PUT upload, NDJSON commit), and for `snapshot_download` (repo info at a revision, tree
listing, HEAD + GET of `resolve/`), keeps repos, branches and commits in memory, and records
every request (without its Authorization header). Reads without a token are allowed, as for
public repos; a wrong token is refused. Text files are committed as
regular files and binary files (parquet, PNG) go through LFS, as on the Hub; Xet is not
implemented, so clients must run with HF_HUB_DISABLE_XET=1.

`fail_status` makes the server answer that status: to every request when `fail_path` is None,
else to requests whose path contains `fail_path`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Commit:
    repo_id: str
    revision: str
    summary: str
    create_pr: bool
    files: dict[str, bytes]
    oid: str


@dataclass
class Repo:
    repo_type: str
    private: bool
    branches: dict[str, dict[str, bytes]] = field(default_factory=lambda: {"main": {}})
    heads: dict[str, str] = field(default_factory=lambda: {"main": "0" * 40})
    snapshots: dict[str, dict[str, bytes]] = field(default_factory=lambda: {"0" * 40: {}})

    def files_at(self, revision: str) -> tuple[str, dict[str, bytes]] | None:
        """(commit oid, files) for a branch name or a commit oid."""
        if revision in self.heads:
            return self.heads[revision], self.snapshots[self.heads[revision]]
        if revision in self.snapshots:
            return revision, self.snapshots[revision]
        return None


class FakeHub:
    """The state of the fake Hub and the thread that serves it."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.requests: list[RecordedRequest] = []
        self.commits: list[Commit] = []
        self.repos: dict[str, Repo] = {}
        self.lfs_objects: dict[str, bytes] = {}
        self.fail_status: int | None = None
        self.fail_path: str | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                hub._handle(self)

            def do_POST(self) -> None:
                hub._handle(self)

            def do_PUT(self) -> None:
                hub._handle(self)

            def do_HEAD(self) -> None:
                hub._handle(self)

        return Handler

    # ------------------------------------------------------------------ plumbing

    @staticmethod
    def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
        if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(handler.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    handler.rfile.readline()
                    return body
                body += handler.rfile.read(size)
                handler.rfile.readline()
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length else b""

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: Any = None) -> None:
        body = json.dumps(payload if payload is not None else {}).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        if status >= 400 and isinstance(payload, dict) and "error" in payload:
            handler.send_header("X-Error-Message", payload["error"])
        handler.end_headers()
        handler.wfile.write(body)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        body = self._read_body(handler)
        headers = {k: v for k, v in handler.headers.items() if k.lower() != "authorization"}
        query = parse_qs(url.query)
        with self._lock:
            self.requests.append(RecordedRequest(handler.command, url.path, query, headers, body))
        if self.fail_status is not None and (self.fail_path is None or self.fail_path in url.path):
            self._send(handler, self.fail_status, {"error": f"simulated failure {self.fail_status}"})
            return
        if url.path.startswith("/lfs-upload/"):
            self._lfs_put(handler, url.path.rsplit("/", 1)[1], body)
            return
        authorization = handler.headers.get("Authorization")
        anonymous_read = authorization is None and handler.command in {"GET", "HEAD"} and url.path != "/api/whoami-v2"
        if authorization != f"Bearer {self.token}" and not anonymous_read:
            self._send(handler, 401, {"error": "Invalid credentials in Authorization header"})
            return
        if "/resolve/" in url.path:
            self._resolve(handler, unquote(url.path))
            return
        with self._lock:
            status, payload = self._route(handler.command, unquote(url.path), query, body)
        self._send(handler, status, payload)

    # ------------------------------------------------------------------ endpoints

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/api/whoami-v2":
            return 200, {"type": "user", "name": "tester", "orgs": [], "auth": {"type": "access_token", "accessToken": {"role": "write"}}}
        if method == "POST" and path == "/api/repos/create":
            return self._create_repo(json.loads(body))
        if method == "POST" and path == "/api/validate-yaml":
            return self._validate_yaml(json.loads(body))
        if method == "POST" and path.endswith(".git/info/lfs/objects/batch"):
            return self._lfs_batch(json.loads(body))
        # /api/{type}s/{org}/{name}/{action}/{revision...}
        if len(parts) >= 4 and parts[0] == "api" and parts[1] in {"datasets", "models", "spaces"}:
            repo_id = f"{parts[2]}/{parts[3]}"
            repo = self.repos.get(repo_id)
            if repo is None or f"{repo.repo_type}s" != parts[1]:
                return 404, {"error": "Repository not found"}
            if len(parts) == 4 and method == "GET":
                return 200, {"id": repo_id, "private": repo.private, "sha": repo.heads["main"]}
            action, revision = parts[4], "/".join(parts[5:])
            if action in {"revision", "tree"} and method == "GET":
                return self._read(repo_id, repo, action, revision)
            if action == "preupload" and method == "POST":
                return self._preupload(repo, revision, json.loads(body))
            if action == "branch" and method == "POST":
                if revision in repo.branches:
                    return 409, {"error": "Reference already exists"}
                repo.branches[revision] = dict(repo.branches["main"])
                repo.heads[revision] = repo.heads["main"]
                return 200, {}
            if action == "commit" and method == "POST":
                return self._commit(repo_id, repo, revision, body, create_pr=query.get("create_pr") == ["1"])
        return 404, {"error": f"no route for {method} {path}"}

    def _create_repo(self, payload: dict[str, Any]) -> tuple[int, Any]:
        repo_id = f"{payload['organization']}/{payload['name']}" if payload.get("organization") else f"tester/{payload['name']}"
        repo_type = payload.get("type") or "model"
        if repo_id in self.repos:
            return 409, {"error": "You already created this repo", "url": f"{self.endpoint}/{repo_type}s/{repo_id}"}
        self.repos[repo_id] = Repo(repo_type=repo_type, private=payload.get("visibility") == "private")
        return 200, {"url": f"{self.endpoint}/{repo_type}s/{repo_id}", "name": repo_id}

    @staticmethod
    def _validate_yaml(payload: dict[str, Any]) -> tuple[int, Any]:
        content = payload.get("content", "")
        if content.startswith("---"):
            try:
                yaml.safe_load(content.split("---", 2)[1])
            except yaml.YAMLError as exc:
                return 400, {"errors": [{"message": str(exc)}], "warnings": []}
        return 200, {"errors": [], "warnings": []}

    @staticmethod
    def _preupload(repo: Repo, revision: str, payload: dict[str, Any]) -> tuple[int, Any]:
        if revision not in repo.branches:
            return 404, {"error": f"Revision not found: {revision}"}
        files = []
        for item in payload["files"]:
            sample = base64.b64decode(item["sample"])
            # Like the Hub: binary content goes to LFS, text stays a regular git file.
            mode = "lfs" if b"\x00" in sample else "regular"
            files.append({"path": item["path"], "uploadMode": mode, "shouldIgnore": False, "oid": None})
        return 200, {"files": files, "commitOid": "0" * 40}

    def _lfs_batch(self, payload: dict[str, Any]) -> tuple[int, Any]:
        objects = [
            {"oid": obj["oid"], "size": obj["size"], "authenticated": True, "actions": {"upload": {"href": f"{self.endpoint}/lfs-upload/{obj['oid']}"}}}
            for obj in payload["objects"]
        ]
        return 200, {"transfer": "basic", "objects": objects}

    def _lfs_put(self, handler: BaseHTTPRequestHandler, oid: str, body: bytes) -> None:
        if hashlib.sha256(body).hexdigest() != oid:
            self._send(handler, 400, {"error": "sha256 does not match the oid"})
            return
        with self._lock:
            self.lfs_objects[oid] = body
        self._send(handler, 200, {})

    def _commit(self, repo_id: str, repo: Repo, revision: str, body: bytes, *, create_pr: bool) -> tuple[int, Any]:
        if revision not in repo.branches:
            return 404, {"error": f"Revision not found: {revision}"}
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        header = next(line["value"] for line in lines if line["key"] == "header")
        files: dict[str, bytes] = {}
        for line in lines:
            value = line["value"]
            if line["key"] == "file":
                files[value["path"]] = base64.b64decode(value["content"])
            elif line["key"] == "lfsFile":
                if value["oid"] not in self.lfs_objects:
                    return 422, {"error": f"LFS object {value['oid']} was never uploaded"}
                files[value["path"]] = self.lfs_objects[value["oid"]]
        oid = hashlib.sha1(body).hexdigest()
        self.commits.append(Commit(repo_id, revision, header["summary"], create_pr, files, oid))
        if not create_pr:
            repo.branches[revision].update(files)
            repo.heads[revision] = oid
            repo.snapshots[oid] = dict(repo.branches[revision])
        prefix = f"{self.endpoint}/{repo.repo_type}s/{repo_id}"
        return 200, {
            "commitUrl": f"{prefix}/commit/{oid}",
            "commitOid": oid,
            "pullRequestUrl": f"{prefix}/discussions/{len(self.commits)}" if create_pr else None,
        }

    # ------------------------------------------------------------------ downloads

    def _read(self, repo_id: str, repo: Repo, action: str, revision: str) -> tuple[int, Any]:
        found = repo.files_at(revision)
        if found is None:
            return 404, {"error": f"Revision not found: {revision}"}
        oid, files = found
        if action == "revision":
            return 200, {"id": repo_id, "sha": oid, "private": repo.private, "siblings": [{"rfilename": p} for p in sorted(files)]}
        entries = []
        for path, content in sorted(files.items()):
            entry: dict[str, Any] = {"type": "file", "path": path, "size": len(content), "oid": hashlib.sha1(content).hexdigest()}
            if b"\x00" in content[:512]:
                entry["lfs"] = {"oid": hashlib.sha256(content).hexdigest(), "size": len(content), "pointerSize": 134}
            entries.append(entry)
        return 200, entries

    def _resolve(self, handler: BaseHTTPRequestHandler, path: str) -> None:
        # /{type}s/{org}/{name}/resolve/{revision}/{file path}
        prefix, _, rest = path.strip("/").partition("/resolve/")
        repo_type, _, repo_id = prefix.partition("/")
        revision, _, filename = rest.partition("/")
        repo = self.repos.get(repo_id)
        found = repo.files_at(revision) if repo is not None and f"{repo.repo_type}s" == repo_type else None
        if found is None or filename not in found[1]:
            self._send(handler, 404, {"error": "Entry not found"})
            return
        oid, files = found
        content = files[filename]
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(len(content)))
        handler.send_header("X-Repo-Commit", oid)
        handler.send_header("ETag", f'"{hashlib.sha256(content).hexdigest()}"')
        handler.end_headers()
        if handler.command == "GET":
            handler.wfile.write(content)


def point_client_at(hub: FakeHub | SilentServer, monkeypatch: Any, tmp_path: Any, token: str | None) -> None:
    """Make the huggingface_hub client of this process talk to `hub`, as HF_ENDPOINT would at import.

    Also: online (tests run with HF_HUB_OFFLINE=1), no Xet, `token` as HF_TOKEN (None: no
    token at all), and a login file and download cache under `tmp_path`.
    """
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", hub.endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-cached-login" / "token"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    if token is None:
        monkeypatch.delenv("HF_TOKEN", raising=False)
    else:
        monkeypatch.setenv("HF_TOKEN", token)


class SilentServer:
    """A TCP server that accepts every connection and never sends a byte: a Hub that hangs."""

    def __init__(self) -> None:
        import socket

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self._socket.settimeout(0.2)
        self._connections: list[Any] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self.accepted = 0

    @property
    def endpoint(self) -> str:
        host, port = self._socket.getsockname()
        return f"http://{host}:{port}"

    def start(self) -> SilentServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        for connection in self._connections:
            connection.close()
        self._socket.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self._connections.append(connection)  # kept open, read from never, answered never
            self.accepted += 1
