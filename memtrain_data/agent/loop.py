"""The batched memory-agent loop shared by `memtrain eval` and `memtrain train`.

An agent reads a document chunk by chunk. Each turn is an independent conversation built from
(problem, memory m(t-1), chunk c(t)); the reply, cut to the memory budget, becomes m(t). After
the last chunk one more turn answers from m(T) alone. Many documents (and many samples of each)
advance together: every `generate` call moves all live conversations one turn forward, so a
batch costs max(T) + 1 calls, whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from memtrain_data.agent.answers import extract_boxed, strip_thinking
from memtrain_data.agent.backends.base import GenerationBackend
from memtrain_data.agent.budgets import AgentBudgets, truncate_to_tokens
from memtrain_data.agent.templates import PromptTemplates, reply_prefill
from memtrain_data.errors import InputError


@dataclass
class AgentTask:
    """One document to read: its problem and its chunks, in reading order."""

    id: str
    problem: str
    chunks: list[str]


@dataclass
class Turn:
    """One conversation of a trajectory: the prompt sent and what the model replied."""

    kind: Literal["update", "final", "recall"]
    step: int  # 1-based chunk index for update turns; T+1 for the final turn; memory step k for recall
    messages: list[dict[str, str]]
    completion: str
    prompt_ids: list[int] | None = None
    completion_ids: list[int] | None = None

    @property
    def reply(self) -> str:
        """The whole reply: the prefilled start (`PromptTemplates.answer_prefix`), if any, then the completion."""
        return reply_prefill(self.messages) + self.completion


@dataclass
class Trajectory:
    """A full read of one document by one sample: T update turns, then the final turn."""

    task_id: str
    sample_index: int
    turns: list[Turn] = field(default_factory=list)
    memories: list[str] = field(default_factory=list)  # m(0) .. m(T), each within the memory budget
    answer: str | None = None  # extracted from the final turn's \boxed{}


def _step_seed(seed: int | None, step: int) -> int | None:
    # A different seed per call, so step t of a rerun samples the same, but steps differ.
    return None if seed is None else seed * 1_000 + step


def run_memory_agent(
    backend: GenerationBackend,
    tasks: list[AgentTask],
    *,
    samples_per_task: int = 1,
    templates: PromptTemplates | None = None,
    budgets: AgentBudgets | None = None,
    temperature: float = 0.0,
    top_p: float = 1.0,
    seed: int | None = None,
) -> list[Trajectory]:
    """Run the memory agent on every task, `samples_per_task` times, batched by turn.

    Returns trajectories task-major (all samples of tasks[0] first). Chunks are used as given:
    cutting documents to `budgets.chunk_tokens` is the caller's job (see `split_into_chunks`).
    """
    if samples_per_task < 1:
        raise InputError(f"samples_per_task must be at least 1, got {samples_per_task}")
    templates = templates or PromptTemplates()
    budgets = budgets or AgentBudgets()
    tokenizer = getattr(backend, "tokenizer", None)
    trajectories = [
        Trajectory(task_id=task.id, sample_index=sample, memories=[templates.initial_memory])
        for task in tasks
        for sample in range(samples_per_task)
    ]
    owners = [task for task in tasks for _ in range(samples_per_task)]
    most_chunks = max((len(task.chunks) for task in tasks), default=0)

    for step in range(1, most_chunks + 1):
        live = [i for i, task in enumerate(owners) if len(task.chunks) >= step]
        conversations = [
            templates.update_messages(
                owners[i].problem, trajectories[i].memories[-1], owners[i].chunks[step - 1]
            )
            for i in live
        ]
        generations = backend.generate(
            conversations,
            max_new_tokens=budgets.response_tokens,
            temperature=temperature,
            top_p=top_p,
            seed=_step_seed(seed, step),
        )
        for i, messages, generation in zip(live, conversations, generations, strict=True):
            trajectory = trajectories[i]
            trajectory.turns.append(
                Turn(
                    "update",
                    step,
                    messages,
                    generation.text,
                    generation.prompt_ids,
                    generation.completion_ids,
                )
            )
            # A reasoning model's thoughts are not memory (MemAgent keeps the text after </think>).
            memory = strip_thinking(generation.text)
            trajectory.memories.append(truncate_to_tokens(tokenizer, memory, budgets.memory_tokens))

    if not trajectories:
        return []
    conversations = [
        templates.final_messages(task.problem, trajectory.memories[-1])
        for task, trajectory in zip(owners, trajectories, strict=True)
    ]
    generations = backend.generate(
        conversations,
        max_new_tokens=budgets.response_tokens,
        temperature=temperature,
        top_p=top_p,
        seed=_step_seed(seed, most_chunks + 1),
    )
    for task, trajectory, messages, generation in zip(
        owners, trajectories, conversations, generations, strict=True
    ):
        trajectory.turns.append(
            Turn(
                "final",
                len(task.chunks) + 1,
                messages,
                generation.text,
                generation.prompt_ids,
                generation.completion_ids,
            )
        )
        trajectory.answer = extract_boxed(trajectory.turns[-1].reply)
    return trajectories


def run_recall(
    backend: GenerationBackend,
    memories: list[str],
    masked_chunks: list[str],
    *,
    samples: int = 1,
    templates: PromptTemplates | None = None,
    budgets: AgentBudgets | None = None,
    temperature: float = 0.0,
    top_p: float = 1.0,
    seed: int | None = None,
    steps: list[int] | None = None,
) -> list[list[Turn]]:
    """Ask the recall turn for every (memory, masked chunk) pair, `samples` times, in one generate call.

    `steps` (optional) records the memory step k of each pair in the returned turns (0 when not given).
    Returns, per pair, its `samples` recall turns; `extract_boxed(turn.reply)` is the prediction.
    """
    if len(memories) != len(masked_chunks):
        raise InputError(f"{len(memories)} memories but {len(masked_chunks)} masked chunks")
    if steps is not None and len(steps) != len(memories):
        raise InputError(f"{len(steps)} steps for {len(memories)} memories")
    if samples < 1:
        raise InputError(f"samples must be at least 1, got {samples}")
    if not memories:
        return []
    templates = templates or PromptTemplates()
    budgets = budgets or AgentBudgets()
    conversations = [
        templates.recall_messages(memory, chunk)
        for memory, chunk in zip(memories, masked_chunks, strict=True)
        for _ in range(samples)
    ]
    generations = backend.generate(
        conversations, max_new_tokens=budgets.response_tokens, temperature=temperature, top_p=top_p, seed=seed
    )
    turns: list[list[Turn]] = []
    for pair in range(len(memories)):
        step = steps[pair] if steps is not None else 0
        rows = range(pair * samples, (pair + 1) * samples)
        turns.append(
            [
                Turn(
                    "recall",
                    step,
                    conversations[r],
                    generations[r].text,
                    generations[r].prompt_ids,
                    generations[r].completion_ids,
                )
                for r in rows
            ]
        )
    return turns
