"""Leakage and consistency rules for episodes, shared by the builder and `memtrain validate`.

Each function returns a list of violations, one string each, formatted "<code>: <detail>".
An empty list means the record passes. The builder drops any episode with a violation and
counts it under the code of the first one; the validator reports them all.

Stable names (other modules call them): `episode_violations`, `probe_violations`,
`split_violations`, `violation_code`.

Codes:
- `answer_leak`: an accepted answer is visible in a chunk (matched as `masking.py` masks, and
  also inside a longer name: "Rearden" may not be read in "Rearden Metal").
- `visible_alias`: a form that was masked somewhere (`masked_forms`) is still visible elsewhere
  (outside longer names: the demonym "Canadian" may stay in "Canadian Pacific Railway").
- `mask_beside_name`: a [MASK] continues a capitalised name ("Ayn [MASK]", "[MASK] Ocean",
  "Mid-[MASK]"): the masked thing was a fragment of a longer name (a partial mask, seen from
  the record alone; `memtrain validate` also aligns records with the pool for `partial_mask`).
- `case_mismatch`: a masked form is a lowercase word where the answer is a capitalised name
  ("articles" masked for the book "Articles").
- `cross_split_passage`: a passage of the document comes from a page of another split (checked
  when the split fractions are given).
- `mask_count`: the chunks hold a different number of [MASK] than `masked_occurrences`.
- `wrong_question`, `wrong_mask_token`: the fixed problem or placeholder was changed.
- `too_many_chunks`, `chunk_too_long`, `doc_too_short`, `doc_too_long`: budgets (when given).
- `token_count`: a chunk's recorded count differs from a recount (when a counter is given).
- `target_leak`: a probe's target is still visible in its masked chunk.
- `target_is_answer`: a probe's target equals, contains or is contained in an answer.
- `probe_chunk`: a probe's masked chunk is not its chunk with the target masked.
- `split_leak`: one page is the pivot of episodes in two splits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from memtrain_data.episodes.masking import (
    contains_any,
    continues_name,
    find_occurrences,
    is_numeric_form,
    mask_occurrences,
)
from memtrain_data.episodes.probes import is_valid_target
from memtrain_data.episodes.splits import page_id_of, split_of_passage_id
from memtrain_data.records import (
    MASK_TOKEN,
    RECONSTRUCTION_QUESTION,
    TARGET_TOKEN,
    MaskedReconstructionEpisode,
    RecallProbe,
)


def violation_code(violation: str) -> str:
    """The code part of a violation string."""
    return violation.split(":", 1)[0]


_MASK_NEIGHBOURS = re.compile(
    r"(?:([^\W\d_][\w'’.]*)(?:[ \t]+|-))?" + re.escape(MASK_TOKEN) + r"(?:(?:[ \t]+|-)([^\W\d_][\w'’]*))?"
)


def partial_masks(chunk: str) -> list[str]:
    """Each [MASK] with the name-continuing word beside it ("Ayn [MASK]", "[MASK] Ocean")."""
    found: list[str] = []
    for match in _MASK_NEIGHBOURS.finditer(chunk):
        before, after = match.group(1), match.group(2)
        left = before is not None and continues_name(before) and not (before.endswith(".") and before not in {"Mt.", "Ft."})
        right = after is not None and continues_name(after)
        if left or right:
            found.append(match.group(0))
    return found


def case_mismatches(masked_forms: list[str], answers: list[str]) -> list[str]:
    """Masked forms that are lowercase where an answer with the same letters is capitalised."""
    capitalised = {answer.casefold() for answer in answers if answer[:1].isupper()}
    return [form for form in masked_forms if form[:1].islower() and form.casefold() in capitalised]


def document_split_violations(episode: MaskedReconstructionEpisode, validation_fraction: float, test_fraction: float) -> list[str]:
    """Passages of the document whose page belongs to another split than the episode."""
    foreign = []
    for passage_id in episode.passage_ids:
        try:
            split = split_of_passage_id(passage_id, validation_fraction, test_fraction)
        except ValueError:
            continue  # an id without a page id is a record problem the validator reports on its own
        if split != episode.split:
            foreign.append(passage_id)
    if not foreign:
        return []
    return [f"cross_split_passage: {len(foreign)} passage(s) of a {episode.split} document come from other splits (first: {foreign[0]})"]


def probe_violations(probe: RecallProbe, chunk: str, answers: list[str]) -> list[str]:
    """Rules for one recall probe against the chunk it masks."""
    problems: list[str] = []
    where = f"probe on chunk {probe.chunk_index} (target {probe.target!r})"
    if contains_any(probe.masked_chunk, [probe.target]):
        problems.append(f"target_leak: {where} still shows its target")
    if not is_valid_target(probe.target, answers):
        problems.append(f"target_is_answer: {where} overlaps the answers {answers}")
    expected, count = mask_occurrences(chunk, [probe.target], TARGET_TOKEN)
    if expected != probe.masked_chunk or count != probe.masked_occurrences:
        problems.append(f"probe_chunk: {where} is not chunk {probe.chunk_index} with its target masked")
    return problems


def episode_violations(
    episode: MaskedReconstructionEpisode,
    *,
    chunk_tokens: int | None = None,
    max_chunks: int | None = None,
    min_doc_tokens: int | None = None,
    max_doc_tokens: int | None = None,
    count_tokens: Callable[[str], int] | None = None,
    validation_fraction: float | None = None,
    test_fraction: float | None = None,
) -> list[str]:
    """Every rule one episode breaks; budgets, the token recount and the document's split are checked when given."""
    problems: list[str] = []
    other_forms = [form for form in episode.masked_forms if form not in episode.answers]
    for index, chunk in enumerate(episode.chunks):
        if contains_any(chunk, episode.answers, whole_names=False):
            shown = sorted({chunk[start:end] for start, end in find_occurrences(chunk, episode.answers, whole_names=False)})
            problems.append(f"answer_leak: chunk {index} shows an answer ({', '.join(shown)}) of {episode.answers}")
        elif other_forms and contains_any(chunk, other_forms):
            shown = sorted({chunk[start:end] for start, end in find_occurrences(chunk, other_forms)})
            problems.append(f"visible_alias: chunk {index} shows masked form(s) {shown}")
        # A year masked after its month ("June [MASK]") is a whole token: only names can be cut.
        numeric = all(is_numeric_form(form) for form in episode.masked_forms or episode.answers)
        partial = [] if numeric else partial_masks(chunk)
        if partial:
            problems.append(f"mask_beside_name: chunk {index} has {partial[0]!r}" + (f" and {len(partial) - 1} more" if len(partial) > 1 else ""))
    mismatched = case_mismatches(episode.masked_forms, episode.answers)
    if mismatched:
        problems.append(f"case_mismatch: lowercase {mismatched} masked for {episode.answers}")
    masks = sum(chunk.count(MASK_TOKEN) for chunk in episode.chunks)
    if masks != episode.masked_occurrences:
        problems.append(f"mask_count: {masks} {MASK_TOKEN} in the chunks, masked_occurrences={episode.masked_occurrences}")
    if episode.question != RECONSTRUCTION_QUESTION:
        problems.append(f"wrong_question: {episode.question!r}")
    if episode.mask_token != MASK_TOKEN:
        problems.append(f"wrong_mask_token: {episode.mask_token!r}")
    if max_chunks is not None and len(episode.chunks) > max_chunks:
        problems.append(f"too_many_chunks: {len(episode.chunks)} chunks, at most {max_chunks}")
    if chunk_tokens is not None:
        for index, n_tokens in enumerate(episode.chunk_n_tokens):
            if n_tokens > chunk_tokens:
                problems.append(f"chunk_too_long: chunk {index} has {n_tokens} tokens, budget {chunk_tokens}")
    if min_doc_tokens is not None and episode.n_tokens < min_doc_tokens:
        problems.append(f"doc_too_short: {episode.n_tokens} tokens, at least {min_doc_tokens}")
    if max_doc_tokens is not None and episode.n_tokens > max_doc_tokens:
        problems.append(f"doc_too_long: {episode.n_tokens} tokens, at most {max_doc_tokens}")
    if count_tokens is not None:
        for index, (chunk, recorded) in enumerate(zip(episode.chunks, episode.chunk_n_tokens, strict=True)):
            actual = count_tokens(chunk)
            if actual != recorded:
                problems.append(f"token_count: chunk {index} has {actual} tokens, recorded {recorded}")
    if validation_fraction is not None and test_fraction is not None:
        problems.extend(document_split_violations(episode, validation_fraction, test_fraction))
    avoid = [*episode.answers, *other_forms]
    for probe in episode.recall_probes:
        if probe.chunk_index < len(episode.chunks):
            problems.extend(probe_violations(probe, episode.chunks[probe.chunk_index], avoid))
    return problems


def split_violations(pivots: Iterable[tuple[str, str]]) -> list[str]:
    """Pages that are pivots in more than one split; `pivots` holds (split, pivot_passage_id) pairs."""
    splits_of_page: dict[int, set[str]] = {}
    for split, passage_id in pivots:
        splits_of_page.setdefault(page_id_of(passage_id), set()).add(split)
    return [
        f"split_leak: page {page} is a pivot in {', '.join(sorted(splits))}"
        for page, splits in sorted(splits_of_page.items())
        if len(splits) > 1
    ]
