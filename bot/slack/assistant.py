"""Slack's AI-app side panel (bolt's `Assistant` middleware): the assistant thread.

- A thread starts: a greeting and suggested prompts.
- A question in the thread: its title (the first question), the status "searching the
  articles…" while answering, then the same answer with citations as everywhere else (streamed
  when a generative model writes it); follow-ups carry the thread's earlier turns. Slack clears the
  status when the answer is posted. The follow-ups the answer suggests (bot.slack.followups) become
  the thread's suggested prompts instead of buttons.
- As everywhere, the listeners only queue: every Web API call runs in the worker pool. That is
  also why `thread_context_changed` is ours: bolt's default saves the context with Web API calls
  before the ack, and newsbot does not use the channel the user is looking at.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Assistant, BoltContext
from slack_sdk.errors import SlackApiError

from bot.slack.face import Face
from bot.slack.replies import Workspace
from bot.slack.texts import BUSY, FOLLOW_UPS_TITLE, GREETING, SEARCHING, SUGGESTED_PROMPTS, SUGGESTED_PROMPTS_TITLE, TITLE_LIMIT
from bot.slack.threads import clean_question

log = logging.getLogger("newsbot.slack")


def _try(what: str, call: Callable[[], Any]) -> None:
    """A side-panel nicety (status, title, prompts) that fails is logged; the answer still comes."""
    try:
        call()
    except SlackApiError as exc:
        log.warning("%s failed: %s", what, exc.response.get("error"))


def side_panel(face: Face) -> Assistant:
    assistant = Assistant(app_name="newsbot.assistant")

    @assistant.thread_started
    def thread_started(event: dict[str, Any], context: BoltContext, set_suggested_prompts: Any) -> None:
        where = Workspace.of(context)
        thread = event["assistant_thread"]

        def greet() -> None:
            where.post(thread["channel_id"], thread["thread_ts"], GREETING)
            _try(
                "assistant.threads.setSuggestedPrompts",
                lambda: set_suggested_prompts(prompts=list(SUGGESTED_PROMPTS), title=SUGGESTED_PROMPTS_TITLE),
            )

        face.submit(greet)

    @assistant.thread_context_changed
    def thread_context_changed() -> None:
        pass  # see the module's docstring

    @assistant.user_message
    def user_message(payload: dict[str, Any], context: BoltContext, set_status: Any, set_title: Any, set_suggested_prompts: Any) -> None:
        where = Workspace.of(context)
        if not where.from_a_person(payload):
            return
        channel, thread = payload["channel"], payload["thread_ts"]

        def answer_in_panel() -> None:
            if not face.accept(where, payload, react=False):
                return
            _participated, turns = face.thread(where, channel, thread, payload["ts"])
            if not turns:  # the thread's first question names it
                title = clean_question(payload.get("text", ""), where.bot_user_id)[:TITLE_LIMIT]
                _try("assistant.threads.setTitle", lambda: set_title(title or "News question"))
            _try("assistant.threads.setStatus", lambda: set_status(SEARCHING))

            def suggest(prompts: list[dict[str, str]]) -> None:
                _try("assistant.threads.setSuggestedPrompts", lambda: set_suggested_prompts(prompts=prompts, title=FOLLOW_UPS_TITLE))

            face.answer(where, payload, thread, turns=turns, reaction=False, suggest=suggest)

        face.submit(answer_in_panel, shed=lambda: where.post(channel, thread, BUSY))

    return assistant
