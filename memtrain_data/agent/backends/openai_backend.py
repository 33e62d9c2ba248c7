"""Generation through any OpenAI-compatible `/v1/chat/completions` endpoint (vLLM, SGLang, TGI, APIs).

Requests run concurrently on a thread pool; 429, 5xx and connection errors are retried with
exponential backoff. The API key comes from `OPENAI_API_KEY` (or the `api_key` argument)
and is only ever put in the Authorization header, never in messages or logs.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from memtrain_data.agent.backends.base import Generation, trim_reply
from memtrain_data.agent.templates import reply_prefill
from memtrain_data.errors import InputError, MemtrainError, MissingDependencyError, first_line

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
_RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class EndpointError(MemtrainError):
    """The endpoint refused a request or kept failing after all retries."""


def _import_httpx() -> Any:
    try:
        import httpx
    except ImportError:
        raise MissingDependencyError(
            "the openai backend needs httpx: run `pip install 'memtrain[openai]'`"
        ) from None
    return httpx


class OpenAIBackend:
    """A `GenerationBackend` that sends each conversation as one chat-completions request.

    `base_url` ends with `/v1` (default `$OPENAI_BASE_URL`, else a local vLLM server on port 8000).
    `tokenizer` is optional: pass the served model's tokenizer so budgets are counted in real
    tokens (without it, lengths are estimated from characters).
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        tokenizer: Any | None = None,
        concurrency: int = 8,
        max_retries: int = 5,
        backoff_s: float = 1.0,
        timeout_s: float = 600.0,
        max_context_tokens: int | None = None,
    ) -> None:
        httpx = _import_httpx()
        if concurrency < 1:
            raise InputError(f"concurrency must be at least 1, got {concurrency}")
        self.name = model
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise InputError(f"--base-url must start with http:// or https://, got {self.base_url!r}")
        self.tokenizer = tokenizer
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_context_tokens = max_context_tokens
        self.requests_sent = 0  # every HTTP attempt, retries included (for tests and logs)
        # Many requests fail together when the endpoint is down: say so once, not once per request.
        self._retry_said = False
        self._retry_lock = threading.Lock()
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._httpx = httpx
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout_s,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )

    @classmethod
    def from_pretrained(cls, name_or_path: str, **options: Any) -> OpenAIBackend:
        return cls(name_or_path, **options)

    def close(self) -> None:
        self._client.close()

    def generate(
        self,
        conversations: list[list[dict[str, str]]],
        *,
        max_new_tokens: int,
        temperature: float = 0.0,
        top_p: float = 1.0,
        seed: int | None = None,
    ) -> list[Generation]:
        """Send all conversations concurrently (at most `concurrency` in flight); replies in order."""
        if not conversations:
            return []

        def one(row: int) -> Generation:
            body: dict[str, Any] = {
                "model": self.model,
                "messages": conversations[row],
                "max_tokens": max_new_tokens,
                "temperature": temperature,
                "top_p": top_p,
            }
            if seed is not None:
                body["seed"] = seed + row  # distinct per row so repeated prompts still give different samples
            prefilled = bool(reply_prefill(conversations[row]))
            if prefilled:
                # vLLM's and SGLang's extension for continuing an assistant message (answer_prefix);
                # an endpoint without it answers with an error, reported in one line.
                body.update(add_generation_prompt=False, continue_final_message=True)
            generation = self._complete(body)
            return Generation(text=trim_reply(generation.text, conversations[row]))

        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(conversations))) as pool:
            return list(pool.map(one, range(len(conversations))))

    def _complete(self, body: dict[str, Any]) -> Generation:
        httpx = self._httpx
        last_problem = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            self.requests_sent += 1
            try:
                response = self._client.post("/chat/completions", json=body)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
                self._say_retrying(last_problem)
                continue
            if response.status_code in _RETRY_STATUS:
                last_problem = f"HTTP {response.status_code}"
                self._say_retrying(last_problem)
                continue
            if response.status_code >= 400:
                raise EndpointError(
                    f"{self.base_url}/chat/completions answered HTTP {response.status_code}: {_error_text(response)}"
                )
            return _parse_completion(response, self.base_url)
        raise EndpointError(
            f"{self.base_url}/chat/completions still failing after {self.max_retries + 1} attempts ({last_problem})"
        )

    def _say_retrying(self, problem: str) -> None:
        with self._retry_lock:
            first, self._retry_said = not self._retry_said, True
        if first:
            logger.warning(
                "%s: %s; retrying each request up to %d time(s) with backoff",
                self.base_url, problem, self.max_retries,
            )  # fmt: skip
        else:
            logger.debug("%s: %s; retrying", self.base_url, problem)


def _error_text(response: Any) -> str:
    try:
        payload = response.json()
        error = payload.get("error", payload)
        message = error.get("message", error) if isinstance(error, dict) else error
        return first_line(message)[:300]
    except ValueError:
        return first_line(response.text, empty="(empty body)")[:300]


def _parse_completion(response: Any, base_url: str) -> Generation:
    try:
        payload = response.json()
        choice = payload["choices"][0]
        content = choice["message"].get("content") or ""
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise EndpointError(
            f"{base_url}/chat/completions returned a body that is not a chat completion"
        ) from None
    return Generation(text=content)
