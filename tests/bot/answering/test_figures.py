"""Figures compared across reports (bot.answering.figures): an update is the same measure at a like size."""

from __future__ import annotations

import pytest

from bot.answering.figures import figure_kind, figure_value, may_update


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("about 1,400", 1400),
        ("$3.2 billion", 3.2e9),
        ("more than three dozen", 36),
        ("half a million", 5e5),
        ("Eleven", 11),
        ("a 48-year-old", 48),
        ("17-year-old", 17),
        ("$5 a gallon", 5),
        ("thousands of people", None),
        ("the mayor", None),
    ],
)
def test_the_size_of_a_figure(text, value):
    assert figure_value(text) == value


def test_the_kind_of_a_figure():
    assert [figure_kind(t) for t in ("$499", "41 percent", "15 years old", "four hours", "March 2026", "540")] == [
        "money", "share", "age", "duration", "date", "count",
    ]  # fmt: skip


def test_an_update_is_the_same_measure_at_a_like_size():
    assert may_update("212", "540")  # evacuations: a first report, then a later one
    assert may_update("44%", "60%") and may_update("$4.32", "$4 per gallon")
    assert not may_update("$5", "$5 a gallon"), "the same figure written another way"
    assert not may_update("four", "27") and not may_update("$5.7 million", "more than $6 billion"), "another measure"
    assert not may_update("six months", "10") and not may_update("17 people", "15 years old"), "another kind"
    assert not may_update("thousands", "5"), "no size to compare"
