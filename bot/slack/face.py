"""What Slack's listeners (`commands`, `assistant`) need from the running face, as a Protocol.

`bot.slack.app.SlackFace` is the one implementation; the listeners depend on this narrow contract
instead of importing `app`, which imports them (no import circle, type-checking imports included).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from bot.answer import Answer, Turn
from bot.chain import NewsBot
from bot.retrieval.filters import Filters
from bot.slack.replies import Workspace
from bot.slack.store import SlackState
from bot.slack.workers import Job

Suggest = Callable[[list[dict[str, str]]], None]  # takes follow-up prompts ({"title", "message"}) where a face shows them


class Face(Protocol):
    bot: NewsBot
    state: SlackState

    def submit(self, job: Job, shed: Job | None = None) -> bool:
        """Queue `job` on the worker pool; when it is full, queue `shed` (the polite refusal) instead."""
        ...

    def accept(self, where: Workspace, event: dict[str, Any], react: bool = True) -> bool:
        """Claim a message (answered once, whichever event or process brings it)."""
        ...

    def thread(self, where: Workspace, channel: str, thread_ts: str, before_ts: str) -> tuple[bool, list[Turn]]:
        """Did the bot answer in this thread, and its earlier turns."""
        ...

    def answer(
        self,
        where: Workspace,
        event: dict[str, Any],
        reply_ts: str | None,
        history_thread: str | None = None,
        turns: Sequence[Turn] | None = None,
        reaction: bool = True,
        suggest: Suggest | None = None,
        footer: str = "",
    ) -> None:
        """Answer an accepted message in `reply_ts`'s thread (streamed when the answer is written as it goes)."""
        ...

    def filters_for(self, where: Workspace, channel: str, filters: Filters | None) -> Filters | None:
        """A question's filters, within the channel's own sources when it is bound to some."""
        ...

    def post_answer(
        self, where: Workspace, channel: str, thread_ts: str | None, answer: Answer, footer: str = "", show_question: bool = False
    ) -> None:
        """Post a finished answer as one message."""
        ...
