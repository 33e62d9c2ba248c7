"""The card's figures: PNGs under `<config>/figures/`, referenced from README.md."""

from __future__ import annotations

from pathlib import Path


def test_figures_are_pngs_referenced_from_the_card(built_dataset: Path) -> None:
    card = (built_dataset / "README.md").read_text()
    for name in ("episode_tokens.png", "entity_labels.png"):
        path = built_dataset / "mini" / "figures" / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"](mini/figures/{name})" in card
