"""A synthetic episode set for checking that training learns (`memtrain train --sanity-check`).

Each toy episode is a short document that states two made-up facts once, in its first two
chunks: the town a lighthouse stands in (the recall target, chunk 0) and who keeps it (the
answer, chunk 1). The last chunk refers to the keeper only as [MASK]. So the final answer needs
the memory to carry the keeper's name to the end, and the recall probe (chunk 0 with the town as
[TARGET], asked from a later memory) needs it to carry the town. Each fact has a chunk of its
own so that the recall sentence holds no other name a model could copy instead. Names are
invented, so the model cannot know them without reading.

These are not MemTrain episodes of a published dataset: the answer is stated in chunk 1 on
purpose (a real episode must never show it), so they are generated in memory, never written as
a dataset, and not put through `memtrain validate`'s rules.
"""

from __future__ import annotations

import random
from typing import Any

from memtrain_data.records import MASK_TOKEN, SCHEMA_VERSION, TARGET_TOKEN

# A direct question rather than the reconstruction question: a 135M model answers it from notes
# that hold the keeper's name, which is what the check needs (the memory must carry the name).
TOY_QUESTION = "Who is the keeper of the lighthouse?"

# Invented, so no model has a prior for them; distinct from each other and from every town.
_KEEPERS = (
    "Orlan", "Tavik", "Belmira", "Quessa", "Dunmor", "Yselde", "Karvo", "Pellin",
    "Ostra", "Virek", "Saphine", "Morwick", "Elsbet", "Garrow", "Lunette", "Hadrik",
)  # fmt: skip
_TOWNS = (
    "Vesk", "Rundal", "Corvain", "Tillow", "Maresh", "Bexford", "Quillon", "Annsby",
    "Drelton", "Fennick", "Holmgard", "Saltry", "Urnley", "Wexmoor", "Brisk", "Olvane",
)  # fmt: skip
_FILLER = (
    "The sea was calm that week and the fishing boats stayed out late.",
    "Gulls nested on the rocks below the cliff every spring.",
    "A narrow road led from the harbour up to the headland.",
    "Storms in winter sometimes cut the town off for days.",
)


def toy_episodes(count: int, *, seed: int = 0, num_chunks: int = 3) -> list[dict[str, Any]]:
    """`count` toy episodes as dicts with the columns a rollout reads (id, question, answers, chunks, recall_probes).

    Chunk 0 states the town, chunk 1 the keeper; chunks 2 .. num_chunks-2 are filler; the last
    chunk names the keeper only as [MASK]. The one recall probe masks the town in chunk 0.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    if num_chunks < 3:
        raise ValueError(
            f"a toy episode needs at least 3 chunks (the town, the keeper, then the [MASK]), got {num_chunks}"
        )
    rng = random.Random(seed)
    episodes = []
    for index in range(count):
        keeper = rng.choice(_KEEPERS)
        town = rng.choice(_TOWNS)
        town_fact = f"The old lighthouse stands in {town}."
        chunks = [town_fact, f"The keeper of the lighthouse is {keeper}."]
        chunks += [rng.choice(_FILLER) for _ in range(num_chunks - 3)]
        chunks.append(f"Every night {MASK_TOKEN} climbs the stairs of the lighthouse and lights the lamp.")
        episodes.append(
            {
                "schema_version": SCHEMA_VERSION,
                "id": f"toy-{seed}-{index:05d}",
                "question": TOY_QUESTION,
                "answers": [keeper],
                "chunks": chunks,
                "recall_probes": [
                    {
                        "chunk_index": 0,
                        "masked_chunk": town_fact.replace(town, TARGET_TOKEN),
                        "target": town,
                        "label": "GPE",
                        "masked_occurrences": 1,
                    }
                ],
            }
        )
    return episodes


def toy_dataset(count: int, *, seed: int = 0, num_chunks: int = 3) -> Any:
    """The toy episodes as a `datasets.Dataset` (what the trainer's sampler reads)."""
    from datasets import Dataset

    return Dataset.from_list(toy_episodes(count, seed=seed, num_chunks=num_chunks))
