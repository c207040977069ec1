"""Two newsbot processes behind one Slack app behave as one: their state is one SQL database, a
SQLite file (WAL) on one machine or a real PostgreSQL server for several. Each "process" here is a
face of its own (its own engine and connection pool, worker pool and HTTP server) on the same URL."""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.chain import NewsBot
from bot.slack.app import SlackFace
from bot.slack.blocks import POST_TO_CHANNEL
from bot.slack.client import connect
from bot.slack.serve import SlackHttpServer
from bot.slack.store import SlackState, state_url
from indexing.errors import StoreError
from testsupport.slack_requests import (
    QUESTION,
    answer_id_of,
    assert_cited_answer,
    button_value,
    click,
    feedback,
    fresh_channel,
    in_thread,
    send_event,
    slash,
    user_message,
)

UNUSED = Path("unused")  # the data dir matters only when NEWSBOT_STATE_URL is unset


def test_a_retry_that_reaches_the_other_process_is_dropped(two_processes, fake, caplog):
    caplog.set_level(logging.INFO, logger="newsbot.slack")
    b, c = two_processes
    channel = fresh_channel()
    event = user_message(fake, channel, f"<@UBOT> {QUESTION}")
    event_id = f"Ev{uuid.uuid4().hex[:10]}"
    assert send_event(b, event, event_id=event_id)[0] == 200
    status, _, elapsed = send_event(c, event, event_id=event_id, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert status == 200 and elapsed < 3
    fake.wait_for("chat.postMessage", in_thread(channel, event["ts"]))
    fake.wait_for("reactions.remove", lambda call: call.params.get("timestamp") == event["ts"])
    assert len(fake.calls_to("chat.postMessage", in_thread(channel, event["ts"]))) == 1
    assert f"dropped a repeat of event {event_id}" in caplog.text


def test_buttons_work_on_the_process_that_did_not_answer(two_processes, fake):
    b, c = two_processes
    channel = fresh_channel()
    assert slash(b, fake, QUESTION, channel=channel)[0] == 200
    (ephemeral,) = fake.wait_for("chat.postEphemeral", lambda call: call.params.get("channel") == channel)
    answer_id = button_value(ephemeral.params["blocks"], POST_TO_CHANNEL)
    assert feedback(c, fake, "up", answer_id, user="U8", channel=channel)[0] == 200
    assert click(c, fake, POST_TO_CHANNEL, answer_id, channel=channel)[0] == 200
    (posted,) = fake.wait_for("chat.postMessage", in_thread(channel, None))
    assert_cited_answer(posted, "Wendy R.")
    fake.wait_for("response_url", lambda call: "feedback is recorded" in call.params.get("text", ""))
    assert not fake.calls_to("response_url", lambda call: "no longer stored" in call.params.get("text", ""))


def test_feedback_on_either_process_lands_in_the_one_database(shared_url, two_processes, fake):
    b, c = two_processes
    channel = fresh_channel()
    assert slash(b, fake, QUESTION, channel=channel)[0] == 200
    (ephemeral,) = fake.wait_for("chat.postEphemeral", lambda call: call.params.get("channel") == channel)
    answer_id = answer_id_of(ephemeral.params["blocks"])
    assert feedback(c, fake, "down", answer_id, user="U9", channel=channel)[0] == 200
    fake.wait_for("response_url", lambda call: "feedback is recorded" in call.params.get("text", "") and call.at >= ephemeral.at)
    state = SlackState(state_url(shared_url, UNUSED))
    try:
        (entry,) = state.feedback(answer_id)
    finally:
        state.close()
    assert (
        entry["verdict"] == "down"
        and entry["user"] == "U9"
        and entry["question"] == QUESTION
        and "Wendy R." in entry["answer"]
        and "missing" not in entry
    )


def test_dedupe_is_one_insert_that_exactly_one_process_wins(shared_url):
    stores = [SlackState(state_url(shared_url, None)) for _ in range(2)]  # type: ignore[arg-type]
    keys = [f"event:Ev{uuid.uuid4().hex}" for _ in range(60)]
    wins: dict[str, int] = dict.fromkeys(keys, 0)
    lock = threading.Lock()
    start = threading.Barrier(8)

    def race(n: int) -> None:
        store = stores[n % 2]
        start.wait()
        for key in keys:
            if store.first(key):
                with lock:
                    wins[key] += 1

    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(race, range(8)))
    finally:
        for store in stores:
            store.close()
    assert set(wins.values()) == {1}


def test_an_unreachable_state_database_is_one_line_without_the_password():
    with pytest.raises(StoreError) as raised:
        SlackState(state_url("postgresql://newsbot:hunter2@127.0.0.1:1/none", UNUSED))
    assert "hunter2" not in str(raised.value) and "\n" not in str(raised.value) and "NEWSBOT_STATE_URL" in str(raised.value)
