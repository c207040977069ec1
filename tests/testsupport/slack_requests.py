"""Slack's side of the conversation for the Slack tests: signed Events API, slash-command and
interactivity requests sent over real HTTP, and readers of what the bot posted (Block Kit)."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bot.settings import BotSettings
from bot.slack.blocks import FEEDBACK
from bot.slack.serve import SlackHttpServer
from indexing.settings import SettingsSource
from testsupport.corpora import SEED_FILE, SEED_TEXT
from testsupport.slack_fake_api import Call, FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-1111-2222-secretbottoken"
APP_TOKEN = "xapp-1-A1-3333-secretapptoken"
ADMIN = "UADMIN"
QUESTION = "Who led the US delegation to the talks?"


def make_settings(data: Path, fake: FakeSlack, **env: str) -> BotSettings:
    values = {
        "NEWSBOT_DATA_DIR": str(data),
        "NEWSBOT_CONFIG": str(data / "no-config.toml"),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "NEWSBOT_SLACK_ADMINS": ADMIN,
        **env,
    }
    return BotSettings.from_env(SettingsSource(env={k: v for k, v in values.items() if v is not None}))


def fresh_channel() -> str:
    """A channel of this test alone (the stand-in for Slack lives for a whole test module)."""
    return f"C{uuid.uuid4().hex[:8].upper()}"


# ---- sending Slack's requests ----------------------------------------------------------------------
def ack_text(body: str) -> str:
    """The text of an ack: bolt sends plain text, or JSON with `text`."""
    try:
        return json.loads(body)["text"]
    except ValueError:
        return body


def signed_post(
    url: str,
    body: str | bytes,
    content_type: str,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str, float]:
    data = body.encode() if isinstance(body, str) else body
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + data, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, **(headers or {})},
    )
    began = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode(), time.monotonic() - began
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), time.monotonic() - began


def event_body(event: dict[str, Any], event_id: str | None = None, team: str = "T1", bot_user: str = "UBOT") -> str:
    return json.dumps(
        {
            "token": "verification-token",
            "team_id": team,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10]}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": team, "user_id": bot_user, "is_bot": True}],
        }
    )


def send_event(server: SlackHttpServer, event: dict[str, Any], **kwargs: Any) -> tuple[int, str, float]:
    body = event_body(event, kwargs.pop("event_id", None), kwargs.pop("team", "T1"), kwargs.pop("bot_user", "UBOT"))
    return signed_post(server.url, body, "application/json", **kwargs)


def user_message(
    fake: FakeSlack,
    channel: str,
    text: str,
    *,
    kind: str = "app_mention",
    thread_ts: str | None = None,
    user: str = "U1",
    channel_type: str = "channel",
) -> dict[str, Any]:
    """A message a user wrote (kept in the fake's history) and its event."""
    ts = fake.new_ts()
    fake.add_message(channel, user, text, ts, thread_ts)
    event = {"type": kind, "user": user, "text": text, "ts": ts, "channel": channel, "event_ts": ts}
    if kind == "message":
        event["channel_type"] = channel_type
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def send_form(server: SlackHttpServer, fields: dict[str, str]) -> tuple[int, str, float]:
    return signed_post(server.url, urlencode(fields), "application/x-www-form-urlencoded")


def slash(
    server: SlackHttpServer, fake: FakeSlack, text: str, user: str = "U1", channel: str = "C2", response: str = ""
) -> tuple[int, str, float]:
    return send_form(
        server,
        {
            "token": "t",
            "team_id": "T1",
            "channel_id": channel,
            "user_id": user,
            "command": "/newsbot",
            "text": text,
            "response_url": fake.response_url(response or f"cmd-{uuid.uuid4().hex[:6]}"),
            "trigger_id": "1.2.3",
        },
    )


def click(
    server: SlackHttpServer,
    fake: FakeSlack,
    action_id: str,
    value: str,
    user: str = "U1",
    channel: str = "C2",
    response: str = "",
    message: dict[str, Any] | None = None,
) -> tuple[int, str, float]:
    """A click on a button (`message`: the message it is on; none for an ephemeral one, which Slack does not send)."""
    kind = "feedback_buttons" if action_id == FEEDBACK else "button"
    container = {"type": "message", "channel_id": channel, "is_ephemeral": message is None}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "1.2.3",
        "channel": {"id": channel},
        "container": {**container, "message_ts": message["ts"]} if message else container,
        "response_url": fake.response_url(response or f"click-{uuid.uuid4().hex[:6]}"),
        "actions": [{"type": kind, "action_id": action_id, "block_id": "b", "value": value, "action_ts": fake.new_ts()}],
    }
    if message is not None:
        payload["message"] = message
    return send_form(server, {"payload": json.dumps(payload)})


