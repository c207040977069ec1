"""A figure's kind and size ("$1.2 billion" -> money, 1.2e9), so that two reports' figures are compared
only when they could be the same measure updated: a death toll of 14 and one of 37 are; an age of 15
and a count of 17 people, or 4.5 million and 187, are not (bot.answering.reader's latest report).
"""

from __future__ import annotations

import re

from bot.answering.answer_kinds import is_amount_of_time, is_date, is_money, is_percentage

MAX_UPDATE_RATIO = 5.0  # a figure updated by more than this factor is more likely another measure

_WORD_VALUES = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "half": 0.5, "dozen": 12, "dozens": 24,
}  # fmt: skip
_SCALES = {"dozen": 12, "hundred": 1e2, "thousand": 1e3, "thousands": 1e3, "million": 1e6, "millions": 1e6, "m": 1e6,
           "billion": 1e9, "billions": 1e9, "bn": 1e9, "trillion": 1e12}  # fmt: skip
_TOKEN = re.compile(r"\d[\d,]*(?:\.\d+)?|[a-z]+")
_AGE = re.compile(r"\b(years?[- ]old|aged?)\b", re.I)


def figure_kind(text: str) -> str:
    """money, share, age, duration, date or count."""
    if is_money(text):
        return "money"
    if is_percentage(text):
        return "share"
    if _AGE.search(text):
        return "age"
    if is_amount_of_time(text):
        return "duration"
    if is_date(text):
        return "date"
    return "count"


def figure_value(text: str) -> float | None:
    """The first number in `text` with its scale words: "about 1,400" 1400, "$3.2 billion" 3.2e9,
    "more than three dozen" 36, "half a million" 5e5; None when it names none ("thousands")."""
    tokens = _TOKEN.findall(text.lower())
    value: float | None = None
    for i, token in enumerate(tokens):
        if value is None:
            if token[0].isdigit():
                value = float(token.replace(",", ""))
            elif token in _WORD_VALUES:
                value = float(_WORD_VALUES[token])
            elif token in ("a", "an") and i + 1 < len(tokens) and tokens[i + 1] in _SCALES:
                value = 1.0
        elif token in _SCALES:
            value *= _SCALES[token]
        elif token not in ("a", "an"):  # "half a million": the article between a number and its scale
            break
    return value


def may_update(earlier: str, later: str) -> bool:
    """Whether `later` may be `earlier`'s figure updated: the same kind, sizes within MAX_UPDATE_RATIO,
    and not the same size written another way ("$5" and "$5 a gallon")."""
    if figure_kind(earlier) != figure_kind(later):
        return False
    a, b = figure_value(earlier), figure_value(later)
    if not a or not b or a == b:
        return False
    return max(a, b) / min(a, b) <= MAX_UPDATE_RATIO
