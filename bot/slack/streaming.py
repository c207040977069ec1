"""A generative answer streamed into Slack as the model writes it: chat.startStream, appendStream, stopStream.

- slack_sdk's `WebClient.chat_stream` (the helper bolt's `say_stream` builds) sends it. The first words
  go out at once (chat.startStream), the rest once a second, or sooner when `NEWSBOT_SLACK_STREAM_BUFFER`
  characters wait: Slack rate-limits appends, and a short answer must not wait for a full buffer. Nothing
  reaches Slack before the first text: an answerer that writes nothing as it goes (the reader, the
  heuristic) leaves the stream unstarted, and its answer is posted as one message.
- Citation marks are renumbered as they come, in order of first use, as the checked answer numbers them
  (bot.answering.generative.parse_reply).
- `finish()` stops the stream with the citations, follow-ups and feedback buttons as the message's last
  blocks, and the metadata that thread history reads. The message ends as the checked Answer, always:
  when the answer differs from what was streamed (a refusal because the passages do not back the
  reply, a number dropped, a wire copy folded), the stopped message is replaced by it (chat.update).
- A stream Slack refuses (`not_in_channel`, an expired stream's `message_not_in_streaming_state`) stops
  streaming; `finish()` then replaces the message, or posts the answer, whichever is left to do.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.answer import Answer
from bot.slack.blocks import Block, escape

log = logging.getLogger("newsbot.slack")

_MARK = re.compile(r"\[(\d{1,3})\]")
_OPEN_MARK = re.compile(r"\[\d{0,3}$")  # a mark still being written at the end of a piece
SEND_EVERY_SECONDS = 1.0  # at most about one chat.appendStream a second per answer, unless the buffer fills


class CitationNumbers:
    """Turns a model's "[3] … [1] … [3]" into "[1] … [2] … [1]" as the text arrives, piece by piece."""

    def __init__(self) -> None:
        self.order: dict[str, int] = {}
        self._held = ""

    def feed(self, piece: str) -> str:
        text = self._held + piece
        opened = _OPEN_MARK.search(text)
        self._held = text[opened.start() :] if opened else ""
        return self._renumber(text[: opened.start()] if opened else text)

    def flush(self) -> str:
        text, self._held = self._held, ""
        return self._renumber(text)

    def _renumber(self, text: str) -> str:
        def mark(m: re.Match) -> str:
            number = self.order.setdefault(m.group(1), len(self.order) + 1)
            return f"[{number}]"

        return _MARK.sub(mark, text)


def _same_text(a: str, b: str) -> bool:
    """Equal but for spacing (parse_reply tidies the space before punctuation)."""
    return re.sub(r"\s+", "", a) == re.sub(r"\s+", "", b)


class AnswerStream:
    """One answer streamed into a thread; `write` is `NewsBot.ask`'s `on_text`, `finish` ends the message."""

    def __init__(self, client: WebClient, channel: str, thread_ts: str, team_id: str, user_id: str, buffer_size: int = 256):
        self.client = client
        self.channel = channel
        # recipient_*: Slack needs them to stream outside a DM (missing_recipient_user_id otherwise).
        # buffer_size=1: the helper sends what it is given; when to send is decided here (`_append`).
        self._stream = client.chat_stream(
            channel=channel,
            thread_ts=thread_ts,
            recipient_team_id=team_id or None,
            recipient_user_id=user_id or None,
            buffer_size=1,
        )
        self.buffer_size = buffer_size
        self._numbers = CitationNumbers()
        self._pending = ""  # written, not yet sent
        self._sent_at: float | None = None
        self.text = ""  # everything written, renumbered (unescaped)
        self.refused = ""  # Slack's error once it refused the stream

    @property
    def ts(self) -> str | None:
        """The streamed message's ts, once chat.startStream answered."""
        return self._stream.ts

    @property
    def written(self) -> bool:
        """Did the answerer write any text (so the answer belongs in this stream)?"""
        return bool(self.text)

    def write(self, piece: str) -> None:
        self._append(self._numbers.feed(piece))

    def _append(self, text: str) -> None:
        if not text:
            return
        self.text += text
        self._pending += text
        now = time.monotonic()
        due = self._sent_at is None or len(self._pending) >= self.buffer_size or now - self._sent_at >= SEND_EVERY_SECONDS
        if self.refused or not due:
            return
        piece, self._pending, self._sent_at = self._pending, "", now
        try:
            self._stream.append(markdown_text=escape(piece))
        except (SlackApiError, SlackRequestError) as exc:
            self._refuse("chat.appendStream" if self.ts else "chat.startStream", exc)

    def _refuse(self, method: str, exc: Exception) -> None:
        self.refused = _error(exc)
        log.warning("%s failed in %s: %s; the answer will be posted whole", method, self.channel, self.refused)

    def finish(self, answer: Answer, blocks: list[Block], whole: list[Block], fallback: str, metadata: dict[str, Any]) -> bool:
        """End the message as `answer`: `blocks` under the streamed text, or `whole` in its place when the
        answer is not what was streamed. False when nothing reached Slack (the caller posts the answer)."""
        rest = self._numbers.flush()
        self.text += rest
        rest, self._pending = self._pending + rest, ""
        if not self.text:
            return False
        same = answer.answered and _same_text(self.text, answer.text)
        if not self.refused:
            try:
                markdown = escape(rest) if rest else None
                if same:
                    self._stream.stop(markdown_text=markdown, blocks=blocks, metadata=metadata)
                    return True
                self._stream.stop(markdown_text=markdown)
            except (SlackApiError, SlackRequestError) as exc:
                self._refuse("chat.stopStream", exc)
        if not self.ts:
            return False
        self.client.chat_update(channel=self.channel, ts=self.ts, text=fallback, blocks=whole, metadata=metadata)
        return True


def _error(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("error")) if response is not None else str(exc)
