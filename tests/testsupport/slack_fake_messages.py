"""The stand-in's messages: chat.postMessage / postEphemeral / update and the streaming methods
(chat.startStream / appendStream / stopStream), with the shapes and errors Slack answers.

What it holds to, from Slack's method reference (docs.slack.dev/reference/methods):
- every method: `invalid_arguments` when a required argument is missing; `not_in_channel` in a
  channel the bot was not invited to (`FakeSlack.outside`); `channel_not_found` for an archived one
  is not modelled.
- chat.startStream: `thread_ts` required (a stream is always a reply); outside a DM (channel ids that
  do not start with "D") `missing_recipient_user_id` / `missing_recipient_team_id`; `chunks` hold
  `markdown_text` chunks; text over 12,000 characters is `msg_too_long`.
- chat.appendStream / stopStream: `message_not_found`; `message_not_owned_by_app` for a message
  another app or a person wrote; `message_not_in_streaming_state` once stopped (or expired:
  `FakeSlack.expire_streams()`). stopStream's blocks go under the streamed text; its answer carries
  the final message.
- chat.update: `message_not_found`; `cant_update_message` for a message the bot did not post.
- Block Kit: see `blocks_error`.
"""

from __future__ import annotations

from typing import Any

SECTION_TEXT_LIMIT = 3000
MARKDOWN_LIMIT = 12_000
MAX_BLOCKS = 50
BLOCKS_TEXT_REFUSED = 12_000  # all the text of a message's blocks; Slack refuses more
FEEDBACK_BUTTON_TEXT = 75
CONTEXT_ACTIONS_ELEMENTS = ("feedback_buttons", "icon_button")


def blocks_error(blocks: list[dict[str, Any]]) -> str | None:
    """What Slack says about these blocks: None when it takes them."""
    if len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    total = 0
    for block in blocks:
        if block.get("type") == "context_actions" and _context_actions_error(block):
            return "invalid_blocks"
        texts = [block["text"]] if "text" in block else []
        texts += [e for e in block.get("elements", []) if isinstance(e.get("text"), str)]
        for text in texts:
            value = text["text"] if isinstance(text, dict) else text.get("text", "")
            if not value or len(value) > SECTION_TEXT_LIMIT:
                return "invalid_blocks"
            total += len(value)
    return "msg_blocks_too_long" if total > BLOCKS_TEXT_REFUSED else None


def _context_actions_error(block: dict[str, Any]) -> bool:
    elements = block.get("elements") or []
    if not 1 <= len(elements) <= 5 or any(e.get("type") not in CONTEXT_ACTIONS_ELEMENTS for e in elements):
        return True
    for element in elements:
        if element["type"] == "feedback_buttons":
            for side in ("positive_button", "negative_button"):
                button = element.get(side) or {}
                text = (button.get("text") or {}).get("text", "")
                if not text or len(text) > FEEDBACK_BUTTON_TEXT or not button.get("value"):
                    return True
    return False


def _chunk_text(params: dict[str, Any]) -> tuple[str, str | None]:
    """(the markdown a call adds, an error)."""
    text = params.get("markdown_text") or ""
    for chunk in params.get("chunks") or []:
        if chunk.get("type") != "markdown_text" or not isinstance(chunk.get("text"), str):
            return "", "invalid_chunks"
        text += chunk["text"]
    return text, "msg_too_long" if len(text) > MARKDOWN_LIMIT else None


