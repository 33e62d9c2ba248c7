"""Plots: several results.json on one PNG; clear errors for files that are not results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memtrain_data.errors import InputError
from memtrain_data.eval.plot import plot_results, read_results

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_results(path: Path, model: str, mode: str, metrics: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"model": model, "task": "hotpotqa", "mode": mode, "metrics": metrics}))
    return path


def entry(em: float, tokens: int | None) -> dict:
    values = {"em": em, "f1": em, "sub_em": em, "accuracy": em, "n": 10}
    if tokens is not None:
        values["target_tokens"] = tokens
    return values


def test_several_results_on_one_plot(tmp_path: Path) -> None:
    memory = write_results(
        tmp_path / "a/results.json", "m", "memory", {"2k": entry(0.5, 2048), "4k": entry(0.4, 4096)}
    )
    full = write_results(
        tmp_path / "b/results.json", "m", "full-context", {"2k": entry(0.6, 2048), "4k": entry(0.1, 4096)}
    )
    out = plot_results([memory, full], tmp_path / "plots/both.png", metric="f1")
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert out.stat().st_size > 10_000


def test_results_without_lengths_are_bars(tmp_path: Path) -> None:
    proxy = write_results(
        tmp_path / "results.json",
        "m",
        "memory",
        {"reconstruction": entry(0.3, None), "recall": entry(0.2, None)},
    )
    assert plot_results([proxy], tmp_path / "proxy.png").read_bytes()[:8] == PNG_MAGIC


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="results file not found"):
        read_results(tmp_path / "absent.json")
    (tmp_path / "x.json").write_text('{"a": 1}')
    with pytest.raises(InputError, match=r"not a memtrain eval results\.json"):
        read_results(tmp_path / "x.json")
    good = write_results(tmp_path / "r.json", "m", "memory", {"2k": entry(0.5, 2048)})
    with pytest.raises(InputError, match="unknown metric 'acc'"):
        plot_results([good], tmp_path / "p.png", metric="acc")


def test_lengths_are_drawn_at_their_measured_size_and_a_missing_metric_is_an_error(tmp_path: Path) -> None:
    ruler = tmp_path / "ruler/results.json"
    ruler.parent.mkdir()
    ruler.write_text(json.dumps({"model": "m", "task": "ruler-hqa", "mode": "memory", "keyed_by_length": True,
                                 "metrics": {"50": {**entry(0.5, None), "mean_tokens": 7100.0}}}))  # fmt: skip
    assert plot_results([ruler], tmp_path / "r.png").read_bytes()[:8] == PNG_MAGIC
    old = write_results(
        tmp_path / "old/results.json", "m", "memory", {"2k": {"em": 0.5, "n": 1, "target_tokens": 2048}}
    )
    with pytest.raises(InputError, match="has no 'accuracy' for every length"):
        plot_results([old], tmp_path / "o.png")
