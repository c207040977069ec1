"""The slack-bolt app: where the bot answers, and how it stays polite to Slack.

- @mentions answer in the mention's thread; DMs answer in the DM; `/newsbot <question>` answers
  ephemerally with a "Post to channel" button; a message in a thread where the bot already
  answered is a follow-up, asked with the thread's earlier turns as history.
- Listeners acknowledge at once (bolt acks events itself; commands and buttons call `ack()`
  first) and hand the slow part to the bot's own worker pool, so bolt's threads are always free
  to acknowledge and Slack hears back within 3 seconds however busy the answering is.
- :eyes: marks a message being answered, and goes when the answer (or apology) is posted.
- Never twice: Slack's retries of a handled event_id are dropped, and each message is answered
  once even when it arrives both as app_mention and as message.
- Never a loop: messages from this bot or any other bot are ignored.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.error import BoltError
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.errors import SlackApiError

from bot.answer import Answer, Turn
from bot.chain import NewsBot
from bot.slack.blocks import FEEDBACK_DOWN, FEEDBACK_UP, POST_TO_CHANNEL, answer_blocks, escape, fallback_text
from bot.slack.client import SlackConnection
from bot.slack.store import AnswerStore, FeedbackLog, RecentKeys
from bot.slack.threads import answer_metadata, clean_question, mentions, thread_turns
from indexing.errors import ConfigError, NewsbotError
from indexing.settings import secret

log = logging.getLogger("newsbot.slack")

PROGRESS_REACTION = "eyes"
ANSWER_WORKERS = 4  # questions answered at once; more wait their turn (bolt's own threads stay free to ack)
_PERSON_SUBTYPES = (None, "thread_broadcast", "file_share")
_MAX_THREAD_PAGES = 5

HELP = (
    "*Ask me about the news* and I answer from the indexed articles, citing the passages.\n"
    "• Mention me in a channel: `@newsbot who led the US delegation?` (I reply in the thread; "
    "ask follow-ups there)\n"
    "• Send me a direct message\n"
    "• `/newsbot <question>`: only you see the answer, with a button to post it to the channel\n"
    "• `/newsbot reindex` (admins): index new and changed articles now"
)


def apology(exc: BaseException) -> str:
    if isinstance(exc, NewsbotError):
        return f":warning: Sorry, I could not answer that: {exc}"
    return ":warning: Sorry, something went wrong while answering. The error is logged; please try again later."


class _QuietTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that the client's (the same token) wins: noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_bolt_log = logging.getLogger("newsbot.slack.bolt")
_bolt_log.addFilter(_QuietTokenWarning())


class SlackFace:
    """The bot's Slack face: a bolt `App` whose listeners call `NewsBot.ask` and post Block Kit."""

    def __init__(self, bot: NewsBot, connection: SlackConnection):
        self.bot = bot
        self.connection = connection
        self.client = connection.client
        self.identity = connection.identity
        data_dir = bot.settings.index.data_dir
        self.answers = AnswerStore(data_dir / "slack.sqlite3")
        self.feedback = FeedbackLog(data_dir / "feedback.jsonl")
        self.events = RecentKeys()  # event_ids handled: Slack's retries of them are dropped
        self.claimed = RecentKeys()  # "channel:ts" of messages being or already answered
        self.workers = ThreadPoolExecutor(max_workers=ANSWER_WORKERS, thread_name_prefix="newsbot-answer")
        try:
            self.app = App(
                client=self.client,
                signing_secret=secret(connection.settings.slack_signing_secret) or "",
                name="newsbot",
                logger=_bolt_log,
            )
        except BoltError as exc:
            raise ConfigError(f"cannot start the Slack app: {exc}") from None
        self.app.use(self._drop_retries)
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.command("/newsbot")(self._on_command)
        self.app.action(POST_TO_CHANNEL)(self._on_post)
        self.app.action(re.compile(f"^({FEEDBACK_UP}|{FEEDBACK_DOWN})$"))(self._on_feedback)

    def close(self) -> None:
        """Finish the answers in progress, then release the store."""
        self.workers.shutdown(wait=True)
        self.answers.close()

    def _submit(self, work: Callable[..., None], *args: Any) -> None:
        self.workers.submit(self._guarded, work, *args)

    @staticmethod
    def _guarded(work: Callable[..., None], *args: Any) -> None:
        try:
            work(*args)
        except Exception:  # never a silent drop: a pool would swallow it
            log.exception("%s failed", getattr(work, "__name__", "slack work"))

    def warm_up(self) -> None:
        """Load the models and the keyword index now, so the first question is answered fast."""
        try:
            self.bot.ask("Who said what about it?")
        except Exception:  # answering will apologise and log; serving still starts
            log.warning("warm-up question failed; answers may fail until the index is reachable", exc_info=True)

    # ---- middleware and filters ------------------------------------------------------------------
    def _drop_retries(self, body: dict[str, Any], request: Any, next: Callable[[], Any]) -> Any:
        event_id = body.get("event_id")
        if body.get("type") == "event_callback" and event_id and not self.events.add(str(event_id)):
            retry = (request.headers.get("x-slack-retry-num") or [""])[0]  # none in Socket Mode
            log.info("dropped a repeat of event %s (X-Slack-Retry-Num %s)", event_id, retry or "-")
            return BoltResponse(status=200, body="")
        return next()

    def _from_a_person(self, event: dict[str, Any]) -> bool:
        return (
            bool(event.get("user"))
            and not event.get("bot_id")
            and event.get("subtype") in _PERSON_SUBTYPES
            and event.get("user") != self.identity.user_id
        )

    def _is_ours(self, message: dict[str, Any]) -> bool:
        return message.get("user") == self.identity.user_id or message.get("bot_id") == self.identity.bot_id

    # ---- events ---------------------------------------------------------------------------------
    def _on_mention(self, event: dict[str, Any]) -> None:
        if self._from_a_person(event) and self._accept(event):
            thread = event.get("thread_ts")
            self._submit(self._answer, event, thread or event["ts"], thread)

    def _on_message(self, event: dict[str, Any]) -> None:
        if not self._from_a_person(event):
            return
        thread = event.get("thread_ts")
        if event.get("channel_type") == "im":
            if self._accept(event):
                self._submit(self._answer, event, thread, thread)
        elif mentions(event.get("text", ""), self.identity.user_id):
            return  # app_mention answers it
        elif thread and thread != event["ts"]:  # a reply in a thread; other channel chatter is not for the bot
            self._submit(self._follow_up, event, thread)

    def _follow_up(self, event: dict[str, Any], thread: str) -> None:
        participated, turns = self._thread(event["channel"], thread, event["ts"])
        if participated and self._accept(event):
            self._answer(event, thread, turns=turns)

    def _accept(self, event: dict[str, Any]) -> bool:
        """Claim the message (each is answered once, whichever event brings it) and mark it :eyes:."""
        if not self.claimed.add(f"{event['channel']}:{event['ts']}"):
            return False
        self._react("reactions_add", event["channel"], event["ts"])
        return True

    def _thread(self, channel: str, thread_ts: str, before_ts: str) -> tuple[bool, list[Turn]]:
        """Did the bot answer in this thread, and the earlier turns (conversations.replies)."""
        messages: list[dict[str, Any]] = []
        cursor = None
        try:
            for _ in range(_MAX_THREAD_PAGES):
                page = self.client.conversations_replies(channel=channel, ts=thread_ts, limit=200, cursor=cursor, include_all_metadata=True)
                messages.extend(page.get("messages", []))
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError as exc:
            log.warning("cannot read thread %s in %s (conversations.replies: %s)", thread_ts, channel, exc.response.get("error"))
            return False, []
        return thread_turns(messages, before_ts, self._is_ours, self.identity.user_id)

    def _answer(
        self,
        event: dict[str, Any],
        reply_ts: str | None,
        history_thread: str | None = None,
        turns: Sequence[Turn] | None = None,
    ) -> None:
        """Answer an accepted message (runs in the worker pool); :eyes: goes when the reply is posted."""
        channel, ts = event["channel"], event["ts"]
        began = time.perf_counter()
        try:
            question = clean_question(event.get("text", ""), self.identity.user_id)
            if not question:
                self._post(channel, reply_ts, HELP)
                return
            if turns is None and history_thread:
                turns = self._thread(channel, history_thread, ts)[1]
            answer = self.bot.ask(question, turns or ())
            self._post_answer(channel, reply_ts, answer)
        except Exception as exc:
            log.exception("answering message %s in %s failed", ts, channel)
            self._post(channel, reply_ts, apology(exc))
            return
        finally:
            self._react("reactions_remove", channel, ts)
        log.info(
            "answered message %s in %s (%s, %d turn(s) of history) in %.2fs",
            ts,
            channel,
            "answered" if answer.answered else "refused",
            len(turns or ()),
            time.perf_counter() - began,
        )

    def _react(self, method: str, channel: str, ts: str) -> bool:
        try:
            getattr(self.client, method)(channel=channel, timestamp=ts, name=PROGRESS_REACTION)
            return True
        except SlackApiError as exc:
            log.warning("%s failed in %s: %s", method.replace("_", "."), channel, exc.response.get("error"))
            return False

    # ---- posting ----------------------------------------------------------------------------------
    def _post(self, channel: str, thread_ts: str | None, text: str) -> None:
        try:
            self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
        except SlackApiError:
            log.exception("cannot post to %s", channel)

    def _post_answer(self, channel: str, thread_ts: str | None, answer: Answer, footer: str = "", show_question: bool = False) -> None:
        answer_id = self.answers.add(answer, channel, thread_ts)
        self.client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=fallback_text(answer),
            blocks=answer_blocks(answer, answer_id, show_question=show_question, footer=footer),
            metadata=answer_metadata(answer.question, answer.text, answer.answered, answer_id),
            unfurl_links=False,
            unfurl_media=False,
        )

    def _ephemeral(self, channel: str, user: str, text: str, respond: Any, blocks: list[dict] | None = None) -> None:
        """chat.postEphemeral; where the bot is not in the conversation, the command's response_url."""
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
            return
        except SlackApiError as exc:
            log.info("chat.postEphemeral in %s failed (%s); replying through response_url", channel, exc.response.get("error"))
        try:
            respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        except Exception:
            log.exception("cannot reply to the command in %s", channel)

    # ---- /newsbot ---------------------------------------------------------------------------------
    def _on_command(self, ack: Any, command: dict[str, Any], respond: Any) -> None:
        text = command.get("text", "").strip()
        user, channel = command["user_id"], command["channel_id"]
        if text.lower() in ("", "help"):
            ack(text=HELP)
        elif text.lower() == "reindex":
            self._reindex(ack, user, channel, respond)
        else:
            ack(text=f":mag: Searching the articles for: {escape(text)}")
            self._submit(self._command_answer, text, user, channel, respond)

    def _command_answer(self, question: str, user: str, channel: str, respond: Any) -> None:
        try:
            answer = self.bot.ask(question)
            answer_id = self.answers.add(answer, channel, None)
            blocks = answer_blocks(answer, answer_id, show_question=True, post_button=True)
            self._ephemeral(channel, user, fallback_text(answer), respond, blocks)
        except Exception as exc:
            log.exception("answering /newsbot in %s failed", channel)
            self._ephemeral(channel, user, apology(exc), respond)

    def _reindex(self, ack: Any, user: str, channel: str, respond: Any) -> None:
        if user not in self.bot.settings.slack_admins:
            ack(text="Only the admins listed in NEWSBOT_SLACK_ADMINS can re-index.")
            log.info("refused /newsbot reindex from %s (not in NEWSBOT_SLACK_ADMINS)", user)
            return
        ack(text=":hourglass_flowing_sand: Re-indexing: new, changed and deleted articles…")
        self._submit(self._run_reindex, user, channel, respond)

    def _run_reindex(self, user: str, channel: str, respond: Any) -> None:
        try:
            report = self.bot.index.sync(None)
        except Exception as exc:
            log.exception("/newsbot reindex failed")
            self._ephemeral(channel, user, f":warning: Re-indexing failed: {exc}", respond)
            return
        r = report.to_json()
        summary = (
            f":white_check_mark: Re-indexed in {report.seconds:.1f}s: {r['added']} added · {r['updated']} updated · "
            f"{r['removed']} removed · {r['unchanged']} unchanged · {len(r['failed'])} failed. "
            f"The index holds {r['articles']} article(s), {r['chunks']} passage(s)."
        )
        for failure in r["failed"][:10]:
            summary += f"\n• {escape(failure['path'])}: {escape(failure['error'])}"
        log.info("/newsbot reindex by %s: %s", user, r)
        self._ephemeral(channel, user, summary, respond)

    # ---- buttons ----------------------------------------------------------------------------------
    def _on_post(self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        ack()
        user = body["user"]["id"]
        stored = self.answers.get(action.get("value", ""))
        if stored is None:
            respond(text="That answer is no longer stored; ask again with /newsbot.", response_type="ephemeral", replace_original=False)
            return
        channel = (body.get("channel") or {}).get("id") or stored.channel
        try:
            self._post_answer(channel, None, stored.answer, footer=f"Asked by <@{user}> with /newsbot", show_question=True)
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.warning("cannot post an answer to %s: %s", channel, error)
            respond(
                text=f"I cannot post in this conversation ({error}); invite me with `/invite @newsbot`.",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        respond(delete_original=True)

    def _on_feedback(self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        ack()
        answer_id = action.get("value", "")
        self.feedback.record(
            verdict="up" if action["action_id"] == FEEDBACK_UP else "down",
            user=body["user"]["id"],
            answer_id=answer_id,
            stored=self.answers.get(answer_id),
            channel=(body.get("channel") or {}).get("id", ""),
        )
        respond(text="Thanks, your feedback is recorded.", response_type="ephemeral", replace_original=False)
