"""Settings of `memtrain eval`, as a TRL-style dataclass whose fields carry their help text.

Precedence, lowest first: field defaults, a YAML `--config` file, flags.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memtrain_data.config import config_field, config_to_dict
from memtrain_data.errors import ConfigError

MODES: tuple[str, ...] = ("memory", "full-context")
_LENGTH = re.compile(r"^(\d+(?:\.\d+)?)([kKmM]?)$")

# Settings that only choose *which* examples run, or *how fast*: changing them keeps the
# predictions already made valid, so a rerun reuses them.
_NOT_AFFECTING_PREDICTIONS = frozenset(
    {"output", "lengths", "limit", "batch_size", "device", "concurrency", "base_url", "plot"}
)


def parse_length(label: str) -> int:
    """Tokens of a length label: '2k' -> 2048, '1.5k' -> 1536, '1m' -> 1048576, '3000' -> 3000.

    >>> parse_length("7k"), parse_length("500")
    (7168, 500)
    """
    match = _LENGTH.match(label.strip())
    if not match:
        raise ConfigError(f"length '{label}' is not a token count like 2k, 7k, 1m or 3000")
    number, unit = float(match.group(1)), match.group(2).lower()
    tokens = int(number * {"": 1, "k": 1024, "m": 1024 * 1024}[unit])
    if tokens < 1:
        raise ConfigError(f"length '{label}' must be at least one token")
    return tokens


@dataclass
class EvalConfig:
    """Everything `memtrain eval` needs.

    What to evaluate: `model`, `backend`, `base_url`, `tokenizer`, `device`, `dtype`.
    On what: `task`, `data`, `config_name`, `split`, `lengths`, `pool`, `limit`.
    How: `mode`, `num_samples`, `seed`, `temperature`, `top_p`, `templates`, the budgets.
    Where: `output` (results.json, predictions.jsonl, plot.png; reruns reuse finished examples).
    """

    model: str | None = config_field(
        None, help="Model to evaluate: local folder or Hub id (served model name for --backend openai)."
    )
    task: str = config_field(
        "hotpotqa", help="Evaluation task: hotpotqa (long-context QA) or proxy (a memtrain dataset)."
    )
    data: str | None = config_field(
        None, help="hotpotqa: HotpotQA-format JSON file; proxy: memtrain dataset folder or Hub id."
    )
    output: Path = config_field(
        Path("memtrain-eval"), help="Output folder: results.json, predictions.jsonl, plot.png."
    )
    config_name: str | None = config_field(
        None, help="proxy: dataset config name (default: the only one in the folder)."
    )
    split: str = config_field("test", help="proxy: dataset split.")
    lengths: list[str] = config_field(
        ["7k", "14k", "28k"], help="hotpotqa: context lengths in tokens of the model's tokenizer (k = 1024)."
    )
    mode: str = config_field(
        "memory", help="memory (the agent reads chunk by chunk) or full-context (one prompt, the baseline)."
    )
    backend: str = config_field("transformers", help="Generation backend: transformers, vllm or openai.")
    base_url: str | None = config_field(
        None, help="openai backend: endpoint base URL ending in /v1 (default $OPENAI_BASE_URL)."
    )
    tokenizer: str | None = config_field(
        None, help="Tokenizer for lengths and budgets (openai backend; default: the backend's own)."
    )
    device: str | None = config_field(
        None, help="transformers backend: cpu, cuda, cuda:1 … (default: cuda if available)."
    )
    dtype: str | None = config_field(
        None, help="transformers backend: torch dtype name, e.g. bfloat16 (default float32)."
    )
    concurrency: int = config_field(8, help="openai backend: requests in flight at once.")
    num_samples: int = config_field(1, help="Trajectories per example; scores are averaged over them.")
    limit: int | None = config_field(
        None, help="Evaluate only the first N examples (per length for hotpotqa)."
    )
    seed: int = config_field(0, help="Seed of context padding, probe choice and sampling.")
    temperature: float = config_field(0.0, help="Sampling temperature; 0 is greedy.")
    top_p: float = config_field(1.0, help="Nucleus sampling threshold (with temperature > 0).")
    templates: Path | None = config_field(
        None, help="YAML/JSON file overriding the agent's prompt templates."
    )
    chunk_tokens: int = config_field(
        5120, help="Tokens of one chunk the agent reads (hotpotqa; proxy chunks come with the data)."
    )
    memory_tokens: int = config_field(1024, help="Memory budget: each new memory is cut to this many tokens.")
    response_tokens: int = config_field(1024, help="Most tokens generated per turn.")
    batch_size: int = config_field(
        16, help="Examples advanced together (times num_samples conversations per generate call)."
    )
    max_context_tokens: int | None = config_field(
        None, help="full-context: the model's context length (default: read from the model)."
    )
    pool: Path | None = config_field(
        None,
        help="hotpotqa: memtrain output folder whose pool/*.parquet passages are added to the distractors.",
    )
    plot: bool = config_field(True, help="Write plot.png (score against context length).")

    def __post_init__(self) -> None:
        self.output = Path(self.output)
        if isinstance(self.lengths, str):
            self.lengths = [part for part in self.lengths.split(",") if part.strip()]
        self.lengths = [str(length).strip() for length in self.lengths]
        for length in self.lengths:
            parse_length(length)
        if len(set(self.lengths)) != len(self.lengths):
            raise ConfigError(f"lengths repeat a value: {','.join(self.lengths)}")
        if self.templates is not None:
            self.templates = Path(self.templates)
        if self.pool is not None:
            self.pool = Path(self.pool)
        if self.mode not in MODES:
            raise ConfigError(f"unknown mode '{self.mode}'; choose memory or full-context")
        for name in (
            "num_samples",
            "chunk_tokens",
            "memory_tokens",
            "response_tokens",
            "batch_size",
            "concurrency",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit must be at least 1, got {self.limit}")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise ConfigError("temperature must be >= 0 and top_p in (0, 1]")

    @property
    def length_tokens(self) -> dict[str, int]:
        return {label: parse_length(label) for label in self.lengths}

    def to_dict(self) -> dict[str, Any]:
        return config_to_dict(self)

    def prediction_key(self) -> str:
        """A short hash of every setting that changes predictions (see `_NOT_AFFECTING_PREDICTIONS`).

        The templates file enters by content, so editing it invalidates earlier predictions.
        """
        values = {k: v for k, v in sorted(self.to_dict().items()) if k not in _NOT_AFFECTING_PREDICTIONS}
        if self.templates is not None and self.templates.is_file():
            values["templates"] = hashlib.sha256(self.templates.read_bytes()).hexdigest()
        return hashlib.sha256(repr(values).encode()).hexdigest()[:16]
