"""PNG figures of a config's episodes (length histogram, entity labels), drawn under `<config>/figures/` for the card."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from memtrain_data.publish.layout import FIGURES_DIR
from memtrain_data.publish.statistics import episode_lengths


def write_figures(folder: Path, config_name: str, shards: dict[str, list[Path]], split_stats: dict[str, dict[str, Any]]) -> list[str]:
    """Episode-length histogram and entity-label bar chart under `<config>/figures/`; returns repo-relative paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    out = folder / config_name / FIGURES_DIR
    out.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    # No timestamps or software version in the PNG, so rebuilding gives the same bytes.
    png_metadata: dict[str, Any] = {"Software": None}

    lengths = episode_lengths(shards)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    all_lengths = [n for values in lengths.values() for n in values]
    bins = min(30, max(5, len(set(all_lengths))))
    ax.hist([lengths[s] for s in lengths], bins=bins, label=list(lengths), stacked=True)
    ax.set_xlabel("tokens per episode")
    ax.set_ylabel("episodes")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"{config_name}: episode length")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "episode_tokens.png", dpi=100, metadata=png_metadata)
    plt.close(fig)
    written.append(f"{config_name}/{FIGURES_DIR}/episode_tokens.png")

    labels = Counter[str]()
    for values in split_stats.values():
        labels.update(values["answer_labels"])
    ordered = sorted(labels, key=lambda label: (-labels[label], label))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    bottom = [0] * len(ordered)
    for split, values in split_stats.items():
        heights = [values["answer_labels"].get(label, 0) for label in ordered]
        ax.bar(ordered, heights, bottom=bottom, label=split)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_ylabel("episodes")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"{config_name}: label of the masked entity")
    ax.tick_params(axis="x", labelrotation=45)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "entity_labels.png", dpi=100, metadata=png_metadata)
    plt.close(fig)
    written.append(f"{config_name}/{FIGURES_DIR}/entity_labels.png")
    return written
