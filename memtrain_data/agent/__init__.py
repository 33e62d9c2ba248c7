"""The memory agent shared by training and evaluation (MemAgent / MemTrain protocol).

`templates` holds the prompts, `budgets` the token budgets, `answers` the `\\boxed{}`
extraction, `backends` the generation engines, and `loop` the batched agent loop.
"""

from __future__ import annotations

from memtrain_data.agent.answers import extract_boxed
from memtrain_data.agent.backends.base import Generation, GenerationBackend
from memtrain_data.agent.budgets import AgentBudgets, truncate_to_tokens
from memtrain_data.agent.loop import AgentTask, Trajectory, Turn, run_memory_agent, run_recall
from memtrain_data.agent.templates import PromptTemplates

__all__ = [
    "AgentBudgets",
    "AgentTask",
    "Generation",
    "GenerationBackend",
    "PromptTemplates",
    "Trajectory",
    "Turn",
    "extract_boxed",
    "run_memory_agent",
    "run_recall",
    "truncate_to_tokens",
]
