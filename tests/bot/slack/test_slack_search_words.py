"""Slack's search words (from:, after:, before:, on:) as filters: parsed from the question, applied inside retrieval."""

from __future__ import annotations

from datetime import date

import pytest

from bot.retrieval.filters import Filters
from bot.slack.search_words import SearchWordError, split_search_words
from testsupport.slack_requests import QUESTION, in_thread, send_event, user_message


def test_the_words_become_filters_and_leave_the_question():
    question, filters = split_search_words("from:reuters.com who won the vote? after:2024-05-01 before:2024-06-01")
    assert question == "who won the vote?"
    # As in Slack's search, after: and before: leave out the day they name.
    assert filters == Filters("reuters.com", date(2024, 5, 2), date(2024, 5, 31))


def test_on_is_one_day_and_a_slack_link_is_its_label():
    question, filters = split_search_words("who won? on:2024-05-03 from:<http://reuters.com|reuters.com>")
    assert question == "who won?" and filters == Filters("reuters.com", date(2024, 5, 3), date(2024, 5, 3))
    assert split_search_words("from:<https://apnews.com> who?")[1] == Filters("apnews.com")


def test_no_words_no_filters_and_words_inside_other_words_are_kept():
    assert split_search_words("what happened?") == ("what happened?", None)
    assert split_search_words("what is the e-mail address:from:x?") == ("what is the e-mail address:from:x?", None)


@pytest.mark.parametrize(
    "text, message",
    [
        ("who? after:May", "`after:May` is not a date: write it as after:YYYY-MM-DD"),
        ("who? after:2024-06-01 before:2024-06-01", "No day is both on or after 2024-06-02 and on or before 2024-05-31"),
    ],
)
def test_a_word_that_cannot_be_used_is_named(text, message):
    with pytest.raises(SearchWordError, match=message):
        split_search_words(text)


def test_a_mention_with_search_words_is_answered_inside_the_filters(server, fake):
    event = user_message(fake, "C7", f"<@UBOT> {QUESTION} after:2022-12-01 before:2022-12-31")
    send_event(server, event)
    (answer,) = fake.wait_for("chat.postMessage", in_thread("C7", event["ts"]))
    assert answer.params["text"].startswith("Wendy R.")

    event = user_message(fake, "C7", f"<@UBOT> {QUESTION} from:<http://reuters.com|reuters.com>")
    send_event(server, event)
    (refusal,) = fake.wait_for("chat.postMessage", in_thread("C7", event["ts"]))
    assert refusal.params["text"].startswith("No indexed article is from 'reuters.com': the source filter left nothing")

    event = user_message(fake, "C7", f"<@UBOT> {QUESTION} before:yesterday")
    send_event(server, event)
    (reply,) = fake.wait_for("chat.postMessage", in_thread("C7", event["ts"]))
    assert reply.params["text"].startswith("`before:yesterday` is not a date")
