"""Generation with vLLM's offline engine (`vllm.LLM`), for fast evaluation on a GPU.

vLLM is an optional extra (`pip install 'memtrain[vllm]'`); it is imported only when this
backend is built, so everything else works without it.
"""

from __future__ import annotations

from typing import Any

from memtrain_data.agent.backends.base import Generation, trim_reply
from memtrain_data.agent.templates import reply_prefill
from memtrain_data.errors import MissingDependencyError


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError:
        raise MissingDependencyError(
            "the vllm backend needs vLLM, which is not installed: run `pip install 'memtrain[vllm]'` "
            "on a machine with a CUDA GPU (or use --backend transformers, or --backend openai with a vLLM server)"
        ) from None
    return vllm


class VLLMBackend:
    """A `GenerationBackend` over an in-process `vllm.LLM` engine.

    `engine_options` go to `vllm.LLM` unchanged (e.g. `tensor_parallel_size`, `gpu_memory_utilization`,
    `max_model_len`). One `generate` call sends every conversation to `LLM.chat`, which schedules
    them together (continuous batching).
    """

    def __init__(self, model: str, **engine_options: Any) -> None:
        vllm = _import_vllm()
        from memtrain_data.models import resolve_model_path

        self._vllm = vllm
        self.name = model
        self.llm = vllm.LLM(model=resolve_model_path(model), **engine_options)
        self.tokenizer: Any | None = self.llm.get_tokenizer()
        config = self.llm.llm_engine.model_config
        self.max_context_tokens: int | None = getattr(config, "max_model_len", None)

    @classmethod
    def from_pretrained(cls, name_or_path: str, **engine_options: Any) -> VLLMBackend:
        return cls(name_or_path, **engine_options)

    def generate(
        self,
        conversations: list[list[dict[str, str]]],
        *,
        max_new_tokens: int,
        temperature: float = 0.0,
        top_p: float = 1.0,
        seed: int | None = None,
    ) -> list[Generation]:
        """One reply per conversation; each row gets its own seed (seed + row) so samples differ."""
        if not conversations:
            return []
        params = [
            self._vllm.SamplingParams(
                max_tokens=max_new_tokens,
                temperature=temperature,
                top_p=top_p if temperature > 0 else 1.0,
                seed=None if seed is None else seed + row,
            )
            for row in range(len(conversations))
        ]
        # `LLM.chat` renders a whole call one way: prefilled replies (answer_prefix) and ordinary
        # ones go in separate calls, and come back in the caller's order.
        generations: list[Generation | None] = [None] * len(conversations)
        for prefilled in (False, True):
            rows = [row for row, c in enumerate(conversations) if bool(reply_prefill(c)) == prefilled]
            if not rows:
                continue
            outputs = self.llm.chat(
                [conversations[row] for row in rows],
                sampling_params=[params[row] for row in rows],
                use_tqdm=False,
                add_generation_prompt=not prefilled,
                continue_final_message=prefilled,
            )
            for row, output in zip(rows, outputs, strict=True):
                completion = output.outputs[0]
                generations[row] = Generation(
                    text=trim_reply(completion.text, conversations[row]),
                    prompt_ids=list(output.prompt_token_ids or []),
                    completion_ids=list(completion.token_ids),
                )
        return [generation for generation in generations if generation is not None]
