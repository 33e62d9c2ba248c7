"""Metrics against cases written from the official HotpotQA / SQuAD definitions."""

from __future__ import annotations

import pytest

from memtrain_data.eval.metrics import (
    exact_match,
    f1_score,
    memagent_accuracy,
    normalize_answer,
    score_answer,
    substring_exact_match,
)


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("Paris", "paris"),
        ("  The   Eiffel Tower. ", "eiffel tower"),
        ("a cat, an owl and the dog!", "cat owl and dog"),
        ("Theater", "theater"),  # articles only as whole words
        ("U.S.A.", "usa"),
        ("rock-and-roll", "rockandroll"),  # punctuation is deleted, not replaced by a space
        ("The", ""),
        ("", ""),
    ],
)
def test_normalize_answer(text: str, normalized: str) -> None:
    assert normalize_answer(text) == normalized


# prediction, gold(s), em, f1, sub_em (one-way), accuracy (MemAgent's two-way substring match)
CASES = [
    ("Paris", "Paris", 1.0, 1.0, 1.0, 1.0),
    ("the Paris", "paris.", 1.0, 1.0, 1.0, 1.0),
    ("Paris, France", "Paris", 0.0, 2 / 3, 1.0, 1.0),  # precision 1/2, recall 1: F1 = 2/3
    ("Paris", "Paris, France", 0.0, 2 / 3, 0.0, 1.0),
    ("Lyon", "Paris", 0.0, 0.0, 0.0, 0.0),
    ("yes", "yes", 1.0, 1.0, 1.0, 1.0),
    ("Yes.", "yes", 1.0, 1.0, 1.0, 1.0),
    ("no", "yes", 0.0, 0.0, 0.0, 0.0),
    ("yes it is", "yes", 0.0, 0.0, 1.0, 1.0),  # HotpotQA: gold is yes/no and they differ, so F1 = 0
    ("yes", "yes it is", 0.0, 0.0, 0.0, 1.0),  # ... and the same when the prediction is yes/no
    ("noanswer", "Paris", 0.0, 0.0, 0.0, 0.0),
    ("American director", "American", 0.0, 2 / 3, 1.0, 1.0),
    ("New York City", ["NYC", "New York City"], 1.0, 1.0, 1.0, 1.0),  # best over several golds
    ("New York", ["NYC", "New York City"], 0.0, 0.8, 0.0, 1.0),
    ("1,889", "1889", 1.0, 1.0, 1.0, 1.0),
    (None, "Paris", 0.0, 0.0, 0.0, 0.0),  # no \boxed{} answer
    ("", "Paris", 0.0, 0.0, 0.0, 0.0),
    ("anything", [], 0.0, 0.0, 0.0, 0.0),
    ("the", "a", 1.0, 0.0, 0.0, 0.0),  # both normalize to "": equal, but no tokens and no substring
]


@pytest.mark.parametrize(("prediction", "answers", "em", "f1", "sub_em", "accuracy"), CASES)
def test_metrics(
    prediction: str | None, answers: str | list[str], em: float, f1: float, sub_em: float, accuracy: float
) -> None:
    assert exact_match(prediction, answers) == em
    assert f1_score(prediction, answers) == pytest.approx(f1)
    assert substring_exact_match(prediction, answers) == sub_em
    assert memagent_accuracy(prediction, answers) == accuracy
    assert score_answer(prediction, answers) == pytest.approx(
        {"em": em, "f1": f1, "sub_em": sub_em, "accuracy": accuracy}
    )