def feedback(server: SlackHttpServer, fake: FakeSlack, verdict: str, answer_id: str, **kwargs: Any) -> tuple[int, str, float]:
    """A click on one of Slack's feedback_buttons ("up" or "down") under the answer `answer_id`."""
    return click(server, fake, FEEDBACK, f"{verdict}:{answer_id}", **kwargs)


# ---- reading what the bot sent ----------------------------------------------------------------------
def in_thread(channel: str, thread_ts: str | None) -> Any:
    return lambda c: c.params.get("channel") == channel and c.params.get("thread_ts") == thread_ts


def quotes(blocks: list[dict[str, Any]]) -> list[str]:
    """The quotes of the passage context blocks, back to plain text (bold and escapes removed)."""
    found = []
    for block in blocks:
        if block["type"] == "context":
            text = block["elements"][0]["text"]
            if "\n“" in text:
                quote = text.split("\n“", 1)[1].rstrip("”")
                found.append(html.unescape(quote.replace("*", "").replace("\u200b", "")))
    return found


def button_value(blocks: list[dict[str, Any]], action_id: str) -> str:
    for block in blocks:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["action_id"] == action_id:
                return element["value"]
    raise AssertionError(f"no {action_id} button in {blocks}")


def answer_id_of(blocks: list[dict[str, Any]]) -> str:
    """The answer's id, from its feedback_buttons (the last block: context_actions)."""
    (buttons,) = blocks[-1]["elements"]
    assert blocks[-1]["type"] == "context_actions" and buttons["type"] == "feedback_buttons" and buttons["action_id"] == FEEDBACK
    verdict, _, answer_id = buttons["positive_button"]["value"].partition(":")
    assert verdict == "up" and buttons["negative_button"]["value"] == f"down:{answer_id}"
    return answer_id


def follow_up_buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b.get("block_id") == "newsbot_follow_ups" for e in b["elements"]]


def assert_cited_answer(call: Call, expected: str) -> None:
    params = call.params
    assert expected in params["text"]
    section = params["blocks"][0] if params["blocks"][0]["type"] == "section" else params["blocks"][1]
    assert expected in section["text"]["text"]
    cited = quotes(params["blocks"])
    assert cited and all(q in SEED_TEXT for q in cited), cited
    assert any(f"*{expected}*" in b["elements"][0]["text"] for b in params["blocks"] if b["type"] == "context")
    answer_id_of(params["blocks"])


@dataclass
class Streamed:
    """An answer streamed into a thread, as the stand-in for Slack saw it."""

    start: Call  # chat.startStream
    appends: list[Call]  # chat.appendStream, in order
    stop: Call  # chat.stopStream
    text: str  # everything streamed, joined (markdown)
    message: dict[str, Any]  # the message Slack keeps: text, blocks, metadata (after a chat.update that replaced it)

    @property
    def replaced(self) -> bool:
        """The streamed text was replaced by the checked answer (a refusal, a renumbered answer, an expired stream)."""
        return "edited" in self.message


def streamed_answer(fake: FakeSlack, channel: str, thread_ts: str, timeout: float = 60.0) -> Streamed:
    """Wait for the answer streamed into `thread_ts` and return it: the calls, the text and the final message.

    A stream stopped without metadata, or whose stop Slack refused, is one the bot then replaces by the
    checked answer (chat.update): this waits for that too, so `message` is always what stays in Slack."""
    started = fake.wait_for(
        "chat.startStream", lambda c: c.params.get("channel") == channel and c.params.get("thread_ts") == thread_ts, timeout=timeout
    )
    start = next(c for c in started if c.response.get("ok"))
    ts = start.response["ts"]
    in_stream = lambda c: c.params.get("channel") == channel and c.params.get("ts") == ts  # noqa: E731
    (stop,) = fake.wait_for("chat.stopStream", in_stream, timeout=timeout)
    if not (stop.response.get("ok") and stop.params.get("metadata")):
        fake.wait_for("chat.update", in_stream, timeout=timeout)
    appends = [c for c in fake.calls_to("chat.appendStream", in_stream) if c.status == 200]
    text = "".join(chunk["text"] for call in (start, *appends, stop) for chunk in call.params.get("chunks", []))
    message = next(m for m in fake.messages[channel] if m["ts"] == ts)
    return Streamed(start, appends, stop, text, message)
