"""Generation with a local Hugging Face causal LM (CPU or GPU), batched with left padding."""

from __future__ import annotations

from typing import Any

from memtrain_data.agent.backends.base import Generation, trim_reply
from memtrain_data.agent.templates import reply_prefill

# Tokenizers report this huge sentinel when they have no real limit.
_NO_LIMIT = 1_000_000


def render_prompt_ids(
    tokenizer: Any, conversation: list[dict[str, str]], chat_template_kwargs: dict[str, Any] | None = None
) -> list[int]:
    """Token ids of a conversation rendered with the chat template plus the assistant generation prompt.

    A conversation that ends with an assistant message is a prefill (`PromptTemplates.answer_prefix`):
    it is rendered open, without an end-of-turn, so the model continues that message.
    Shared by evaluation and training so both see exactly the same prompt tokens.
    """
    prefilled = bool(reply_prefill(conversation))
    if getattr(tokenizer, "chat_template", None):
        turn_options = {"continue_final_message": True} if prefilled else {"add_generation_prompt": True}
        text = tokenizer.apply_chat_template(
            conversation, tokenize=False, **turn_options, **(chat_template_kwargs or {})
        )
    else:  # base models without a template: plain concatenation of the contents
        text = "\n\n".join(message["content"] for message in conversation) + ("" if prefilled else "\n")
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


class TransformersBackend:
    """A `GenerationBackend` over a `transformers` model and its tokenizer.

    Conversations are rendered with the tokenizer's chat template, sorted by length so each
    micro-batch pads little, generated `batch_size` at a time (all at once when None), and
    returned in the caller's order.
    """

    def __init__(
        self, model: Any, tokenizer: Any, *, batch_size: int | None = None, device: str | None = None
    ) -> None:
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.name: str | None = getattr(model, "name_or_path", None)
        self.device = device or str(next(model.parameters()).device)
        if str(next(model.parameters()).device) != self.device:
            model.to(self.device)
        # Batched generation needs left padding and a pad token.
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        limits = [
            getattr(model.config, "max_position_embeddings", None),
            getattr(tokenizer, "model_max_length", None),
        ]
        known = [int(v) for v in limits if v and int(v) < _NO_LIMIT]
        self.max_context_tokens: int | None = min(known) if known else None

    @classmethod
    def from_pretrained(
        cls, name_or_path: str, *, batch_size: int | None = None, device: str | None = None, dtype: Any = None
    ) -> TransformersBackend:
        """Load a local folder or Hub id with `memtrain_data.models.load_causal_lm` (SmolLM2 works offline)."""
        from memtrain_data.models import load_causal_lm

        if device is None:
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        if isinstance(dtype, str):
            import torch

            dtype = getattr(torch, dtype)
        model, tokenizer = load_causal_lm(name_or_path, device=device, dtype=dtype)
        backend = cls(model, tokenizer, batch_size=batch_size, device=device)
        backend.name = name_or_path
        return backend

    def render(self, conversation: list[dict[str, str]]) -> list[int]:
        """Token ids of a conversation with the chat template and the assistant generation prompt."""
        return render_prompt_ids(self.tokenizer, conversation)

    def generate(
        self,
        conversations: list[list[dict[str, str]]],
        *,
        max_new_tokens: int,
        temperature: float = 0.0,
        top_p: float = 1.0,
        seed: int | None = None,
    ) -> list[Generation]:
        """Generate one reply per conversation (greedy when temperature is 0)."""
        import torch

        if not conversations:
            return []
        if seed is not None:
            torch.manual_seed(seed)
        prompts = [self.render(conversation) for conversation in conversations]
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        size = self.batch_size or len(prompts)
        results: list[Generation | None] = [None] * len(prompts)
        eos_ids = self._eos_ids()
        for begin in range(0, len(order), size):
            batch = order[begin : begin + size]
            for index, completion in zip(
                batch,
                self._generate_batch(
                    [prompts[i] for i in batch], max_new_tokens, temperature, top_p, eos_ids
                ),
                strict=True,
            ):
                text = self.tokenizer.decode(completion, skip_special_tokens=True)
                results[index] = Generation(
                    text=trim_reply(text, conversations[index]),
                    prompt_ids=prompts[index],
                    completion_ids=completion,
                )
        return [result for result in results if result is not None]

    def _eos_ids(self) -> set[int]:
        ids: set[int] = set()
        configured = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        for value in (configured, self.tokenizer.eos_token_id):
            if isinstance(value, int):
                ids.add(value)
            elif isinstance(value, (list, tuple)):
                ids.update(int(v) for v in value)
        return ids

    def _generate_batch(
        self,
        prompts: list[list[int]],
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        eos_ids: set[int],
    ) -> list[list[int]]:
        import torch

        pad_id = self.tokenizer.pad_token_id
        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, prompt in enumerate(prompts):
            input_ids[row, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
            attention_mask[row, width - len(prompt) :] = 1
        options: dict[str, Any] = {"max_new_tokens": max_new_tokens, "pad_token_id": pad_id}
        if eos_ids:
            options["eos_token_id"] = sorted(eos_ids)
        if temperature > 0:
            options.update(do_sample=True, temperature=temperature, top_p=top_p)
        else:
            # Greedy; clear sampling knobs a checkpoint's generation_config may carry.
            options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        with torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids.to(self.device), attention_mask=attention_mask.to(self.device), **options
            )
        completions: list[list[int]] = []
        for row in output[:, width:].tolist():
            ids: list[int] = []
            for token in row:
                ids.append(token)
                if token in eos_ids:
                    break
            # Rows that finished early are padded after eos; keep nothing past it.
            while ids and ids[-1] == pad_id and pad_id not in eos_ids:
                ids.pop()
            completions.append(ids)
        return completions
