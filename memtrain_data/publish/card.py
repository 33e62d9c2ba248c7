"""The dataset card's text: README.md (YAML header + body) rendered from `stats.json`.

Rendering only: every number comes from `stats.json`, which `write_card` fills from the shards
actually written (`statistics`, `provenance`, `figures`), not from what the builder meant to
write. The YAML header is produced with the `datasets` and
`huggingface_hub` card utilities, so `load_dataset(DIR, CONFIG)` and the Hub read exactly the
declared configs and features. Building a second config into the same folder keeps the first:
the existing header is parsed and merged, and the body is rendered for every config that
`stats.json` describes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memtrain_data.publish.layout import README_NAME, read_stats
from memtrain_data.publish.provenance import license_for, text_date
from memtrain_data.records import MASK_TOKEN, RECONSTRUCTION_QUESTION, SPLITS, TARGET_TOKEN

if TYPE_CHECKING:
    from huggingface_hub import DatasetCardData


PAPER_ARXIV_ID = "2606.03197"
PAPER_URL = f"https://arxiv.org/abs/{PAPER_ARXIV_ID}"
# Shown in the card where the Hub repo is not known yet; `push` fills in the real id on upload.
REPO_ID_PLACEHOLDER = "YOUR_ORG/YOUR_DATASET"


# ---------------------------------------------------------------------------------------------
# The card


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"


def _license_section(stats: dict[str, Any]) -> list[str]:
    date, origin = text_date(stats)
    license_id = license_for(date)
    if license_id == "cc-by-sa-3.0":
        text = (
            f"The text comes from English Wikipedia as of {date} ({origin}), before Wikipedia moved to CC BY-SA 4.0 in June 2023, "
            "so it is licensed under [CC BY-SA 3.0](https://creativecommons.org/licenses/by-sa/3.0/); Wikipedia text of that "
            "time is also available under the [GNU Free Documentation License](https://www.gnu.org/licenses/fdl-1.3.html)."
        )
    elif license_id == "cc-by-sa-4.0":
        text = (
            f"The text comes from English Wikipedia as of {date} ({origin}), after Wikipedia moved to CC BY-SA 4.0 in June 2023, "
            "so it is licensed under [CC BY-SA 4.0](https://creativecommons.org/licenses/by-sa/4.0/)."
        )
    else:
        text = (
            f"The date of the Wikipedia text is not known ({origin}), so its license version is not known either: "
            "Wikipedia text before June 2023 is CC BY-SA 3.0 (and GFDL), later text CC BY-SA 4.0. Check the source dump."
        )
    return ["## License", "", text + " If you redistribute it or derived data, give attribution to Wikipedia's contributors and share alike.", ""]


def card_header(folder: Path, existing: DatasetCardData | None, configs: dict[str, dict[str, Any]]) -> DatasetCardData:
    """YAML header: card metadata, `configs` (data_files per split) and `dataset_info` (features, sizes).

    `configs` maps config name to its stats.json entry (with "splits"); entries already in the
    existing header for other configs are kept.
    """
    from datasets import DatasetInfo, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    from memtrain_data.features import episode_features

    data = existing if existing is not None else DatasetCardData()
    metadata_configs = MetadataConfigs()
    infos = DatasetInfosDict()
    for name, entry in configs.items():
        splits = entry.get("splits", {})
        metadata_configs[name] = {"data_files": [{"split": split, "path": f"{name}/{split}-*"} for split in SPLITS if split in splits]}
        split_dict = SplitDict()
        for split in SPLITS:
            if split in splits:
                split_dict.add(SplitInfo(name=split, num_bytes=splits[split]["arrow_bytes"], num_examples=splits[split]["episodes"]))
        infos[name] = DatasetInfo(
            features=episode_features(),
            splits=split_dict,
            download_size=sum(s["parquet_bytes"] for s in splits.values()),
            dataset_size=sum(s["arrow_bytes"] for s in splits.values()),
        )
    metadata_configs.to_dataset_card_data(data)
    infos.to_dataset_card_data(data)

    stats = read_stats(folder)
    all_configs = stats.get("configs", {}) | configs
    total = sum(s.get("episodes", 0) for e in all_configs.values() for s in e.get("splits", {}).values())
    data.license = license_for(text_date({**stats, "configs": all_configs})[0])
    data.language = ["en"]
    data.pretty_name = data.get("pretty_name") or "MemTrain masked-reconstruction episodes"
    data.task_categories = ["question-answering", "text-generation"]
    data.size_categories = [_size_category(total)]
    data.source_datasets = ["wikipedia"]
    data.tags = sorted({*(data.get("tags") or []), "memtrain", "memory-agent", "long-context", "masked-entity-reconstruction", "wikipedia"})
    return data


def _fmt(value: Any) -> str:
    if value is None:
        return "not recorded"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(cell).replace("|", "\\|").replace("\n", " ") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# Wall-clock counters change from run to run; the card leaves them out so a rebuild gives the same bytes.
_TIMING_KEY = re.compile(r"seconds|elapsed|duration|_time$")


def _flatten_counters(values: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in values.items():
        if _TIMING_KEY.search(key):
            continue
        if isinstance(value, dict):
            rows += _flatten_counters(value, f"{prefix}{key}.")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            rows.append((f"{prefix}{key}", value))
    return rows


def _config_section(name: str, entry: dict[str, Any]) -> str:
    build = entry.get("build", {})
    splits: dict[str, dict[str, Any]] = entry.get("splits", {})
    split_names = [s for s in SPLITS if s in splits]
    timestamps = build.get("page_timestamps")
    provenance = [
        ["command", f"`{build.get('command')}`" if build.get("command") else None],
        ["memtrain version", f"{build.get('memtrain_version')} (builder `{build.get('builder_version')}`)"],
        ["Wikipedia dump", build.get("dump")],
        ["dump date", build.get("dump_date") or "not in the file name"],
        ["page revisions", f"{timestamps[0]} … {timestamps[1]}" if timestamps else None],
        ["seed", build.get("seed")],
        ["preset", build.get("preset")],
        ["tokenizer", f"`{build.get('tokenizer')}`" if build.get("tokenizer") else None],
        ["spaCy model", f"{build.get('spacy_model')} {build.get('spacy_version') or ''}".strip() + (f" (spaCy {build['spacy_library_version']})" if build.get("spacy_library_version") else "")],
        ["retriever", build.get("retriever")],
        ["passages per document (planned)", f"1 pivot + {build.get('related_passages')} related + {build.get('random_passages')} random; measured below" if build else None],
        ["split by page", f"validation {build.get('validation_fraction')}, test {build.get('test_fraction')} of pages (hash of the page id)" if build.get("validation_fraction") is not None else None],
        ["answer labels allowed", ", ".join(build.get("entity_labels") or []) or None],
        ["chunk budget", f"{_fmt(build.get('chunk_tokens'))} tokens, at most {build.get('max_chunks')} chunks" if build else None],
        ["document length", f"{_fmt(build.get('doc_tokens', [None])[0])}–{_fmt(build.get('doc_tokens', [None, None])[1])} tokens" if build.get("doc_tokens") else None],
        ["recall probes per chunk", build.get("probes_per_chunk")],
    ]
    stat_rows = [["episodes", *[splits[s]["episodes"] for s in split_names]]]
    requested = entry.get("episodes_requested")
    if isinstance(requested, dict):
        stat_rows.append(["episodes requested", *[requested.get(s) for s in split_names]])
    for key, label in (
        ("tokens_per_episode", "tokens per episode"),
        ("chunks_per_episode", "chunks per episode"),
        ("masked_occurrences", "masked occurrences per episode"),
        ("probes_per_episode", "recall probes per episode"),
    ):
        stat_rows.append([
            f"{label} (min / mean / max)",
            *[f"{_fmt(splits[s][key]['min'])} / {_fmt(float(splits[s][key]['mean']))} / {_fmt(splits[s][key]['max'])}" for s in split_names],
        ])
    def pct(value: Any) -> str | None:
        return f"{value:.1%}" if isinstance(value, (int, float)) else None

    def measured(key: str, render: Any) -> list[Any]:
        return [render(splits[s][key]) if splits[s].get(key) is not None else None for s in split_names]

    stat_rows += [
        ["passages per document (min / mean / max)", *measured("passages_per_episode", lambda v: f"{_fmt(v['min'])} / {_fmt(float(v['mean']))} / {_fmt(v['max'])}")],
        ["tokens per document (p10 / p50 / p90)", *measured("tokens_percentiles", lambda v: " / ".join(_fmt(v[k]) for k in ("p10", "p50", "p90")))],
        ["share of related passages", *measured("related_share", pct)],
        ["documents topped up with extra random passages", *measured("top_up_share", pct)],
        ["shards", *[splits[s]["shards"] for s in split_names]],
    ]
    labels = sorted({label for s in split_names for label in splits[s]["answer_labels"]}, key=lambda lab: (-sum(splits[s]["answer_labels"].get(lab, 0) for s in split_names), lab))
    label_rows = [[f"`{lab}`", *[splits[s]["answer_labels"].get(lab, 0) for s in split_names], sum(splits[s]["probe_labels"].get(lab, 0) for s in split_names)] for lab in labels]
    probe_only = sorted({lab for s in split_names for lab in splits[s]["probe_labels"]} - set(labels))
    label_rows += [[f"`{lab}`", *[0 for _ in split_names], sum(splits[s]["probe_labels"].get(lab, 0) for s in split_names)] for lab in probe_only]
    dropped = entry.get("dropped") or {}
    examples = entry.get("drop_examples") or {}
    dropped_rows = [[reason, count, examples.get(reason, "")] for reason, count in _flatten_counters(dropped)] if isinstance(dropped, dict) else []

    parts = [
        f"## Config `{name}`",
        "",
        "### How it was built",
        "",
        _table(["", "value"], provenance),
        "",
        "### Statistics",
        "",
        "Computed from the written parquet shards (the composition rows count each document's `passage_ids`).",
        "",
        _table(["", *split_names], stat_rows),
        "",
        "#### Entity labels",
        "",
        "Label of the masked entity per split (spaCy OntoNotes labels), and of the recall-probe targets over all splits.",
        "",
        _table(["label", *split_names, "recall-probe targets"], label_rows) if label_rows else "No episodes.",
        "",
    ]
    for figure in entry.get("figures", []):
        title = "Distribution of episode lengths" if "tokens" in figure else "Labels of the masked entities"
        parts += [f"![{title}]({figure})", ""]
    parts += _quality_rows(entry.get("quality") or {}, split_names)
    parts += ["### Dropped while building", ""]
    if dropped_rows:
        parts += ["Candidates that did not become episodes, by reason (from `stats.json`):", "", _table(["reason", "count", "example"], dropped_rows), ""]
    else:
        parts += ["Nothing was recorded as dropped.", ""]
    return "\n".join(parts)


# Figures of the quality report shown in the card, with their labels.
_QUALITY_FIGURES: tuple[tuple[str, str], ...] = (
    ("aligned_with_pool", "episodes aligned with the pool"),
    ("partial_mask_rate", "partial masks (share of aligned episodes)"),
    ("visible_alias_rate", "masked forms left visible"),
    ("over_mask_rate", "case mismatches (share of aligned episodes)"),
    ("alias_table_visible_rate", "alias-table forms of the answer visible (informational)"),
    ("title_answer_share", "answer is the pivot's page"),
    ("masked_at_least_twice_share", "answer masked twice or more"),
    ("masked_outside_pivot_share", "answer masked outside the pivot"),
    ("cross_split_documents", "documents holding passages of other splits"),
)


def _quality_rows(quality: dict[str, Any], split_names: list[str]) -> list[str]:
    """The quality report's figures per split, as `memtrain validate DIR --report` prints them."""
    splits = quality.get("splits") or {}
    if not splits:
        return []

    def shown(value: Any) -> Any:
        return f"{value:.1%}" if isinstance(value, float) else _fmt(value)

    rows = [[label, *[shown(splits.get(s, {}).get(key)) for s in split_names]] for key, label in _QUALITY_FIGURES]
    return [
        "#### Quality",
        "",
        "The rules every written episode passed are those of `memtrain validate`; these are its report's figures "
        f"(`memtrain validate DIR --report`, `quality` in `stats.json`; pool: {quality.get('settings', {}).get('pool')}).",
        "",
        _table(["", *split_names], rows),
        "",
    ]


