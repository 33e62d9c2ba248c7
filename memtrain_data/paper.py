"""The MemTrain paper's numbers (arXiv 2606.03197), in one place.

Episodes: one pivot passage, its 29 related passages and 120 random ones make a document of
24,000-40,960 tokens, read in 5,120-token chunks (so at most 8 of them). The agent's
8,192-token context holds 1,024 tokens of instruction, one 5,120-token chunk, 1,024 tokens
of memory and a 1,024-token response.

The build's `paper` preset, its setting defaults, the agent's budgets and the training
defaults all take their numbers from here, so they cannot drift apart.
"""

from __future__ import annotations

from typing import Final

# --- episodes (the proxy task's documents)
RELATED_PASSAGES: Final = 29
RANDOM_PASSAGES: Final = 120
CHUNK_TOKENS: Final = 5120
MAX_CHUNKS: Final = 8
MIN_DOC_TOKENS: Final = 24_000
MAX_DOC_TOKENS: Final = 40_960

# --- the memory agent's context (training budgets)
CONTEXT_TOKENS: Final = 8192
INSTRUCTION_TOKENS: Final = 1024
MEMORY_TOKENS: Final = 1024
RESPONSE_TOKENS: Final = 1024
