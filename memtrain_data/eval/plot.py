"""Plots of evaluation results: score against context length, one line per results.json.

Results keyed by length (ruler-hqa, hotpotqa) are drawn as lines over the *measured* mean
context length in tokens (a context the distractors could not fill is drawn where it really is,
not at its target); results with other keys (proxy: reconstruction, recall) as grouped bars.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from memtrain_data.errors import InputError, first_line

METRIC_LABELS = {
    "em": "exact match",
    "f1": "F1",
    "sub_em": "substring exact match",
    "accuracy": "accuracy (MemAgent's two-way substring match)",
}


def read_results(path: Path) -> dict[str, Any]:
    """A results.json written by `memtrain eval`, checked for the fields plots need."""
    if not path.is_file():
        raise InputError(f"results file not found: {path}")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not JSON ({first_line(exc)})") from None
    if not isinstance(results, dict) or not isinstance(results.get("metrics"), dict):
        raise InputError(f"{path}: not a memtrain eval results.json (no 'metrics')")
    return results


def series_label(results: dict[str, Any], path: Path) -> str:
    model = str(results.get("model") or path.parent.name)
    name = Path(model).name if "/" in model and Path(model).exists() else model
    return f"{name} · {results.get('task', '?')} · {results.get('mode', '?')}"


def _by_length(results: dict[str, Any]) -> bool:
    if "keyed_by_length" in results:
        return bool(results["keyed_by_length"]) and bool(results["metrics"])
    return bool(results["metrics"]) and all("target_tokens" in v for v in results["metrics"].values())


def _x(values: dict[str, Any]) -> float:
    return float(values.get("mean_tokens") or values.get("target_tokens") or 0)


def plot_results(paths: list[Path], output: Path, metric: str = "accuracy") -> Path:
    """Draw every results file on one PNG at `output`; returns the path written."""
    if not paths:
        raise InputError("give at least one results.json to plot")
    if metric not in METRIC_LABELS:
        raise InputError(f"unknown metric '{metric}'; choose one of: {', '.join(METRIC_LABELS)}")
    loaded = [(Path(path), read_results(Path(path))) for path in paths]
    for path, results in loaded:
        if any(metric not in values for values in results["metrics"].values()):
            raise InputError(
                f"{path} has no '{metric}' for every length (an older results.json?): choose --metric em"
            )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=120)
    if all(_by_length(r) for _, r in loaded):
        for path, results in loaded:
            points = sorted((_x(v), v[metric], label) for label, v in results["metrics"].items())
            axes.plot(
                [p[0] for p in points],
                [100 * p[1] for p in points],
                marker="o",
                label=series_label(results, path),
            )
            for tokens, score, label in points:
                axes.annotate(
                    label,
                    (tokens, 100 * score),
                    textcoords="offset points",
                    xytext=(0, 6),
                    ha="center",
                    fontsize=7,
                )
        axes.set_xscale("log", base=2)
        axes.set_xlabel("measured context length (mean tokens)")
    else:
        keys = list(dict.fromkeys(k for _, r in loaded for k in r["metrics"]))
        width = 0.8 / len(loaded)
        for index, (path, results) in enumerate(loaded):
            xs = [position + index * width for position in range(len(keys))]
            heights = [100 * results["metrics"].get(k, {}).get(metric, 0.0) for k in keys]
            axes.bar(xs, heights, width=width, label=series_label(results, path))
        axes.set_xticks([position + width * (len(loaded) - 1) / 2 for position in range(len(keys))], keys)
    axes.set_ylabel(f"{METRIC_LABELS[metric]} (%)")
    axes.set_ylim(0, 100)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    axes.set_title(f"memtrain eval: {METRIC_LABELS[metric]}")
    figure.tight_layout()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output)
    plt.close(figure)
    return output