def _alias_sentence(pool: dict[str, Any]) -> str:
    rows = pool.get("alias_rows")
    if rows is None:
        return "This build has no alias table (the pool stage of this memtrain version did not collect one)."
    if not rows:
        return (
            "**The alias table is empty: there were no links or redirects in the input** (for example a plain-text or "
            "parquet dump), so answers list only the forms found in the text."
        )
    return (
        f"The alias table holds {_fmt(rows)} (target, alias) rows collected from the input's own "
        f"{_fmt(pool.get('redirects_seen'))} redirects and {_fmt(pool.get('anchors_seen'))} link anchors "
        "(`pool/aliases-*.parquet`)."
    )


def _rules_section(stats: dict[str, Any], configs: dict[str, dict[str, Any]]) -> list[str]:
    """How answers are chosen and masked, in a paragraph a data team can read."""
    pool = stats.get("pool") or {}
    new_records = [entry.get("build", {}).get("records_have_masked_forms") for entry in configs.values()]
    if new_records and all(new_records):
        rules = (
            "**Masking and answer rules.** The answer is a whole name: a spaCy entity of the pivot is widened to the full "
            "name it belongs to (or another entity is chosen), and spans that start or end with a function word or "
            "punctuation are refused. Which strings name the same thing comes from Wikipedia itself: redirects and link "
            "anchors form an alias table, used both to mask every form of the answer in the document and to list every form "
            "that scores as correct in `answers` (canonical first, without a leading \"the\"); `masked_forms` records what "
            "was masked and `answer_page_title` the page the answer resolves to. Masking respects case: a capitalised name is "
            "matched case-sensitively (sentence-initial capitals aside), numbers only as whole numbers. Only entities of the "
            "allowed labels (below) with enough evidence become answers. "
        )
    else:
        rules = (
            "**Masking and answer rules.** One spaCy entity of the pivot is the answer; every occurrence of it (and of the "
            "aliases found in the pivot) is masked, case-insensitively. `answers` holds the masked surface form first, then "
            "those aliases. These records predate whole-name masking and the alias table (no `masked_forms` field), so the "
            "quality report of `memtrain validate --report` is the place to see partial masks and visible forms. "
        )
    rules += (
        "Splits are by page: a hash of the page id puts every page in one split, and a document should hold only passages "
        "of its own split's pages (measured per config below). " + _alias_sentence(pool)
    )
    return [rules, ""]


