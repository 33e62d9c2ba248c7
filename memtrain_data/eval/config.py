"""Settings of `memtrain eval`, as a TRL-style dataclass whose fields carry their help text.

Precedence, lowest first: field defaults, a YAML `--config` file, flags.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memtrain_data.config import config_field, config_to_dict
from memtrain_data.errors import ConfigError

MODES: tuple[str, ...] = ("memory", "full-context")
_LENGTH = re.compile(r"^(\d+(?:\.\d+)?)([kKmM]?)$")
_DOCUMENTS = re.compile(r"^(\d+)\s*(?:d|docs?|documents?)$", re.IGNORECASE)

# Settings that only choose *which* examples run, *where from*, or *how fast*: changing them keeps
# the predictions already made valid, so a rerun reuses them. What the examples are is checked
# per example (a hash of each input and gold), what the model is by its identity.
_NOT_AFFECTING_PREDICTIONS = frozenset(
    {"output", "lengths", "limit", "ids", "batch_size", "device", "concurrency", "base_url", "plot",
     "request_retries",
     "data", "pool", "templates", "model", "tokenizer"}
)  # fmt: skip


def document_count(label: str) -> int | None:
    """Documents of a length given as a document count ('50docs', '50d'), else None.

    >>> document_count("50docs"), document_count("7k")
    (50, None)
    """
    match = _DOCUMENTS.match(label.strip())
    if not match:
        return None
    if int(match.group(1)) < 1:
        raise ConfigError(f"length '{label}' must be at least one document")
    return int(match.group(1))


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
        "ruler-hqa",
        help="Evaluation task: ruler-hqa (MemAgent's released RULER-HotpotQA files), hotpotqa "
        "(RULER-style contexts built from raw HotpotQA) or proxy (a memtrain dataset).",
    )
    data: str | None = config_field(
        None,
        help="ruler-hqa: an eval_{N}.json file, a folder of them, or a Hub dataset id holding them; "
        "hotpotqa: HotpotQA-format JSON file; proxy: memtrain dataset folder or Hub id.",
    )
    protocol: str | None = config_field(
        None,
        help="memagent (MemAgent's eval: its prompts, chunk 5000, memory 1024, response 1024, temperature "
        "0.7, top-p 0.95) or memtrain (memtrain's prompts with the paper's training budgets: chunk 5120, "
        "memory 1024, response 1024; greedy). Default: memagent for ruler-hqa "
        "and hotpotqa, memtrain for proxy. Explicit budget/decoding settings override the protocol's.",
    )
    output: Path = config_field(
        Path("memtrain-eval"), help="Output folder: results.json, predictions.jsonl, plot.png (a rerun with the same settings reuses finished examples)."
    )
    config_name: str | None = config_field(
        None, help="proxy: dataset config name (default: the only one in the folder)."
    )
    split: str = config_field("test", help="proxy: dataset split.")
    lengths: list[str] | None = config_field(
        None,
        help="Comma-separated. ruler-hqa: document counts to run (50, 100 … or the paper's labels 7k … 896k; default: "
        "every file); hotpotqa: target lengths in tokens of the model's tokenizer (k = 1024) or in "
        "documents ('50docs'; default 7k,14k,28k).",
    )
    mode: str = config_field(
        "memory", help="memory (the agent reads chunk by chunk) or full-context (one prompt, the baseline)."
    )
    backend: str = config_field("transformers", help="Generation backend: transformers, vllm or openai.")
    base_url: str | None = config_field(
        None, help="openai backend: endpoint base URL ending in /v1 (default $OPENAI_BASE_URL; key from $OPENAI_API_KEY)."
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
    request_retries: int = config_field(
        5, help="openai backend: retries of a failed request (backoff 1, 2, 4 … s), then one error line."
    )
    num_samples: int = config_field(1, help="Trajectories per example; scores are averaged over them.")
    limit: int | None = config_field(
        None, help="Evaluate only the first N examples (per length for ruler-hqa and hotpotqa); results.json still reports all done."
    )
    ids: list[str] | None = config_field(
        None, help="Evaluate only these comma-separated examples (ruler-hqa: `index`; hotpotqa: `_id`; proxy: `id`)."
    )
    seed: int = config_field(0, help="Seed of context padding, probe choice and sampling.")
    temperature: float | None = config_field(
        None, help="Sampling temperature; 0 is greedy (default: the protocol's)."
    )
    top_p: float | None = config_field(
        None, help="Nucleus sampling threshold with temperature > 0 (default: the protocol's)."
    )
    templates: Path | None = config_field(
        None, help="YAML/JSON file overriding the agent's prompt templates."
    )
    chunk_tokens: int | None = config_field(
        None,
        help="Tokens of one chunk the agent reads (default: the protocol's; proxy chunks come with the data).",
    )
    memory_tokens: int | None = config_field(
        None, help="Memory budget: each new memory is cut to this many tokens (default: the protocol's)."
    )
    response_tokens: int | None = config_field(
        None, help="Most tokens generated per turn, full-context answer included (default: the protocol's)."
    )
    batch_size: int = config_field(
        16, help="Examples advanced together (times num_samples conversations per generate call)."
    )
    max_context_tokens: int | None = config_field(
        None,
        help="full-context: prompt + answer limit in tokens (default: the model config's "
        "max_position_embeddings, capped by the tokenizer's model_max_length; 32768 for stock "
        "Qwen2.5-7B-Instruct). Longer documents are cut in the middle; the answer gets response_tokens.",
    )
    pool: Path | None = config_field(
        None,
        help="hotpotqa: distractor paragraphs: a HotpotQA JSON file (MemAgent drew from all distinct "
        "paragraphs of the whole dev set) or a memtrain output folder (pool/*.parquet). Default: "
        "only the paragraphs of the --data questions.",
    )
    plot: bool = config_field(True, help="Write plot.png (score against context length).")

    def __post_init__(self) -> None:
        from memtrain_data.agent.protocols import get_protocol
        from memtrain_data.eval.registry import task_class

        self.output = Path(self.output)
        task = task_class(self.task)  # the task knows its protocol, default lengths and their form
        if self.protocol is None:
            self.protocol = task.default_protocol
        for name, value in get_protocol(self.protocol).settings().items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if isinstance(self.ids, str):
            self.ids = [self.ids]
        if self.ids is not None:
            # Comma-separated, in one flag or several (--ids 3,7 --ids 9), or a YAML list.
            self.ids = [part.strip() for value in self.ids for part in str(value).split(",") if part.strip()]
            if not self.ids:
                raise ConfigError("--ids is empty: give comma-separated example ids")
        if self.lengths is None and task.default_lengths is not None:
            self.lengths = list(task.default_lengths)
        if isinstance(self.lengths, str):
            self.lengths = [self.lengths]
        if self.lengths is not None:
            self.lengths = [part.strip() for value in self.lengths for part in str(value).split(",") if part.strip()]
            for length in self.lengths:
                task.check_length(length)
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
        if self.request_retries < 0:
            raise ConfigError(f"request_retries must be at least 0, got {self.request_retries}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit must be at least 1, got {self.limit}")
        if self.temperature < 0 or not 0 < self.top_p <= 1:  # type: ignore[operator]
            raise ConfigError("temperature must be >= 0 and top_p in (0, 1]")

    @property
    def length_targets(self) -> dict[str, tuple[str, int]]:
        """hotpotqa: each length label -> ("tokens", n) or ("documents", n)."""
        targets: dict[str, tuple[str, int]] = {}
        for label in self.lengths or []:
            documents = document_count(label)
            targets[label] = ("documents", documents) if documents else ("tokens", parse_length(label))
        return targets

    def to_dict(self) -> dict[str, Any]:
        return config_to_dict(self)

    def prediction_key(self, identity: dict[str, Any], templates_text: str) -> str:
        """A short hash of everything besides the inputs that decides predictions.

        Every setting not in `_NOT_AFFECTING_PREDICTIONS`, the model's `identity` (path and
        weights fingerprint or Hub revision, see `agent.backends.identity`) and the rendered
        templates (so editing a templates file or the protocol's prompts invalidates them).
        """
        values = {k: v for k, v in sorted(self.to_dict().items()) if k not in _NOT_AFFECTING_PREDICTIONS}
        values["identity"] = identity
        values["templates"] = hashlib.sha256(templates_text.encode()).hexdigest()
        return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:16]
