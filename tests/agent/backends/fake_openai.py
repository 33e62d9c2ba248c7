"""A real local HTTP server speaking the OpenAI chat-completions protocol, for backend tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeServer:
    """Answers each chat completion with 'echo: <last user message>' and records what it saw.

    `fail_first` answers that many requests with HTTP 500 before succeeding; `status` forces a
    fixed error status; `delay_s` makes each request slow, to observe concurrency; `reply`, when
    set, writes the answer to each request body instead of the echo (crafted answers).
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.fail_first = 0
        self.status: int | None = None
        self.delay_s = 0.0
        self.reply: Callable[[dict[str, Any]], str] | None = None
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()


def _handler(state: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state.lock:
                state.requests.append(body)
                state.headers.append(dict(self.headers))
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
                failing = state.fail_first > 0
                state.fail_first -= failing
            time.sleep(state.delay_s)
            with state.lock:
                state.in_flight -= 1
            if self.path != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}"}})
            elif state.status is not None:
                self._send(state.status, {"error": {"message": "model 'x' does not exist"}})
            elif failing:
                self._send(500, {"error": {"message": "overloaded"}})
            else:
                text = body["messages"][-1]["content"]
                content = state.reply(body) if state.reply is not None else f"echo: {text}"
                self._send(
                    200,
                    {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]},
                )

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def serve() -> Iterator[tuple[FakeServer, str]]:
    """Run a FakeServer on 127.0.0.1 (a free port) in a thread; yields (state, base URL ending in /v1)."""
    state = FakeServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()