def _checks_section() -> list[str]:
    """What was checked, exactly; nothing more is claimed."""
    return [
        "**Checks.** The builder runs on every record, before writing it, the same judge `memtrain validate` runs on the "
        "written files, and drops (and counts, below, by rule) episodes that break a rule; `memtrain push` uploads only a "
        "folder that passes: no accepted answer is visible in any chunk (as written, in capitals, or capitalised at a sentence start, also inside a longer name); "
        "the number of `[MASK]`s equals `masked_occurrences`; every recall target is masked in its chunk and differs from "
        "the answers; chunk and document token budgets hold (and no chunk has more words than recorded tokens); episode ids "
        "are unique and no page is a pivot in two splits; no document holds a passage of another split's page; and, aligning "
        "each masked document with the pool passages it was built from, no `[MASK]` covers a fragment of a longer name and no "
        "masked form is left visible elsewhere (a demonym is masked everywhere or nowhere), and no recall target stays readable "
        "inside a longer name or as a surname. `memtrain validate DIR --report` prints the measured rates per config "
        "(partial masks, visible forms, case mismatches, title answers, evidence, composition, cross-split documents).",
        "",
    ]


def _limitations_section(configs: dict[str, dict[str, Any]]) -> list[str]:
    models = sorted({f"{e.get('build', {}).get('spacy_model')}" for e in configs.values() if e.get("build", {}).get("spacy_model")})
    model = ", ".join(models) or "a small spaCy model"
    return [
        "## Known limitations",
        "",
        f"- Entities come from {model}: labels and span boundaries are sometimes wrong, and a mis-cut entity that is not next "
        "to a capitalised word (e.g. \"about six or\") passes the partial-mask check.",
        "- Exact match only rewards the forms in `answers`: a correct paraphrase or a nickname that no redirect or link names scores 0.",
        "- The checks read spelling, not meaning: a word spelled like the answer but meaning something else is masked if its case "
        "matches, and the over-mask rate counts only case mismatches.",
        "- Splitting by page keeps pages apart, not facts: two pages of different splits can state the same fact.",
        "- The text is Wikipedia as of the dump, with its errors, gaps and biases; cleaning drops some templates and tables.",
        "",
    ]


