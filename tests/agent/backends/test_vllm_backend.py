"""The vLLM backend's request shaping, with a stand-in engine (vLLM itself needs a CUDA GPU).

What is pinned: each `LLM.chat` call renders one way, so prefilled answer turns and ordinary
turns go in separate calls with the matching flags, and replies come back in the caller's order.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from memtrain_data.agent.backends.vllm_backend import VLLMBackend


class StandInEngine:
    """Records each `chat` call; replies "<n>:<last message content>" with fake token ids."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def chat(self, conversations: list[list[dict[str, str]]], **options: Any) -> list[Any]:
        self.calls.append({"conversations": conversations, **options})
        return [
            SimpleNamespace(
                prompt_token_ids=[1, 2],
                outputs=[SimpleNamespace(text=f" {len(self.calls)}:{c[-1]['content']} ", token_ids=[3])],
            )
            for c in conversations
        ]


def stand_in_backend() -> tuple[VLLMBackend, StandInEngine]:
    backend = VLLMBackend.__new__(VLLMBackend)
    engine = StandInEngine()
    backend._vllm = SimpleNamespace(SamplingParams=lambda **fields: fields)
    backend.llm = engine
    return backend, engine


def test_prefilled_and_ordinary_turns_go_in_separate_calls_and_come_back_in_order() -> None:
    backend, engine = stand_in_backend()
    plain = [{"role": "user", "content": "notes"}]
    prefilled = [{"role": "user", "content": "who?"}, {"role": "assistant", "content": "\\boxed{"}]
    out = backend.generate([prefilled, plain, prefilled], max_new_tokens=4, seed=7)
    first, second = engine.calls
    assert (first["add_generation_prompt"], first["continue_final_message"]) == (True, False)
    assert (second["add_generation_prompt"], second["continue_final_message"]) == (False, True)
    assert first["conversations"] == [plain] and second["conversations"] == [prefilled, prefilled]
    # Each row keeps its own seed; a prefilled reply keeps its leading space.
    assert [p["seed"] for p in second["sampling_params"]] == [7, 9]
    assert [g.text for g in out] == [" 2:\\boxed{", "1:notes", " 2:\\boxed{"]
