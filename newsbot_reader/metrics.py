"""SQuAD's answer scores, as the official SQuAD 2.0 script computes them.

Lower case, strip ASCII punctuation and the articles a/an/the, collapse white space; the maximum
over the accepted answers; a refusal is the empty prediction, exactly right on an unanswerable
question and wrong elsewhere. Shared by the reader's training and the bot's evaluation.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    if not answers:  # unanswerable: only the empty prediction (a refusal) is right
        return float(normalize_answer(prediction) == "")
    return max(float(normalize_answer(prediction) == normalize_answer(a)) for a in answers)


def _f1(prediction: str, answer: str) -> float:
    pred, gold = normalize_answer(prediction).split(), normalize_answer(answer).split()
    if not pred or not gold:
        return float(pred == gold)
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def f1_score(prediction: str, answers: Sequence[str]) -> float:
    """Token F1, the maximum over the accepted answers (SQuAD)."""
    return max(_f1(prediction, a) for a in answers) if answers else _f1(prediction, "")
