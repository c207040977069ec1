"""`/newsbot` and the buttons: each listener calls `ack()` first, then queues the rest.

- `/newsbot <question>` answers ephemerally, with a "Post to channel" button; `help`; `reindex` and
  `sources` (admins only: NEWSBOT_SLACK_ADMINS; `sources` is in bot.slack.sources).
- "Post to channel" and the feedback buttons (Slack's `feedback_buttons`, and the 👍/👎 buttons of
  answers posted before them) find their answer by id in the shared state database, so a click works
  on whichever process Slack's request reaches.
- A suggested follow-up's button asks its question in the thread of the answer that offered it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import FEEDBACK, FEEDBACK_DOWN, FEEDBACK_UP, FOLLOW_UP, POST_TO_CHANNEL, answer_blocks, escape, fallback_text
from bot.slack.face import Face
from bot.slack.followups import follow_ups
from bot.slack.replies import Workspace, reply
from bot.slack.search_words import SearchWordError, split_search_words
from bot.slack.sources import is_sources_command, sources_command
from bot.slack.texts import BUSY, HELP, apology

log = logging.getLogger("newsbot.slack")
_LATEST_TS = "9999999999.999999"  # a thread's history up to now, when a click carries no usable action_ts


def register_commands(app: App, face: Face) -> None:
    commands = _Commands(face)
    app.command("/newsbot")(commands.on_command)
    app.action(POST_TO_CHANNEL)(commands.on_post)
    app.action(re.compile(f"^({FEEDBACK}|{FEEDBACK_UP}|{FEEDBACK_DOWN})$"))(commands.on_feedback)
    app.action(re.compile(f"^{FOLLOW_UP}_\\d+$"))(commands.on_follow_up)


class _Commands:
    def __init__(self, face: Face):
        self.face = face

    def _queue(self, job: Any, respond: Any) -> None:
        self.face.submit(job, shed=lambda: reply(respond, BUSY))

    # ---- /newsbot ---------------------------------------------------------------------------------
    def on_command(self, ack: Any, command: dict[str, Any], respond: Any, context: BoltContext) -> None:
        text = command.get("text", "").strip()
        user, channel = command["user_id"], command["channel_id"]
        where = Workspace.of(context)
        if text.lower() in ("", "help"):
            ack(text=HELP)
        elif text.lower() == "reindex":
            self._reindex(ack, where, user, channel, respond)
        elif is_sources_command(text.lower()):
            ack(text=sources_command(self.face, where, user, channel, text))
        else:
            ack(text=f":mag: Searching the articles for: {escape(text)}")

            def answer_command() -> None:
                self._answer(where, text, user, channel, respond)

            self._queue(answer_command, respond)

    def _answer(self, where: Workspace, question: str, user: str, channel: str, respond: Any) -> None:
        try:
            try:
                asked, filters = split_search_words(question)
            except SearchWordError as exc:
                where.ephemeral(channel, user, str(exc), respond)
                return
            answer = self.face.bot.ask(asked, filters=self.face.filters_for(where, channel, filters))
            answer_id = self.face.state.add_answer(answer, channel, None)
            blocks = answer_blocks(answer, answer_id, show_question=True, post_button=True, follow_ups=follow_ups(answer))
            where.ephemeral(channel, user, fallback_text(answer), respond, blocks)
        except Exception as exc:
            log.exception("answering /newsbot in %s failed", channel)
            where.ephemeral(channel, user, apology(exc), respond)

    def _reindex(self, ack: Any, where: Workspace, user: str, channel: str, respond: Any) -> None:
        if user not in self.face.bot.settings.slack_admins:
            ack(text="Only the admins listed in NEWSBOT_SLACK_ADMINS can re-index.")
            log.info("refused /newsbot reindex from %s (not in NEWSBOT_SLACK_ADMINS)", user)
            return
        ack(text=":hourglass_flowing_sand: Re-indexing: new, changed and deleted articles…")

        def reindex() -> None:
            self._run_reindex(where, user, channel, respond)

        self._queue(reindex, respond)

    def _run_reindex(self, where: Workspace, user: str, channel: str, respond: Any) -> None:
        try:
            report = self.face.bot.index.sync(None)
        except Exception as exc:
            log.exception("/newsbot reindex failed")
            where.ephemeral(channel, user, f":warning: Re-indexing failed: {exc}", respond)
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
        where.ephemeral(channel, user, summary, respond)

    # ---- buttons ----------------------------------------------------------------------------------
    def on_post(self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any, context: BoltContext) -> None:
        ack()
        where = Workspace.of(context)

        def post_to_channel() -> None:
            self._post(where, body, action.get("value", ""), respond)

        self._queue(post_to_channel, respond)

    def _post(self, where: Workspace, body: dict[str, Any], answer_id: str, respond: Any) -> None:
        user = body["user"]["id"]
        stored = self.face.state.answer(answer_id)
        if stored is None:
            reply(respond, "That answer is no longer stored; ask again with /newsbot.")
            return
        channel = (body.get("channel") or {}).get("id") or stored.channel
        try:
            self.face.post_answer(where, channel, None, stored.answer, footer=f"Asked by <@{user}> with /newsbot", show_question=True)
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.warning("cannot post an answer to %s: %s", channel, error)
            reply(respond, f"I cannot post in this conversation ({error}); invite me with `/invite @newsbot`.")
            return
        respond(delete_original=True)

    def on_feedback(self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        ack()
        value = action.get("value", "")
        if action["action_id"] == FEEDBACK:  # feedback_buttons: the clicked button's value, "up:<id>" or "down:<id>"
            verdict, _, answer_id = value.partition(":")
        else:
            verdict, answer_id = ("up" if action["action_id"] == FEEDBACK_UP else "down"), value

        def record_feedback() -> None:
            entry = self.face.state.record_feedback(
                verdict=verdict, user=body["user"]["id"], answer_id=answer_id, channel=(body.get("channel") or {}).get("id", "")
            )
            if "missing" in entry:
                log.info("feedback on answer %s, which is no longer stored", entry["answer_id"])
            reply(respond, "Thanks, your feedback is recorded.")

        self._queue(record_feedback, respond)

    def on_follow_up(self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any, context: BoltContext) -> None:
        ack()
        where = Workspace.of(context)
        question, user = action.get("value", ""), body["user"]["id"]
        message = body.get("message")
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
        if not message:  # the ephemeral reply to /newsbot: the follow-up is answered the same way

            def answer_ephemerally() -> None:
                self._answer(where, question, user, channel, respond)

            self._queue(answer_ephemerally, respond)
            return
        thread = message.get("thread_ts") or message["ts"]
        clicked = action.get("action_ts", "")
        event = {"channel": channel, "ts": clicked if "." in clicked else _LATEST_TS, "text": question, "user": user}
        footer = f"Asked by <@{user}>: {escape(question)}"

        def answer_in_thread() -> None:
            self.face.answer(where, event, thread, history_thread=thread, reaction=False, footer=footer)

        self._queue(answer_in_thread, respond)
