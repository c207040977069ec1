"""Talking back to one workspace: its Web API client (its own token), who the bot is there, and the
calls every face of the bot makes (reactions, posts, ephemeral replies). Only the worker pool calls
these: each is a Web API call, and a 429 sleeps for Retry-After inside it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger("newsbot.slack")

PROGRESS_REACTION = "eyes"
PERSON_SUBTYPES = (None, "thread_broadcast", "file_share")  # a person's message; not an edit, a join, a bot


@dataclass(frozen=True)
class Workspace:
    """The workspace a request came from: bolt's per-request client carries that workspace's token."""

    client: WebClient
    bot_user_id: str
    bot_id: str
    team_id: str

    @classmethod
    def of(cls, context: BoltContext) -> Workspace:
        return cls(context.client, context.bot_user_id or "", context.bot_id or "", context.team_id or "")

    def from_a_person(self, event: dict[str, Any]) -> bool:
        """A person wrote it: not this bot, not another bot, not an edit or a join."""
        return (
            bool(event.get("user"))
            and not event.get("bot_id")
            and event.get("subtype") in PERSON_SUBTYPES
            and event.get("user") != self.bot_user_id
        )

    def is_ours(self, message: dict[str, Any]) -> bool:
        return message.get("user") == self.bot_user_id or message.get("bot_id") == self.bot_id

    def react(self, method: str, channel: str, ts: str) -> bool:
        """reactions.add / reactions.remove of :eyes:; a failure is a warning, never a lost answer."""
        try:
            getattr(self.client, method)(channel=channel, timestamp=ts, name=PROGRESS_REACTION)
            return True
        except SlackApiError as exc:
            log.warning("%s failed in %s: %s", method.replace("_", "."), channel, exc.response.get("error"))
            return False

    def post(self, channel: str, thread_ts: str | None, text: str) -> None:
        try:
            self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
        except SlackApiError:
            log.exception("cannot post to %s", channel)

    def ephemeral(self, channel: str, user: str, text: str, respond: Any, blocks: list[dict] | None = None) -> None:
        """chat.postEphemeral; where the bot is not in the conversation, the command's response_url."""
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
            return
        except SlackApiError as exc:
            log.info("chat.postEphemeral in %s failed (%s); replying through response_url", channel, exc.response.get("error"))
        reply(respond, text, blocks)


def reply(respond: Any, text: str, blocks: list[dict] | None = None) -> None:
    """An ephemeral reply through the request's response_url (works where the bot is not a member)."""
    try:
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
    except Exception:
        log.exception("cannot reply through response_url")
