"""The Slack face when Slack is busy, over real HTTP: acks while the Web API is slow or rate-limited,
bursts of simultaneous deliveries, junk bodies, logging that lasts, the busy notice, long answers
that Slack must accept."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from bot.answer import Answer, Citation
from bot.chain import NewsBot
from bot.slack.app import SlackFace
from bot.slack.blocks import FEEDBACK_UP, POST_TO_CHANNEL
from bot.slack.client import connect
from bot.slack.serve import SlackHttpServer
from bot.slack.texts import BUSY
from testsupport.slack_fake_messages import blocks_error
from testsupport.slack_requests import (
    QUESTION,
    ack_text,
    click,
    event_body,
    in_thread,
    make_settings,
    send_event,
    signed_post,
    slash,
    user_message,
)


@pytest.fixture
def slow_slack(fake):
    """Every Web API call takes 0.5 s, as in the issue's measurement."""
    fake.latency = 0.5
    yield fake
    fake.latency = 0.0


def test_commands_and_clicks_are_acked_at_once_while_mentions_wait_on_a_slow_rate_limited_api(server, slow_slack, face):
    fake = slow_slack
    fake.fail("reactions.add", status=429, retry_after=1, times=10)
    events = [user_message(fake, "C20", f"<@UBOT> {QUESTION}") for _ in range(30)]
    with ThreadPoolExecutor(30) as pool:
        acks = list(pool.map(lambda e: send_event(server, e), events))
    # Before: reactions.add (and its 429 sleep) ran in bolt's 5 listener threads, so these waited
    # for a free one and missed the 3 s (bolt's 404 "unhandled request" after 3,013 ms).
    status, body, elapsed = slash(server, fake, QUESTION, channel="C20")
    assert status == 200 and elapsed < 3 and "Searching" in ack_text(body), (status, body, elapsed)
    status, _, elapsed = click(server, fake, FEEDBACK_UP, "some-answer", channel="C20")
    assert status == 200 and elapsed < 3, (status, elapsed)
    assert all(s == 200 and t < 3 for s, _, t in acks), acks
    for event in events:
        fake.wait_for("chat.postMessage", in_thread("C20", event["ts"]), timeout=180)
    for event in events:
        assert len(fake.calls_to("chat.postMessage", in_thread("C20", event["ts"]))) == 1


def test_a_burst_of_simultaneous_deliveries_gets_no_connection_reset(server, fake):
    n = 200
    start = threading.Barrier(n)

    def deliver(_: int) -> int:
        ts = fake.new_ts()
        event = {"type": "message", "subtype": "bot_message", "bot_id": "BOTHER", "text": "hi", "channel": "C21", "ts": ts, "event_ts": ts}
        body = event_body(event)
        start.wait()
        return signed_post(server.url, body, "application/json")[0]  # a reset raises

    with ThreadPoolExecutor(n) as pool:
        statuses = list(pool.map(deliver, range(n)))
    assert statuses == [200] * n  # the standard library's backlog of 5 reset 32 of 50


def test_info_lines_survive_every_request(server, fake, caplog):
    newsbot = logging.getLogger("newsbot")
    before = newsbot.level
    newsbot.setLevel(logging.INFO)  # as `newsbot slack` does
    try:
        for n in range(2):
            event = user_message(fake, f"D2{n}", QUESTION, kind="message", channel_type="im")
            assert send_event(server, event)[0] == 200
            fake.wait_for("chat.postMessage", lambda c, ch=f"D2{n}": c.params.get("channel") == ch)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sum("answered message" in r.getMessage() for r in caplog.records) < 2:
            time.sleep(0.05)
        # Before: bolt reset the "newsbot" logger's level on every request, and INFO lines vanished.
        assert newsbot.level == logging.INFO
        assert sum("answered message" in r.getMessage() for r in caplog.records) == 2
    finally:
        newsbot.setLevel(before)


JUNK = {
    "malformed JSON": ("application/json", b'{"type": "event_callback", '),
    "a JSON array": ("application/json", b"[1, 2, 3]"),
    "a bad payload=": ("application/x-www-form-urlencoded", b"payload=%7Bnot-json"),
    "a payload= that is an array": ("application/x-www-form-urlencoded", b"payload=%5B1%5D"),
    "non-UTF-8 bytes": ("application/json", b'{"type": "\xff\xfe"}'),
}


@pytest.mark.parametrize("what", list(JUNK))
def test_junk_gets_400_when_signed_and_401_when_not_without_a_traceback(server, what, caplog):
    content_type, body = JUNK[what]
    assert signed_post(server.url, body, content_type)[0] == 400
    assert signed_post(server.url, body, content_type, secret="forged")[0] == 401
    for empty in ({"X-Slack-Signature": ""}, {"X-Slack-Request-Timestamp": ""}, {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""}):
        assert signed_post(server.url, body, content_type, headers=empty)[0] == 401  # was a 500 (int(""))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text


def _citation(quote: str, n: int) -> Citation:
    return Citation(f"a{n}", "AT&T & P&G <results>", date(2022, 12, 4), "/news/a.txt", quote, 0, len(quote), 0.9, (0, 4))


def test_a_long_answer_full_of_ampersands_is_one_message_slack_accepts(server, fake, face):
    # Escaping makes "&" five characters: the old fit() cut such texts to "" (invalid_blocks), and
    # 36.9k characters of blocks were allowed where Slack refuses from ~12k (msg_blocks_too_long).
    quote = "AT&T and P&G " * 300
    answer = Answer("a&b " * 900, tuple(_citation(quote, n) for n in range(8)), True, question="Who & what?")
    answer_id = face.state.add_answer(answer, "C22", None)
    status, _, elapsed = click(server, fake, POST_TO_CHANNEL, answer_id, channel="C22")
    assert status == 200 and elapsed < 3
    (posted,) = fake.wait_for("chat.postMessage", in_thread("C22", None))
    assert blocks_error(posted.params["blocks"]) is None
    fake.wait_for("response_url", lambda c: c.params.get("delete_original") is True and c.at >= posted.at)
    section = posted.params["blocks"][1]["text"]["text"]
    assert len(section) > 2500 and section.endswith("…")


def test_a_full_queue_answers_busy_instead_of_dropping_the_question(bot, fake, tmp_path):
    settings = make_settings(tmp_path, fake, NEWSBOT_SLACK_THREADS="1", NEWSBOT_SLACK_QUEUE="1")
    small = SlackFace(NewsBot(settings, index=bot.index), connect(settings))
    http = SlackHttpServer(small, "127.0.0.1", 0).start()
    fake.latency = 0.3
    try:
        events = [user_message(fake, f"D3{n}", QUESTION, kind="message", channel_type="im") for n in range(6)]
        for event in events:
            status, _, elapsed = send_event(http, event)
            assert status == 200 and elapsed < 3
        replies = [fake.wait_for("chat.postMessage", lambda c, ch=e["channel"]: c.params.get("channel") == ch, timeout=60) for e in events]
    finally:
        fake.latency = 0.0
        http.stop()
        small.close()
    texts = [r[0].params["text"] for r in replies]
    assert texts.count(BUSY) >= 3 and any("Wendy R." in t for t in texts), texts
    for event in events:  # one reply each: an answer or the busy notice, never both, never none
        assert len(fake.calls_to("chat.postMessage", lambda c, ch=event["channel"]: c.params.get("channel") == ch)) == 1
