"""The Slack face end to end: real signed Events API / slash-command / interactivity requests over
HTTP to the app, the real chain over the seed index, and a local stand-in for Slack's Web API that
records every call (tests/slack_fake_api.py). Socket Mode connects to a local WebSocket."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from bot.chain import NewsBot
from bot.settings import BotSettings
from bot.slack.app import SlackFace
from bot.slack.blocks import POST_TO_CHANNEL
from bot.slack.client import connect
from bot.slack.serve import SlackHttpServer, open_socket_mode
from indexing.errors import ConfigError
from indexing.settings import SettingsSource
from testsupport.corpora import REPO
from testsupport.servers import free_port
from testsupport.slack_fake_api import FakeSlack, FakeSocket
from testsupport.slack_requests import (
    ADMIN,
    APP_TOKEN,
    BOT_TOKEN,
    QUESTION,
    SECRET,
    SEED_TEXT,
    ack_text,
    answer_id_of,
    assert_cited_answer,
    button_value,
    click,
    event_body,
    feedback,
    follow_up_buttons,
    in_thread,
    make_settings,
    send_event,
    signed_post,
    slash,
    user_message,
)


# ---- tests ---------------------------------------------------------------------------------------------
def test_mention_is_answered_in_its_thread_with_cited_passages(server, fake, caplog):
    caplog.set_level(logging.DEBUG)
    event = user_message(fake, "C1", f"<@UBOT> {QUESTION}")
    status, _, elapsed = send_event(server, event)
    assert status == 200 and elapsed < 3
    (answer,) = fake.wait_for("chat.postMessage", in_thread("C1", event["ts"]))
    assert_cited_answer(answer, "Wendy R.")
    assert answer.params["metadata"]["event_payload"]["question"] == QUESTION
    assert "Russia, NATO talks" in answer.params["blocks"][1]["elements"][0]["text"]
    # :eyes: while answering, removed when done, both on the user's message.
    added = fake.calls_to("reactions.add", lambda c: c.params.get("timestamp") == event["ts"])
    removed = fake.wait_for("reactions.remove", lambda c: c.params.get("timestamp") == event["ts"])
    assert added and added[0].params["name"] == "eyes" and added[0].at <= answer.at <= removed[0].at
    # The bot's token went only in the Authorization header; no token or secret ever reaches the logs.
    assert answer.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert caplog.records
    for secret in (BOT_TOKEN, APP_TOKEN, SECRET):
        assert secret not in caplog.text


def test_a_retried_event_is_answered_once(server, fake, caplog):
    caplog.set_level(logging.INFO, logger="newsbot.slack")
    event = user_message(fake, "C1", f"<@UBOT> {QUESTION}")
    event_id = f"Ev{uuid.uuid4().hex[:10]}"
    assert send_event(server, event, event_id=event_id)[0] == 200
    status, _, elapsed = send_event(
        server, event, event_id=event_id, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert status == 200 and elapsed < 3
    fake.wait_for("chat.postMessage", in_thread("C1", event["ts"]))
    fake.wait_for("reactions.remove", lambda c: c.params.get("timestamp") == event["ts"])
    assert len(fake.calls_to("chat.postMessage", in_thread("C1", event["ts"]))) == 1
    assert f"dropped a repeat of event {event_id} (X-Slack-Retry-Num 1)" in caplog.text


def test_bot_messages_are_never_answered(server, fake):
    ignored = [
        {"type": "message", "subtype": "bot_message", "bot_id": "BOTHER", "text": QUESTION},  # another bot
        {"type": "message", "user": "UOTHERBOT", "bot_id": "BOTHER", "text": QUESTION},  # a bot with a user
        {"type": "message", "user": "UBOT", "text": QUESTION},  # this bot
        {"type": "message", "subtype": "message_changed", "user": "U1", "text": QUESTION},
    ]
    for event in ignored:
        ts = fake.new_ts()
        assert send_event(server, {**event, "channel": "D1", "channel_type": "im", "ts": ts, "event_ts": ts})[0] == 200
    person = user_message(fake, "D1", QUESTION, kind="message", channel_type="im")
    assert send_event(server, person)[0] == 200
    (answer,) = fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "D1")
    assert "thread_ts" not in answer.params  # a DM is answered in the DM
    assert_cited_answer(answer, "Wendy R.")
    time.sleep(0.3)
    assert len(fake.calls_to("chat.postMessage", lambda c: c.params.get("channel") == "D1")) == 1
    assert {c.params["timestamp"] for c in fake.calls_to("reactions.add", lambda c: c.params.get("channel") == "D1")} == {person["ts"]}


@pytest.mark.parametrize("how", ["wrong secret", "stale timestamp", "no signature"])
def test_bad_or_stale_signatures_get_401(server, fake, how):
    event = user_message(fake, "C9", f"<@UBOT> {QUESTION}")
    body = event_body(event)
    if how == "wrong secret":
        status = signed_post(server.url, body, "application/json", secret="not-the-secret")[0]
    elif how == "stale timestamp":
        status = signed_post(server.url, body, "application/json", timestamp=int(time.time()) - 600)[0]
    else:
        request = urllib.request.Request(server.url, data=body.encode(), method="POST", headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=10)
        status = raised.value.code
    assert status == 401
    time.sleep(0.2)
    assert not fake.calls_to("reactions.add", lambda c: c.params.get("channel") == "C9")


def test_a_thread_follow_up_is_asked_with_the_earlier_turns(server, fake):
    first = user_message(fake, "C3", f"<@UBOT> {QUESTION}")
    send_event(server, first)
    fake.wait_for("chat.postMessage", in_thread("C3", first["ts"]))
    follow = user_message(fake, "C3", "and who led the Russian side?", kind="message", thread_ts=first["ts"])
    status, _, elapsed = send_event(server, follow)
    assert status == 200 and elapsed < 3
    answers = fake.wait_for("chat.postMessage", in_thread("C3", first["ts"]), count=2)
    assert "Sergei A." in answers[1].params["text"]
    assert answers[1].params["metadata"]["event_payload"]["question"] == "and who led the Russian side?"
    replies = fake.calls_to("conversations.replies", lambda c: c.params.get("ts") == first["ts"])
    assert replies and replies[-1].params["include_all_metadata"] in ("1", "true", True)
    # Chatter in a thread the bot is not part of is left alone.
    other = user_message(fake, "C3", "lunch?", kind="message", thread_ts=fake.new_ts())
    send_event(server, other)
    fake.wait_for("conversations.replies", lambda c: c.params.get("ts") == other["thread_ts"])
    time.sleep(0.3)
    assert not fake.calls_to("chat.postMessage", in_thread("C3", other["thread_ts"]))


def test_slash_command_answers_ephemerally_and_posts_on_click(server, fake):
    status, body, elapsed = slash(server, fake, QUESTION)
    assert status == 200 and elapsed < 3 and "Searching" in ack_text(body)
    (ephemeral,) = fake.wait_for("chat.postEphemeral", lambda c: c.params.get("channel") == "C2" and c.params.get("user") == "U1")
    assert_cited_answer(ephemeral, "Wendy R.")
    answer_id = button_value(ephemeral.params["blocks"], POST_TO_CHANNEL)

    status, _, elapsed = click(server, fake, POST_TO_CHANNEL, answer_id)
    assert status == 200 and elapsed < 3
    (posted,) = fake.wait_for("chat.postMessage", in_thread("C2", None))
    assert_cited_answer(posted, "Wendy R.")
    texts = json.dumps(posted.params["blocks"])
    assert QUESTION in texts and "Asked by <@U1>" in texts
    fake.wait_for("response_url", lambda c: c.params.get("delete_original") is True)


def test_a_follow_up_suggested_under_a_slash_answer_is_answered_ephemerally(server, fake):
    assert slash(server, fake, QUESTION, user="U3", channel="C8")[0] == 200
    (ephemeral,) = fake.wait_for("chat.postEphemeral", lambda c: c.params.get("channel") == "C8")
    newer = next(b for b in follow_up_buttons(ephemeral.params["blocks"]) if " after:" in b["value"])
    assert click(server, fake, newer["action_id"], newer["value"], user="U3", channel="C8")[0] == 200  # no message: ephemeral
    reply = fake.wait_for("chat.postEphemeral", lambda c: c.params.get("channel") == "C8", count=2)[1]
    assert reply.params["user"] == "U3" and "No indexed article was published since" in reply.params["text"]


def test_slash_help(server, fake):
    status, body, _ = slash(server, fake, "help")
    assert status == 200 and "/newsbot reindex" in ack_text(body)


def test_feedback_click_is_recorded(server, fake, face):
    event = user_message(fake, "C4", f"<@UBOT> {QUESTION}")
    send_event(server, event)
    (answer,) = fake.wait_for("chat.postMessage", in_thread("C4", event["ts"]))
    answer_id = answer_id_of(answer.params["blocks"])
    status, _, elapsed = feedback(server, fake, "up", answer_id, user="U7", channel="C4")
    assert status == 200 and elapsed < 3
    fake.wait_for("response_url", lambda c: "feedback" in c.params.get("text", ""))
    entry = face.state.feedback(answer_id)[-1]
    assert entry["verdict"] == "up" and entry["user"] == "U7" and entry["question"] == QUESTION
    assert "Wendy R." in entry["answer"] and entry["citations"][0]["quote"] in SEED_TEXT and entry["time"]


def test_reindex_is_for_admins_only(server, fake):
    status, body, _ = slash(server, fake, "reindex", user="U1")
    assert status == 200 and "Only the admins" in ack_text(body)
    status, body, elapsed = slash(server, fake, "reindex", user=ADMIN)
    assert status == 200 and elapsed < 3 and "Re-indexing" in ack_text(body)
    (summary,) = fake.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == ADMIN)
    assert "Re-indexed" in summary.params["text"] and "1 unchanged" in summary.params["text"]
    assert not fake.calls_to("chat.postEphemeral", lambda c: c.params.get("user") == "U1" and "Re-indexed" in c.params.get("text", ""))


def test_rate_limited_posts_are_retried_after_retry_after(server, fake):
    fake.fail("chat.postMessage", status=429, retry_after=1)
    event = user_message(fake, "D2", QUESTION, kind="message", channel_type="im")
    send_event(server, event)
    (answer,) = fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "D2")
    limited = fake.calls_to("chat.postMessage", lambda c: c.status == 429)
    assert limited and limited[-1].params["channel"] == "D2"
    assert answer.at - limited[-1].at >= 0.9  # waited for Retry-After
    assert_cited_answer(answer, "Wendy R.")


def test_a_failure_while_answering_is_an_apology_in_the_thread(fake, tmp_path, caplog):
    # A real failure: the index lives on a Chroma server that is not running.
    broken = NewsBot(make_settings(tmp_path, fake, CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(free_port())))
    broken_face = SlackFace(broken, connect(broken.settings))
    http = SlackHttpServer(broken_face, "127.0.0.1", 0).start()
    try:
        event = user_message(fake, "C5", f"<@UBOT> {QUESTION}")
        status, _, elapsed = send_event(http, event)
        assert status == 200 and elapsed < 3
        (apology,) = fake.wait_for("chat.postMessage", in_thread("C5", event["ts"]))
        assert "Sorry" in apology.params["text"] and "index is not reachable" in apology.params["text"]
        assert "127.0.0.1" not in apology.params["text"]  # the details are in the log, not in Slack
        fake.wait_for("reactions.remove", lambda c: c.params.get("timestamp") == event["ts"])
    finally:
        http.stop()
        broken_face.close()
    failed = [r for r in caplog.records if r.name == "newsbot.slack" and r.levelno == logging.ERROR]
    assert failed and failed[0].exc_info is not None and "Traceback" in caplog.text


def test_start_up_errors_are_one_line(fake, tmp_path):
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN is not set"):
        connect(make_settings(tmp_path, fake, SLACK_BOT_TOKEN=None))
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is not set"):
        connect(make_settings(tmp_path, fake, SLACK_SIGNING_SECRET=None))
    assert connect(make_settings(tmp_path, fake, SLACK_SIGNING_SECRET=None, SLACK_APP_TOKEN=APP_TOKEN)).mode == "socket"
    # The command itself: a token Slack refuses is one line on stderr, exit 1, before any model loads.
    env = {
        **os.environ,
        "NEWSBOT_DATA_DIR": str(tmp_path),
        "NEWSBOT_CONFIG": str(tmp_path / "none"),
        "SLACK_BOT_TOKEN": "xoxb-revoked-0000",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
    }
    env.pop("SLACK_APP_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "slack", "--port", str(free_port())],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert "auth.test: invalid_auth" in done.stderr and "xoxb-revoked-0000" not in done.stderr


def test_socket_mode_connects_acks_and_answers(bot, fake, caplog):
    caplog.set_level(logging.DEBUG)
    socket = FakeSocket().start()
    fake.ws_url = socket.url
    face = SlackFace(bot, connect(make_settings(bot.settings.index.data_dir, fake, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET=None)))
    event = user_message(fake, "C6", f"<@UBOT> {QUESTION}")
    socket.envelopes = [
        {
            "envelope_id": "env-1",
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": json.loads(event_body(event)),
        }
    ]
    handler = open_socket_mode(face)
    try:
        socket.wait_received(lambda m: m.get("envelope_id") == "env-1")
        (answer,) = fake.wait_for("chat.postMessage", in_thread("C6", event["ts"]))
        assert_cited_answer(answer, "Wendy R.")
        (opened,) = fake.calls_to("apps.connections.open")
        assert opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"
    finally:
        handler.close()
        socket.stop()
        face.close()
    assert "apps.connections.open" in caplog.text
    for secret in (BOT_TOKEN, APP_TOKEN, SECRET):
        assert secret not in caplog.text


def test_socket_mode_with_a_refused_app_token_is_one_line(bot, fake):
    face = SlackFace(
        bot, connect(make_settings(bot.settings.index.data_dir, fake, SLACK_APP_TOKEN="xapp-revoked", SLACK_SIGNING_SECRET=None))
    )
    with pytest.raises(ConfigError, match=r"apps.connections.open: invalid_auth") as raised:
        open_socket_mode(face)
    face.close()
    assert "xapp-revoked" not in str(raised.value) and "\n" not in str(raised.value)


def test_the_manifest_declares_what_the_app_uses():
    manifest = yaml.safe_load((REPO / "slack" / "manifest.yml").read_text(encoding="utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "im:history", "channels:history", "groups:history", "commands", "reactions:write"} <= scopes
    # Group DMs (follow-ups there arrived nowhere before) and the AI-app side panel.
    assert {"mpim:history", "assistant:write"} <= scopes
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "message.channels", "message.groups", "message.mpim"} <= events
    assert {"assistant_thread_started", "assistant_thread_context_changed"} <= events
    assert manifest["features"]["assistant_view"]["assistant_description"]
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/newsbot"]
    assert manifest["settings"]["interactivity"]["is_enabled"] and manifest["settings"]["socket_mode_enabled"]


def test_a_follow_up_in_a_group_dm_is_answered(server, fake):
    # Slack sends these only with message.mpim + mpim:history in the manifest (checked above).
    first = user_message(fake, "G7", f"<@UBOT> {QUESTION}")
    send_event(server, first)
    fake.wait_for("chat.postMessage", in_thread("G7", first["ts"]))
    follow = user_message(fake, "G7", "and who led the Russian side?", kind="message", thread_ts=first["ts"], channel_type="mpim")
    assert send_event(server, follow)[0] == 200
    answers = fake.wait_for("chat.postMessage", in_thread("G7", first["ts"]), count=2)
    assert "Sergei A." in answers[1].params["text"]