class Messages:
    """The conversations' messages (channel -> list), as FakeSlack keeps them; called under its lock."""

    def __init__(self, fake: Any):
        self.fake = fake

    def answer(self, method: str, params: dict[str, Any], where: Any) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            return {"ok": False, "error": "invalid_arguments"}
        if channel in self.fake.outside and method != "chat.postEphemeral":
            return {"ok": False, "error": "not_in_channel"}
        if params.get("blocks"):
            error = blocks_error(params["blocks"])
            if error:
                return {"ok": False, "error": error}
        handler = getattr(self, "_" + method.split(".", 1)[1])
        return handler(channel, params, where)

    def _postMessage(self, channel: str, params: dict[str, Any], where: Any) -> dict[str, Any]:  # noqa: N802
        if not (params.get("text") or params.get("blocks")):
            return {"ok": False, "error": "no_text"}
        message = self._new(channel, where, params.get("thread_ts"))
        message.update({k: params[k] for k in ("text", "blocks", "metadata") if params.get(k)})
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _postEphemeral(self, channel: str, params: dict[str, Any], where: Any) -> dict[str, Any]:  # noqa: N802
        if not params.get("user"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "message_ts": self.fake.new_ts()}

    def _update(self, channel: str, params: dict[str, Any], where: Any) -> dict[str, Any]:
        message = self._find(channel, params.get("ts"))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if message.get("bot_id") != where.bot_id:
            return {"ok": False, "error": "cant_update_message"}
        message.update({k: params[k] for k in ("text", "blocks", "metadata") if k in params})
        message["edited"] = {"user": where.bot_user_id, "ts": self.fake.new_ts()}
        return {"ok": True, "channel": channel, "ts": message["ts"], "text": message.get("text", ""), "message": message}

    def _startStream(self, channel: str, params: dict[str, Any], where: Any) -> dict[str, Any]:  # noqa: N802
        if not params.get("thread_ts"):
            return {"ok": False, "error": "invalid_arguments"}
        if not channel.startswith("D"):
            for field in ("recipient_user_id", "recipient_team_id"):
                if not params.get(field):
                    return {"ok": False, "error": f"missing_{field}"}
        text, error = _chunk_text(params)
        if error:
            return {"ok": False, "error": error}
        message = self._new(channel, where, params["thread_ts"])
        message.update(text=text, streaming=True)
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _streaming(self, channel: str, params: dict[str, Any], where: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(the stream's message, or Slack's error for it)."""
        if not params.get("ts"):
            return None, {"ok": False, "error": "invalid_arguments"}
        message = self._find(channel, params["ts"])
        if message is None:
            return None, {"ok": False, "error": "message_not_found"}
        if message.get("bot_id") != where.bot_id:
            return None, {"ok": False, "error": "message_not_owned_by_app"}
        if not message.get("streaming"):
            return None, {"ok": False, "error": "message_not_in_streaming_state"}
        return message, None

    def _appendStream(self, channel: str, params: dict[str, Any], where: Any) -> dict[str, Any]:  # noqa: N802
        message, refused = self._streaming(channel, params, where)
        if refused or message is None:
            return refused or {}
        text, error = _chunk_text(params)
        if error or not text:
            return {"ok": False, "error": error or "invalid_arguments"}
        message["text"] += text
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _stopStream(self, channel: str, params: dict[str, Any], where: Any) -> dict[str, Any]:  # noqa: N802
        message, refused = self._streaming(channel, params, where)
        if refused or message is None:
            return refused or {}
        text, error = _chunk_text(params)
        if error:
            return {"ok": False, "error": error}
        message["text"] += text
        message["streaming"] = False
        message.update({k: params[k] for k in ("blocks", "metadata") if params.get(k)})
        shown = {k: v for k, v in message.items() if k != "streaming"}
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": {**shown, "subtype": "bot_message"}}

    def expire(self) -> None:
        """Every open stream ends, as Slack ends one a few minutes after it started."""
        for messages in self.fake.messages.values():
            for message in messages:
                message["streaming"] = False

    def _new(self, channel: str, where: Any, thread_ts: str | None) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "message", "user": where.bot_user_id, "bot_id": where.bot_id, "ts": self.fake.new_ts()}
        if thread_ts:
            message["thread_ts"] = thread_ts
        self.fake.messages.setdefault(channel, []).append(message)
        return message

    def _find(self, channel: str, ts: str | None) -> dict[str, Any] | None:
        return next((m for m in self.fake.messages.get(channel, []) if m["ts"] == ts), None)