# Fields that records written before they existed lack: the card lists them only when every config has them.
_LATER_FIELDS = ("masked_forms", "answer_page_title")


def _field_rows(configs: dict[str, dict[str, Any]]) -> list[list[str]]:
    """One row per field of the record model, meaning from its description: the card cannot drift from the records."""
    from memtrain_data.records import MaskedReconstructionEpisode, RecallProbe

    have_later = bool(configs) and all(entry.get("build", {}).get("records_have_masked_forms") for entry in configs.values())
    rows = []
    for name, info in MaskedReconstructionEpisode.model_fields.items():
        if name in _LATER_FIELDS and not have_later:
            continue
        meaning = info.description or ""
        if name == "recall_probes":
            meaning += f" Each is `{{{', '.join(RecallProbe.model_fields)}}}`."
        rows.append([f"`{name}`", meaning])
    return rows


def card_body(stats: dict[str, Any], repo_id: str = REPO_ID_PLACEHOLDER) -> str:
    """The Markdown body: what, how built, statistics per config and split, use, license, citation."""
    configs: dict[str, dict[str, Any]] = {name: entry for name, entry in sorted(stats.get("configs", {}).items()) if entry.get("splits")}
    first = next(iter(configs), "mini")
    overview = [[f"`{name}`", entry.get("build", {}).get("preset"), *[entry["splits"].get(s, {}).get("episodes", 0) for s in SPLITS]] for name, entry in configs.items()]
    pool = stats.get("pool") or {}
    pool_rows = [[key, value] for key, value in _flatten_counters(pool)]
    parts = [
        "# MemTrain masked-reconstruction episodes",
        "",
        "Self-supervised training data for LLM **memory agents**, built from unlabeled Wikipedia with "
        f"memtrain following the MemTrain method ([arXiv {PAPER_ARXIV_ID}]({PAPER_URL})).",
        "",
        "A memory agent reads a long document chunk by chunk and rewrites a bounded memory after each chunk; "
        "after the last chunk it must answer from the memory alone. Each episode here is such a document: one "
        "random *pivot* Wikipedia passage, passages retrieved as related to it, and random passages, "
        f"concatenated in random order and cut into chunks. One named entity of the pivot is replaced by `{MASK_TOKEN}` "
        "**everywhere** in the document, and the agent is asked:",
        "",
        f"> {RECONSTRUCTION_QUESTION}",
        "",
        "`answers` holds every form that scores as correct, canonical first; the reward is exact match. "
        f"Each episode also carries precomputed **intermediate memory recall** probes: for a chunk l before the last, "
        f"an entity of that chunk replaced by `{TARGET_TOKEN}` (a different placeholder, so the two tasks never mix). "
        "At training time the memory after a later step k > l is paired with the masked chunk and the model must recover the target.",
        "",
        "## Configs",
        "",
        _table(["config", "preset", *SPLITS], overview) if overview else "No configs yet.",
        "",
        *_rules_section(stats, configs),
        *_checks_section(),
        "### Fields",
        "",
        _table(["field", "meaning"], _field_rows(configs)),
        "",
    ]
    for name, entry in configs.items():
        parts.append(_config_section(name, entry))
    if pool_rows:
        parts += ["## Passage pool", "", "Counters of the dump → passages stage (from `stats.json`; skipped pages are counted, never silently lost):", "", _table(["counter", "value"], pool_rows), ""]
    parts += _limitations_section(configs)
    parts += [
        "## How to use",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'episodes = load_dataset("{repo_id}", "{first}")',
        'episode = episodes["train"][0]',
        'for chunk in episode["chunks"]:  # what the agent reads, in order',
        "    ...",
        'print(episode["question"], episode["answers"])',
        "```",
        "",
        "Train a memory agent with memtrain's joint GRPO (masked reconstruction + intermediate memory recall, on TRL):",
        "",
        "```bash",
        f"memtrain train --model Qwen/Qwen3-4B-Instruct-2507 --dataset {repo_id} --config-name {first} --output-dir runs/memtrain",
        f"memtrain train --preset cpu-smoke --dataset {repo_id} --config-name {first}  # a tiny CPU run to check the setup",
        "```",
        "",
        "With TRL directly, each row gives the problem (`question`), the document (`chunks`) and the reward target "
        "(`answers`, exact match after normalization); a reward function `f(completions, answers, **kwargs)` receives "
        "the `answers` column because TRL passes dataset columns to reward functions.",
        "",
        "Check and look at the data:",
        "",
        "```bash",
        f"memtrain validate {repo_id}",
        f"memtrain inspect path/to/folder --config-name {first} --split train --index 0",
        "```",
        "",
        *_license_section(stats),
        "## Citation",
        "",
        "```bibtex",
        "@misc{memtrain2026,",
        "  title         = {MemTrain},",
        "  year          = {2026},",
        "  eprint        = {" + PAPER_ARXIV_ID + "},",
        "  archivePrefix = {arXiv},",
        f"  url           = {{{PAPER_URL}}}",
        "}",
        "```",
        "",
    ]
    return "\n".join(parts)


def render_card(folder: Path, stats: dict[str, Any], repo_id: str = REPO_ID_PLACEHOLDER) -> str:
    """README.md text for `folder`: the merged YAML header and a body for every config in `stats`."""
    from huggingface_hub import DatasetCard

    readme = folder / README_NAME
    existing = DatasetCard.load(readme).data if readme.is_file() else None
    described = {name: entry for name, entry in stats.get("configs", {}).items() if entry.get("splits")}
    header = card_header(folder, existing, described)
    return f"---\n{header.to_yaml()}\n---\n\n{card_body(stats, repo_id)}"
