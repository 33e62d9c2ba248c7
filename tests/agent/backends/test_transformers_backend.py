"""The transformers backend: chat template rendering, batching and order, token ids."""

from __future__ import annotations

from memtrain_data.agent.backends.transformers_backend import TransformersBackend

CONVERSATIONS = [
    [{"role": "user", "content": "Paris is the capital of France and a long sentence follows here."}],
    [{"role": "user", "content": "Short."}],
    [{"role": "user", "content": "The Eiffel Tower was completed in 1889."}],
]


def test_prompt_is_rendered_with_the_chat_template(tiny_backend) -> None:
    ids = tiny_backend.render(CONVERSATIONS[1])
    text = tiny_backend.tokenizer.decode(ids)
    assert text == "<|im_start|>user\nShort.<|im_end|>\n<|im_start|>assistant\n"


def test_micro_batches_give_the_same_greedy_replies_in_the_callers_order(tiny_backend) -> None:
    whole = tiny_backend.generate(CONVERSATIONS, max_new_tokens=6)
    one_at_a_time = TransformersBackend(tiny_backend.model, tiny_backend.tokenizer, batch_size=1).generate(
        CONVERSATIONS, max_new_tokens=6
    )
    assert [g.completion_ids for g in whole] == [g.completion_ids for g in one_at_a_time]
    assert [g.prompt_ids for g in whole] == [tiny_backend.render(c) for c in CONVERSATIONS]
    assert all(0 < len(g.completion_ids) <= 6 for g in whole)


def test_sampling_with_a_seed_is_reproducible_and_rows_differ(tiny_backend) -> None:
    same = [CONVERSATIONS[0]] * 3
    first = tiny_backend.generate(same, max_new_tokens=8, temperature=1.0, seed=5)
    second = tiny_backend.generate(same, max_new_tokens=8, temperature=1.0, seed=5)
    assert [g.completion_ids for g in first] == [g.completion_ids for g in second]
    assert len({tuple(g.completion_ids) for g in first}) > 1


def test_empty_input_makes_no_model_call(tiny_backend) -> None:
    assert tiny_backend.generate([], max_new_tokens=4) == []


PREFILLED = [*CONVERSATIONS[1], {"role": "assistant", "content": "The answer is"}]


def test_a_prefilled_reply_is_rendered_open_so_the_model_continues_it(tiny_backend) -> None:
    ids = tiny_backend.render(PREFILLED)
    text = tiny_backend.tokenizer.decode(ids)
    # The generation prompt, then the prefill, and no end-of-turn after it.
    assert text == "<|im_start|>user\nShort.<|im_end|>\n<|im_start|>assistant\nThe answer is"
    assert ids[: len(tiny_backend.render(CONVERSATIONS[1]))] == tiny_backend.render(CONVERSATIONS[1])


def test_a_prefilled_generation_returns_only_the_continuation(tiny_backend) -> None:
    [generation] = tiny_backend.generate([PREFILLED], max_new_tokens=5)
    assert generation.prompt_ids == tiny_backend.render(PREFILLED)
    decoded = tiny_backend.tokenizer.decode(generation.completion_ids, skip_special_tokens=True)
    # Leading space kept, so that prefill + continuation reads as the model wrote it.
    assert generation.text == decoded.rstrip()
