"""Slack messages as questions, and a thread's earlier messages as conversation history.

The bot's answers carry message metadata (`newsbot_answer`: the question and the answer text),
so a thread read back with conversations.replies gives exact earlier turns, whatever Slack did to
the rendered text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from typing import Any

from bot.answer import Turn

METADATA_TYPE = "newsbot_answer"

_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<[@#!][^>]*>")


def clean_question(text: str, bot_user_id: str) -> str:
    """The question a user typed: the bot's mention dropped, links and escapes back to plain text."""
    text = text.replace(f"<@{bot_user_id}>", " ")
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SPECIAL.sub(" ", text)
    return " ".join(html.unescape(text).split())


def mentions(text: str, user_id: str) -> bool:
    return f"<@{user_id}>" in (text or "")


def ts_key(ts: str) -> tuple[int, int]:
    """Slack timestamps ("1700000000.000100") ordered exactly, without float rounding."""
    seconds, _, micros = ts.partition(".")
    return int(seconds or 0), int(micros or 0)


def answer_metadata(question: str, answer_text: str, answered: bool, answer_id: str) -> dict[str, Any]:
    """The metadata posted with an answer, read back by `thread_turns`."""
    return {
        "event_type": METADATA_TYPE,
        "event_payload": {"id": answer_id, "question": question, "answer": answer_text, "answered": answered},
    }


def thread_turns(
    messages: Iterable[dict[str, Any]],
    before_ts: str,
    is_ours: Callable[[dict[str, Any]], bool],
    bot_user_id: str,
) -> tuple[bool, list[Turn]]:
    """(did the bot answer in this thread before `before_ts`, the earlier question/answer turns).

    A turn is one of the bot's answers with the question it answered; a refusal keeps the question
    with an empty answer, as `newsbot chat` does. Other bots' messages are skipped.
    """
    participated = False
    turns: list[Turn] = []
    pending = ""
    limit = ts_key(before_ts)
    for message in sorted(messages, key=lambda m: ts_key(m.get("ts", "0"))):
        if ts_key(message.get("ts", "0")) >= limit:
            break
        if is_ours(message):
            participated = True
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") if metadata.get("event_type") == METADATA_TYPE else None
            if payload:
                answer = payload.get("answer", "") if payload.get("answered") else ""
                turns.append(Turn(payload.get("question") or pending, answer))
                pending = ""
        elif not message.get("bot_id") and message.get("subtype") in (None, "thread_broadcast"):
            question = clean_question(message.get("text", ""), bot_user_id)
            if question:
                pending = question
    return participated, turns
