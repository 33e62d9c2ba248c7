"""The openai backend against a real local HTTP server speaking /v1/chat/completions."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from memtrain_data.agent.backends import get_backend
from memtrain_data.agent.backends.openai_backend import EndpointError, OpenAIBackend
from memtrain_data.agent.loop import AgentTask, run_memory_agent
from tests.agent.backends.fake_openai import FakeServer, serve


@pytest.fixture
def server() -> Iterator[tuple[FakeServer, str]]:
    with serve() as running:
        yield running


def conversation(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_replies_come_back_in_order_with_the_request_fields(server) -> None:
    state, url = server
    backend = OpenAIBackend("served-model", base_url=url, api_key="sk-test-secret")
    out = backend.generate(
        [conversation("a"), conversation("b"), conversation("c")], max_new_tokens=7, temperature=0.5, seed=10
    )
    assert [g.text for g in out] == ["echo: a", "echo: b", "echo: c"]
    assert {r["model"] for r in state.requests} == {"served-model"}
    assert {r["max_tokens"] for r in state.requests} == {7}
    assert sorted(r["seed"] for r in state.requests) == [10, 11, 12]  # distinct per row
    assert {h["Authorization"] for h in state.headers} == {"Bearer sk-test-secret"}


def test_api_key_comes_from_the_environment(server, monkeypatch) -> None:
    state, url = server
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    OpenAIBackend("m", base_url=url).generate([conversation("x")], max_new_tokens=4)
    assert state.headers[0]["Authorization"] == "Bearer sk-from-env"


def test_a_500_is_retried_then_succeeds(server) -> None:
    state, url = server
    state.fail_first = 1
    backend = OpenAIBackend("m", base_url=url, backoff_s=0.01)
    assert backend.generate([conversation("retry me")], max_new_tokens=4)[0].text == "echo: retry me"
    assert backend.requests_sent == 2 and len(state.requests) == 2


def test_persistent_failure_is_one_clear_error(server) -> None:
    state, url = server
    state.fail_first = 100
    backend = OpenAIBackend("m", base_url=url, max_retries=2, backoff_s=0.01)
    with pytest.raises(EndpointError, match="still failing after 3 attempts \\(HTTP 500\\)"):
        backend.generate([conversation("x")], max_new_tokens=4)


def test_a_client_error_is_not_retried_and_the_key_is_not_shown(server) -> None:
    state, url = server
    state.status = 404
    backend = OpenAIBackend("m", base_url=url, api_key="sk-very-secret", backoff_s=0.01)
    with pytest.raises(EndpointError, match="HTTP 404: model 'x' does not exist") as caught:
        backend.generate([conversation("x")], max_new_tokens=4)
    assert len(state.requests) == 1
    assert "sk-very-secret" not in str(caught.value)


def test_connection_errors_are_retried_then_reported() -> None:
    backend = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", max_retries=1, backoff_s=0.01, timeout_s=2)
    with pytest.raises(EndpointError, match="still failing after 2 attempts"):
        backend.generate([conversation("x")], max_new_tokens=4)


def test_requests_run_concurrently_up_to_the_limit(server) -> None:
    state, url = server
    state.delay_s = 0.2
    backend = OpenAIBackend("m", base_url=url, concurrency=4)
    started = time.perf_counter()
    out = backend.generate([conversation(str(i)) for i in range(8)], max_new_tokens=4)
    elapsed = time.perf_counter() - started
    assert [g.text for g in out] == [f"echo: {i}" for i in range(8)]
    assert state.max_in_flight == 4
    assert elapsed < 8 * 0.2 * 0.75  # clearly faster than one at a time


def test_the_memory_loop_runs_over_http(server) -> None:
    state, url = server
    backend = get_backend("openai", "m", base_url=url)
    tasks = [
        AgentTask("a", "Which year?", ["It opened in 1889.", "More."]),
        AgentTask("b", "Who?", ["Eiffel."]),
    ]
    trajectories = run_memory_agent(backend, tasks)
    assert len(state.requests) == 3 + 2  # three update turns, two final turns
    assert trajectories[0].memories[1].startswith("echo: ")
    assert "It opened in 1889." in trajectories[0].memories[1]


def test_a_prefilled_reply_asks_the_server_to_continue_it(server) -> None:
    state, url = server
    state.reply = lambda body: " Ostra} " if body["messages"][-1]["role"] == "assistant" else "notes"
    prefilled = [*conversation("Who keeps the lighthouse?"), {"role": "assistant", "content": "\\boxed{"}]
    out = OpenAIBackend("m", base_url=url).generate([prefilled, conversation("plain")], max_new_tokens=4)
    # The continuation keeps its leading space; trailing space goes as for any reply.
    assert [g.text for g in out] == [" Ostra}", "notes"]
    by_last_role = {r["messages"][-1]["role"]: r for r in state.requests}
    assert by_last_role["assistant"]["continue_final_message"] is True
    assert by_last_role["assistant"]["add_generation_prompt"] is False
    # An ordinary request carries neither extension, so any OpenAI-compatible server takes it.
    assert "continue_final_message" not in by_last_role["user"]
    assert "add_generation_prompt" not in by_last_role["user"]
