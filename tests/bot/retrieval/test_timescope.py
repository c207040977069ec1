"""A question's time scope: the window its words name, "the latest", and the as-of cut-off."""

from __future__ import annotations

from datetime import date

import pytest

from bot.retrieval.timescope import time_scope

ASKED = date(2022, 6, 16)


@pytest.mark.parametrize(
    ("question", "days"),
    [
        ("What happened in Kyiv today?", 1),
        ("Who resigned yesterday?", 2),
        ("Which show was green-lit this week?", 7),
        ("What NFL star announced his retirement on Tuesday?", 7),
        ("Who won the race last weekend?", 7),
        ("Who did the Fed name last week?", 14),
        ("Which company recently recalled its cars?", 14),
        ("What is the latest inflation figure?", 14),
        ("How many jobs were added this month?", 31),
        ("Who won the election this year?", 366),
        ("Who led the US delegation?", None),
        ("How long did the talks last?", None),
    ],
)
def test_the_window_a_question_names(question, days):
    assert time_scope(question, ASKED).window_days == days


def test_the_narrowest_phrase_wins():
    assert time_scope("What did the minister say today about this year's budget?", ASKED).window_days == 1


def test_window_bounds_are_the_days_before_the_day_asked():
    scope = time_scope("Who resigned this week?", ASKED)
    assert scope.in_window(date(2022, 6, 9)) and scope.in_window(ASKED)
    assert not scope.in_window(date(2022, 6, 8)) and not scope.in_window(date(2022, 6, 17))
    assert not scope.in_window(None)


def test_only_an_explicit_as_of_day_cuts_off_later_articles():
    assert time_scope("Who resigned?", ASKED).too_new(date(2022, 6, 17))
    assert not time_scope("Who resigned?", ASKED).too_new(ASKED)
    today = time_scope("Who resigned?")
    assert today.reference == date.today() and not today.too_new(date(2999, 1, 1))


def test_latest_wants_the_newest_article():
    assert time_scope("What is the most recent poll?").latest
    assert time_scope("Who was named last month?").latest
    assert not time_scope("Who won this week?").latest
