"""The slack-bolt app: where the bot answers, and how it stays polite to Slack.

- @mentions answer in the mention's thread; DMs answer in the DM; a message in a thread where the
  bot already answered is a follow-up, asked with the thread's earlier turns as history.
  `/newsbot` and the buttons are in `bot.slack.commands`, the AI-app side panel in
  `bot.slack.assistant`.
- Ack first, always: a listener only acknowledges and queues work on newsbot's own bounded pool
  (`bot.slack.workers`). No Web API call, sleep or 429 back-off runs before the ack, so Slack hears
  back within 3 seconds however busy answering is; a full queue answers "busy, try again".
- :eyes: marks a message being answered, and goes when the answer (or apology) is posted.
- Never twice, across processes: Slack's retries of an event and the second event of one message
  (app_mention and message) lose an atomic insert in the shared state database (`bot.slack.store`).
- Never a loop: messages from this bot or any other bot are ignored.
- Every reply goes through the workspace the event came from (its own token: `bot.slack.replies`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.error import BoltError
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.errors import SlackApiError

from bot.answer import Answer, Turn
from bot.chain import NewsBot
from bot.retrieval.filters import Filters
from bot.slack.assistant import side_panel
from bot.slack.blocks import answer_blocks, closing_blocks, fallback_text
from bot.slack.client import SlackConnection
from bot.slack.commands import register_commands
from bot.slack.face import Suggest
from bot.slack.followups import follow_ups
from bot.slack.replies import Workspace
from bot.slack.search_words import SearchWordError, split_search_words
from bot.slack.store import SlackState, state_url
from bot.slack.streaming import AnswerStream
from bot.slack.texts import BUSY, HELP, apology
from bot.slack.threads import answer_metadata, clean_question, mentions, thread_turns
from bot.slack.workers import Job, Workers
from indexing import ConfigError, secret

log = logging.getLogger("newsbot.slack")

# Bolt resets the level of the logger named after the app on every request (get_bolt_app_logger):
# named "newsbot", that silenced every INFO line of ours. Under bolt's own namespace it is harmless.
BOLT_APP_NAME = "slack_bolt.newsbot"
_MAX_THREAD_PAGES = 5


class _QuietTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that the client's (the same token) wins: noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


logging.getLogger("slack_bolt.App").addFilter(_QuietTokenWarning())


class SlackFace:
    """The bot's Slack face: a bolt `App` whose listeners queue `NewsBot.ask` and post Block Kit."""

    def __init__(self, bot: NewsBot, connection: SlackConnection):
        self.bot = bot
        self.connection = connection
        settings = connection.settings
        self.state = SlackState(state_url(secret(settings.slack_state_url), bot.settings.index.data_dir))
        self.workers = Workers(settings.slack_threads, settings.slack_queue)
        try:
            self.app = App(
                client=connection.client,
                signing_secret=secret(settings.slack_signing_secret) or "",
                name=BOLT_APP_NAME,
                # Listeners only ack and queue: run them in the request's thread, not bolt's pool of 5.
                process_before_response=True,
                **self._workspaces(),
            )
        except BoltError as exc:
            self.close()
            raise ConfigError(f"cannot start the Slack app: {exc}") from None
        self.app.use(self._drop_retries)
        self.app.use(side_panel(self))
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        register_commands(self.app, self)

    def _workspaces(self) -> dict[str, Any]:
        """Many workspaces (OAuth, installations in the state database) or the one token."""
        if not self.connection.multi_workspace:
            return {}
        from bot.slack.oauth import oauth_options

        return oauth_options(self.connection.settings, self.state.engine)

    def close(self) -> None:
        """Finish the work queued, then release the database."""
        self.workers.close()
        self.state.close()

    def submit(self, job: Job, shed: Job | None = None) -> bool:
        return self.workers.submit(job, shed)

    def warm_up(self) -> None:
        """Load the models and the keyword index now, so the first question is answered fast."""
        try:
            self.bot.ask("Who said what about it?")
        except Exception:  # answering will apologise and log; serving still starts
            log.warning("warm-up question failed; answers may fail until the index is reachable", exc_info=True)

    # ---- middleware -----------------------------------------------------------------------------
    def _drop_retries(self, body: dict[str, Any], request: Any, next: Callable[[], Any]) -> Any:
        event_id = body.get("event_id")
        if body.get("type") == "event_callback" and event_id and not self.state.first(f"event:{event_id}"):
            retry = (request.headers.get("x-slack-retry-num") or [""])[0]  # none in Socket Mode
            log.info("dropped a repeat of event %s (X-Slack-Retry-Num %s)", event_id, retry or "-")
            return BoltResponse(status=200, body="")
        return next()

    # ---- events: ack (bolt does it for events) and queue ------------------------------------------
    def _on_mention(self, event: dict[str, Any], context: BoltContext) -> None:
        where = Workspace.of(context)
        if where.from_a_person(event):
            thread = event.get("thread_ts")
            self._queue_answer(where, event, thread or event["ts"], thread)

    def _on_message(self, event: dict[str, Any], context: BoltContext) -> None:
        where = Workspace.of(context)
        if not where.from_a_person(event):
            return
        thread = event.get("thread_ts")
        if event.get("channel_type") == "im":
            self._queue_answer(where, event, thread, thread)
        elif mentions(event.get("text", ""), where.bot_user_id):
            return  # app_mention answers it
        elif thread and thread != event["ts"]:  # a reply in a thread; other channel chatter is not for the bot

            def follow_up() -> None:
                self._follow_up(where, event, thread)

            self.submit(follow_up)

    def _queue_answer(self, where: Workspace, event: dict[str, Any], reply_ts: str | None, history: str | None) -> None:
        def answer() -> None:
            if self.accept(where, event):
                self.answer(where, event, reply_ts, history)

        self.submit(answer, shed=lambda: where.post(event["channel"], reply_ts, BUSY))

    def _follow_up(self, where: Workspace, event: dict[str, Any], thread: str) -> None:
        participated, turns = self.thread(where, event["channel"], thread, event["ts"])
        if participated and self.accept(where, event):
            self.answer(where, event, thread, turns=turns)

    def accept(self, where: Workspace, event: dict[str, Any], react: bool = True) -> bool:
        """Claim the message (answered once, whichever event or process brings it) and mark it :eyes:."""
        if not self.state.first(f"message:{where.team_id}:{event['channel']}:{event['ts']}"):
            return False
        if react:
            where.react("reactions_add", event["channel"], event["ts"])
        return True

    # ---- answering (in the worker pool) -----------------------------------------------------------
    def thread(self, where: Workspace, channel: str, thread_ts: str, before_ts: str) -> tuple[bool, list[Turn]]:
        """Did the bot answer in this thread, and the earlier turns (conversations.replies)."""
        messages: list[dict[str, Any]] = []
        cursor = None
        try:
            for _ in range(_MAX_THREAD_PAGES):
                page = where.client.conversations_replies(
                    channel=channel, ts=thread_ts, limit=200, cursor=cursor, include_all_metadata=True
                )
                messages.extend(page.get("messages", []))
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError as exc:
            log.warning("cannot read thread %s in %s (conversations.replies: %s)", thread_ts, channel, exc.response.get("error"))
            return False, []
        return thread_turns(messages, before_ts, where.is_ours, where.bot_user_id)

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
        """Answer an accepted message; :eyes: (when `reaction`) goes when the reply is posted. A generative
        answer streams into `reply_ts`'s thread as it is written (Slack streams only as a reply in a thread)."""
        channel, ts = event["channel"], event["ts"]
        began = time.perf_counter()
        try:
            try:
                question, filters = split_search_words(clean_question(event.get("text", ""), where.bot_user_id))
            except SearchWordError as exc:
                where.post(channel, reply_ts, str(exc))
                return
            if not question:
                where.post(channel, reply_ts, HELP)
                return
            if turns is None and history_thread:
                turns = self.thread(where, channel, history_thread, ts)[1]
            stream = self._stream(where, channel, reply_ts, event.get("user", ""))
            on_text = stream.write if stream else None
            answer = self.bot.ask(question, turns or (), filters=self.filters_for(where, channel, filters), on_text=on_text)
            self.deliver(where, channel, reply_ts, answer, stream, suggest=suggest, footer=footer)
        except Exception as exc:
            log.exception("answering message %s in %s failed", ts, channel)
            where.post(channel, reply_ts, apology(exc))
            return
        finally:
            if reaction:
                where.react("reactions_remove", channel, ts)
        log.info(
            "answered message %s in %s (%s, %d turn(s) of history) in %.2fs",
            ts,
            channel,
            "answered" if answer.answered else "refused",
            len(turns or ()),
            time.perf_counter() - began,
        )

    def filters_for(self, where: Workspace, channel: str, filters: Filters | None) -> Filters | None:
        """The question's own filters, within the channel's sources when it has any (`/newsbot sources`)."""
        bound = self.state.sources(where.team_id, channel)
        return replace(filters or Filters(), within=bound) if bound else filters

    def _stream(self, where: Workspace, channel: str, thread_ts: str | None, user: str) -> AnswerStream | None:
        if not thread_ts:  # a top-level DM question: its answer is one message in the DM
            return None
        return AnswerStream(where.client, channel, thread_ts, where.team_id, user, self.bot.settings.slack_stream_buffer)

    def deliver(
        self,
        where: Workspace,
        channel: str,
        thread_ts: str | None,
        answer: Answer,
        stream: AnswerStream | None = None,
        *,
        suggest: Suggest | None = None,
        footer: str = "",
        show_question: bool = False,
    ) -> None:
        """The answer in Slack: the end of its stream, or one message; follow-ups as buttons, or to `suggest`."""
        answer_id = self.state.add_answer(answer, channel, thread_ts)
        suggested = follow_ups(answer)
        buttons = () if suggest else suggested
        metadata = answer_metadata(answer.question, answer.text, answer.answered, answer_id)
        whole = answer_blocks(answer, answer_id, show_question=show_question, footer=footer, follow_ups=buttons)
        streamed = False
        if stream is not None and stream.written:
            room = [{"type": "section", "text": {"type": "mrkdwn", "text": stream.text}}]  # the streamed text counts too
            closing = closing_blocks(answer, answer_id, footer=footer, follow_ups=buttons, room=room)
            streamed = stream.finish(answer, closing, whole, fallback_text(answer), metadata)
        if not streamed:
            where.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=fallback_text(answer),
                blocks=whole,
                metadata=metadata,
                unfurl_links=False,
                unfurl_media=False,
            )
        if suggest is not None and suggested:
            suggest([{"title": f.title, "message": f.message} for f in suggested])

    def post_answer(
        self, where: Workspace, channel: str, thread_ts: str | None, answer: Answer, footer: str = "", show_question: bool = False
    ) -> None:
        self.deliver(where, channel, thread_ts, answer, footer=footer, show_question=show_question)
