"""Issue 10's rules end to end: a hand-written pool and alias table, one pivot per rule.

The pool has exactly the 12 passages a 'mini' document holds, so every document contains every
passage and each rule can be checked on text written for it. The entities passed in are what
spaCy's small model tags in such sentences (fragments included), so the rules, not the model,
are under test; `test_build.py` runs real NER on whole builds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from memtrain_data.build_config import BuildConfig, resolve_build_config
from memtrain_data.episodes.aliases import AliasTable, build_alias_index
from memtrain_data.episodes.build import EpisodeJob, build_episodes
from memtrain_data.episodes.builder import EpisodeContext, EpisodeOutcome, build_episode
from memtrain_data.episodes.entities import Entity
from memtrain_data.episodes.job import DatasetIdentity
from memtrain_data.episodes.judge import JudgeSettings, judge_episode
from memtrain_data.episodes.passages import PassageView, write_pool_view
from memtrain_data.episodes.retrieval import BM25Retriever, build_bm25_index
from memtrain_data.episodes.splits import split_of_page, split_of_passage_id
from memtrain_data.errors import InputError
from memtrain_data.records import MASK_TOKEN
from tests.episodes.pool_helpers import pool_rows, write_aliases, write_pool
from tests.episodes.test_build import read_episodes

PAGES: dict[str, list[str]] = {
    "Ayn Rand": [
        "Ayn Rand was a Russian-born American novelist. Rand wrote The Fountainhead in 1943 and Atlas Shrugged later.",
        "Rand moved to the USA in 1926 and settled in New York City. Thomas Paine had lived in the same city long before.",
        "Atlas Shrugged appeared in 1957. Readers bought 19570 copies in one week, and Rand spoke at universities.",
    ],
    "Canada": [
        "Canada is a country in North America. Canadian troops fought in both world wars, and Canada joined NATO.",
        "The Canadian Pacific Railway crossed the country by 1885. Many articles in newspapers praised the railway.",
        "Ottawa became the capital in 1857 on the Ottawa River. Canadian winters are long, unlike those on the Danube, which Germans call the Donau.",
    ],
    "United States Declaration of Independence": [
        "The United States Declaration of Independence was adopted on July 4, 1776. Thomas Jefferson wrote its first draft.",
        "Jefferson later became the third president. The Declaration of Independence is kept in the National Archives.",
        "Copies were printed in Philadelphia. John Adams and Benjamin Franklin edited the draft of Jefferson.",
    ],
    "Articles (book)": [
        "Articles is a book of essays published in 1937. Articles sold well, and 1937 reviewers counted 2,1937 pages.",
        "The essays in Articles first appeared as articles in a magazine. Critics called Articles uneven but lively.",
        "A second edition of the book came out in 19370 numbered copies, said a joke in a review of Articles in 1937.",
    ],
}


def _settings(**changes: Any) -> dict[str, Any]:
    """What an EpisodeContext holds of a build: its EpisodeSettings and its DatasetIdentity."""
    values: dict[str, Any] = {
        "preset": "mini", "related_passages": 3, "random_passages": 8,
        "chunk_tokens": 400, "max_chunks": 4, "min_doc_tokens": 100, "max_doc_tokens": 1600,
        "probes_per_chunk": 1, "title_answer_share": 1.0,
    }  # fmt: skip
    values.update(changes)
    config = BuildConfig.from_settings(**values)
    return {"settings": config.episodes, "dataset": DatasetIdentity.of(config)}


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory, tokenizer: Any, nlp: Any) -> EpisodeContext:
    output = tmp_path_factory.mktemp("quality")
    write_pool(output, pool_rows(PAGES))
    write_aliases(output)
    view_path = output / ".memtrain" / "index" / "passages.arrow"
    fingerprint = write_pool_view(output, view_path)
    view = PassageView.open(view_path)
    build_bm25_index(view.texts(), output / ".memtrain" / "index" / "bm25", fingerprint)
    build_alias_index(output, output / ".memtrain" / "aliases")
    return EpisodeContext(
        **_settings(),
        labels=["PERSON", "GPE", "LAW", "WORK_OF_ART", "DATE"],
        passages=view,
        retriever=BM25Retriever(output / ".memtrain" / "index" / "bm25"),
        tokenizer=tokenizer,
        nlp=nlp,
        aliases=AliasTable.open(output / ".memtrain" / "aliases"),
    )


def _build(context: EpisodeContext, title: str, n: int, entities: list[Entity], **changes: Any) -> EpisodeOutcome:
    ids = context.passages.table.column("id").to_pylist()
    titles = context.passages.table.column("title").to_pylist()
    row = next(i for i, (pid, t) in enumerate(zip(ids, titles, strict=True)) if t == title and pid.endswith(f"-{n}"))
    pivot = context.passages.rows([row])[0]
    ctx = context if not changes else EpisodeContext(**{**context.__dict__, **_settings(**changes)})
    return build_episode(ctx, row, pivot, entities, "train")


def _text(outcome: EpisodeOutcome) -> str:
    assert outcome.episode is not None, (outcome.drop_reason, outcome.detail, outcome.rejected_answers)
    assert judge_episode(outcome.episode).violations == []
    assert len(outcome.episode.passage_ids) == 12  # every passage of the pool is in the document
    return " ".join(outcome.episode.chunks)


def test_a_surname_after_the_full_name_is_masked_and_scores(context: EpisodeContext) -> None:
    outcome = _build(context, "United States Declaration of Independence", 0, [Entity("Thomas Jefferson", "PERSON")])
    text = _text(outcome)
    episode = outcome.episode
    assert episode is not None and episode.answers == ["Thomas Jefferson", "Jefferson"]
    assert "Jefferson" not in text and "draft of [MASK]." in text and "Thomas Paine" in text
    assert episode.masked_occurrences == 3 and sorted(episode.masked_forms) == ["Jefferson", "Thomas Jefferson"]


def test_a_demonym_readable_inside_another_name_is_masked_nowhere(context: EpisodeContext) -> None:
    """Masked in "[MASK] troops" but readable in "Canadian Pacific Railway" would tell what [MASK] hides."""
    outcome = _build(context, "Canada", 0, [Entity("Canada", "GPE")])
    text = _text(outcome)
    episode = outcome.episode
    assert episode is not None and episode.answers == ["Canada"] and episode.answer_page_title == "Canada"
    assert "Canadian" not in episode.masked_forms
    assert "Canadian troops" in text and "Canadian winters" in text and "Canadian Pacific Railway" in text


def test_a_demonym_link_is_masked_everywhere_when_it_never_stands_in_a_longer_name() -> None:
    from memtrain_data.episodes.answer_forms import AnswerForms
    from memtrain_data.episodes.builder import _mask_consistently

    forms = AnswerForms("Canada", "GPE", accepted=["Canada"], masked=["Canada", "Canadian"], page_title="Canada")
    document = [{"id": "1-0", "text": "Canada joined NATO. Canadian troops served."}, {"id": "2-0", "text": "Canadian winters are long."}]

    kept, masked = _mask_consistently(document, forms, "1-0")

    assert kept.masked == ["Canada", "Canadian"] and masked.forms == ["Canada", "Canadian"]
    assert masked.texts == ["[MASK] joined NATO. [MASK] troops served.", "[MASK] winters are long."]
    document.append({"id": "3-0", "text": "The Canadian Pacific Railway crossed it."})
    kept, masked = _mask_consistently(document, forms, "1-0")
    assert kept.masked == ["Canada"] and "Canadian troops" in masked.texts[0]


def test_a_the_title_is_canonical_without_the_and_the_bare_form_is_masked(context: EpisodeContext) -> None:
    entity = Entity("The United States Declaration of Independence", "LAW")
    outcome = _build(context, "United States Declaration of Independence", 0, [entity])
    text = _text(outcome)
    episode = outcome.episode
    assert episode is not None
    assert episode.answers[:2] == ["United States Declaration of Independence", "the United States Declaration of Independence"]
    assert "Declaration of Independence" in episode.answers  # a name-like anchor of the page
    assert "The [MASK] was adopted" in text and "Declaration of Independence" not in text


def test_a_redirect_is_an_accepted_alias(context: EpisodeContext) -> None:
    outcome = _build(context, "Canada", 2, [Entity("Danube", "LOC")], answer_labels=["LOC"])
    text = _text(outcome)
    episode = outcome.episode
    assert episode is not None and episode.answers == ["Danube", "Donau"] and episode.answer_page_title == "Danube"
    assert "on the [MASK], which Germans call the [MASK]." in text


def test_a_fragment_entity_is_widened_to_the_whole_name(context: EpisodeContext) -> None:
    outcome = _build(context, "Ayn Rand", 2, [Entity("Rand", "PERSON")])
    text = _text(outcome)
    episode = outcome.episode
    assert episode is not None and episode.answers[:2] == ["Ayn Rand", "Rand"]
    assert "Ayn" not in text and "Rand" not in text
    assert outcome.title_answer  # the pivot's own page, allowed here by title_answer_share=1


def test_a_lowercase_common_word_equal_to_the_answer_is_not_masked(context: EpisodeContext) -> None:
    outcome = _build(context, "Articles (book)", 1, [Entity("Articles", "WORK_OF_ART")], title_answer_share=1.0)
    text = _text(outcome)
    episode = outcome.episode
    assert episode is not None and "articles in a magazine" in text and "Many articles in newspapers" in text
    assert "articles" not in episode.masked_forms and episode.masked_occurrences == 5


def test_a_one_word_name_that_is_also_an_ordinary_word_of_the_document_is_not_the_answer(context: EpisodeContext) -> None:
    # Tagged as an organisation, "Articles" beside "articles in a magazine" is a common noun; as a
    # work's title (above) it stays a name.
    outcome = _build(context, "Articles (book)", 1, [Entity("Articles", "ORG")])
    assert outcome.episode is None and outcome.rejected_answers == {"common_word_in_document": 1}


def test_a_number_inside_a_longer_number_is_not_masked(context: EpisodeContext) -> None:
    outcome = _build(context, "Articles (book)", 0, [Entity("1937", "DATE")])
    text = _text(outcome)
    assert "published in [MASK]." in text and "[MASK] reviewers" in text and "Articles in [MASK]." in text
    assert "2,1937 pages" in text and "19370 numbered" in text and "1937" not in text.replace("2,1937", "").replace("19370", "")


def test_an_answer_equal_to_the_pivot_page_is_capped_by_title_answer_share(context: EpisodeContext) -> None:
    outcome = _build(context, "Ayn Rand", 2, [Entity("Rand", "PERSON")], title_answer_share=0.0)
    assert outcome.episode is None and outcome.drop_reason == "no_answerable_entity"
    assert outcome.rejected_answers["title_answer_capped"] == 1


def test_an_answer_masked_once_in_the_pivot_only_lacks_evidence(context: EpisodeContext) -> None:
    outcome = _build(context, "Canada", 2, [Entity("Ottawa River", "LOC")], answer_labels=["LOC"])
    assert outcome.episode is None and outcome.rejected_answers["too_little_evidence"] == 1
    relaxed = _build(context, "Canada", 2, [Entity("Ottawa River", "LOC")], answer_labels=["LOC"], answer_evidence="none")
    assert relaxed.episode is not None and relaxed.episode.answers == ["Ottawa River"]


def test_an_answer_readable_inside_another_name_is_passed_over(context: EpisodeContext) -> None:
    # "USA" redirects to "United States", which stays readable in "United States Declaration of
    # Independence": masking it there would cut that name, leaving it would give the answer away.
    outcome = _build(context, "Ayn Rand", 1, [Entity("USA", "GPE")])
    assert outcome.episode is None and outcome.rejected_answers == {"answer_inside_other_name": 1}


def _split_config(output: Path, **flags: Any) -> BuildConfig:
    return resolve_build_config(None, {"output": output, "preset": "mini", "num_episodes": 6, "chunk_tokens": 200,
                                       "max_chunks": 4, "min_doc_tokens": 300, "max_doc_tokens": 800, **flags})  # fmt: skip


def test_a_split_too_small_for_one_document_is_a_one_line_error_naming_it(tmp_path: Path) -> None:
    rows = pool_rows()
    validation_pages = sorted({int(str(r["page_id"])) for r in rows if split_of_page(int(str(r["page_id"])), 0.1, 0.1) == "validation"})
    # Only one validation page (4 passages) remains; a 'mini' document needs 12.
    write_pool(tmp_path, [r for r in rows if int(str(r["page_id"])) not in validation_pages[1:]])
    with pytest.raises(InputError, match=r"the validation split has 4 passages from 1 pages, but one 'mini' episode needs 12") as caught:
        build_episodes(EpisodeJob.of(_split_config(tmp_path)))
    assert "validation_fraction" in str(caught.value) and "\n" not in str(caught.value)


def test_every_document_draws_only_from_its_own_splits_pages(small_pool: Path, tokenizer: Any) -> None:
    write_aliases(small_pool)
    config = _split_config(small_pool, answer_evidence="none")
    result = build_episodes(EpisodeJob.of(config))
    episodes = read_episodes(result.output)
    assert {e.split for e in episodes} == {"train", "validation", "test"}
    for episode in episodes:
        assert {split_of_passage_id(p, 0.1, 0.1) for p in episode.passage_ids} == {episode.split}
        assert judge_episode(episode, JudgeSettings(validation_fraction=0.1, test_fraction=0.1)).violations == []
    stats = result.stats
    assert stats["alias_rows"] > 0 and stats["split_pool"]["validation"]["pages"] == 3
    assert sum(stats["answer_labels"].values()) == len(episodes)
    assert all(sum(chunk.count(MASK_TOKEN) for chunk in e.chunks) == e.masked_occurrences for e in episodes)
