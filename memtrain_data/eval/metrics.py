"""Answer metrics of HotpotQA / SQuAD: exact match, token F1, substring exact match, accuracy.

All four compare answers after the official normalization (lower-case, drop punctuation,
drop the articles a/an/the, collapse whitespace) and take the best score over the gold
answers. HotpotQA's F1 rule applies: when either side normalizes to yes, no or noanswer and
the two differ, F1 is 0 (no partial credit for "no" against "yes it is"). A missing
prediction (no ``\\boxed{}``) scores 0 everywhere.

`sub_em` is one-way (a gold answer inside the prediction). `accuracy` is the metric of
MemAgent's and MemTrain's RULER-HotpotQA tables: MemAgent's ``sub_em``, a substring match in
*both* directions (gold inside prediction, or prediction inside gold). One deliberate
difference: a prediction that normalizes to nothing (e.g. "The.") scores 0 here, where
MemAgent's code would count the empty string as contained in every gold answer.
"""

from __future__ import annotations

import re
import string
from collections import Counter

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_SPECIAL_ANSWERS = frozenset({"yes", "no", "noanswer"})


def normalize_answer(text: str) -> str:
    """Official HotpotQA/SQuAD normalization, applied in the official order.

    >>> normalize_answer("The  Eiffel-Tower!")
    'eiffeltower'
    """
    lowered = text.lower()
    without_punctuation = "".join(ch for ch in lowered if ch not in _PUNCTUATION)
    without_articles = _ARTICLES.sub(" ", without_punctuation)
    return " ".join(without_articles.split())


def _golds(answers: str | list[str]) -> list[str]:
    return [answers] if isinstance(answers, str) else list(answers)


def _best(prediction: str | None, answers: str | list[str], score: object) -> float:
    golds = _golds(answers)
    if prediction is None or not golds:
        return 0.0
    return max(score(prediction, gold) for gold in golds)  # type: ignore[operator]


def _exact(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def _f1(prediction: str, gold: str) -> float:
    predicted = normalize_answer(prediction)
    expected = normalize_answer(gold)
    if (predicted in _SPECIAL_ANSWERS or expected in _SPECIAL_ANSWERS) and predicted != expected:
        return 0.0
    predicted_tokens = predicted.split()
    expected_tokens = expected.split()
    common = sum((Counter(predicted_tokens) & Counter(expected_tokens)).values())
    if common == 0:
        return 0.0
    precision = common / len(predicted_tokens)
    recall = common / len(expected_tokens)
    return 2 * precision * recall / (precision + recall)


def _substring(prediction: str, gold: str) -> float:
    expected = normalize_answer(gold)
    # An empty gold would be "contained" in everything; it never counts.
    return float(bool(expected) and expected in normalize_answer(prediction))


def _two_way_substring(prediction: str, gold: str) -> float:
    predicted = normalize_answer(prediction)
    expected = normalize_answer(gold)
    if not predicted or not expected:
        return 0.0
    return float(expected in predicted or predicted in expected)


def exact_match(prediction: str | None, answers: str | list[str]) -> float:
    """1.0 when the normalized prediction equals a normalized gold answer."""
    return _best(prediction, answers, _exact)


def f1_score(prediction: str | None, answers: str | list[str]) -> float:
    """HotpotQA token F1 against the best-matching gold answer."""
    return _best(prediction, answers, _f1)


def substring_exact_match(prediction: str | None, answers: str | list[str]) -> float:
    """1.0 when a normalized gold answer appears inside the normalized prediction."""
    return _best(prediction, answers, _substring)


def memagent_accuracy(prediction: str | None, answers: str | list[str]) -> float:
    """MemAgent's accuracy: 1.0 when a normalized gold contains the normalized prediction or vice versa.

    >>> memagent_accuracy("Paris", ["Paris, France"]), memagent_accuracy("in Paris", ["Paris"])
    (1.0, 1.0)
    """
    return _best(prediction, answers, _two_way_substring)


METRIC_NAMES: tuple[str, ...] = ("em", "f1", "sub_em", "accuracy")


def score_answer(prediction: str | None, answers: str | list[str]) -> dict[str, float]:
    """All four metrics of one prediction: {"em", "f1", "sub_em", "accuracy"}."""
    return {
        "em": exact_match(prediction, answers),
        "f1": f1_score(prediction, answers),
        "sub_em": substring_exact_match(prediction, answers),
        "accuracy": memagent_accuracy(prediction, answers),
    }
