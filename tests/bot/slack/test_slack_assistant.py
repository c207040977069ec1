"""Slack's AI-app side panel over HTTP: signed assistant_thread_started and message events, answered
in the assistant thread with suggested prompts, a title, a status, the usual cited blocks and the answer's follow-ups."""

from __future__ import annotations

from bot.slack.texts import FOLLOW_UPS_TITLE, GREETING, SEARCHING, SUGGESTED_PROMPTS
from testsupport.slack_requests import QUESTION, assert_cited_answer, follow_up_buttons, in_thread, send_event, user_message


def _calls(fake, method: str, channel: str, thread: str) -> list:
    return fake.calls_to(method, lambda c: c.params.get("channel_id") == channel and c.params.get("thread_ts") == thread)


def test_the_side_panel_greets_then_answers_with_citations_a_title_and_a_status(server, fake):
    channel, thread = "D50", fake.new_ts()
    started = {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": "U1",
            "context": {"channel_id": "C1", "team_id": "T1", "enterprise_id": None},
            "channel_id": channel,
            "thread_ts": thread,
        },
        "event_ts": thread,
    }
    status, _, elapsed = send_event(server, started)
    assert status == 200 and elapsed < 3
    (greeting,) = fake.wait_for("chat.postMessage", in_thread(channel, thread))
    assert greeting.params["text"] == GREETING
    (prompts,) = fake.wait_for("assistant.threads.setSuggestedPrompts", lambda c: c.params.get("channel_id") == channel)
    assert [p["message"] for p in prompts.params["prompts"]] == [p["message"] for p in SUGGESTED_PROMPTS]

    question = user_message(fake, channel, QUESTION, kind="message", thread_ts=thread, channel_type="im")
    status, _, elapsed = send_event(server, question)
    assert status == 200 and elapsed < 3
    answer = fake.wait_for("chat.postMessage", in_thread(channel, thread), count=2)[1]
    assert_cited_answer(answer, "Wendy R.")
    (title,) = _calls(fake, "assistant.threads.setTitle", channel, thread)
    (searching,) = _calls(fake, "assistant.threads.setStatus", channel, thread)
    assert title.params["title"] == QUESTION and searching.params["status"] == SEARCHING
    assert title.at < answer.at and searching.at < answer.at
    assert not fake.calls_to("reactions.add", lambda c: c.params.get("channel") == channel)  # the status says it instead
    # The follow-ups the answer suggests become the thread's suggested prompts, not buttons.
    suggested = fake.wait_for("assistant.threads.setSuggestedPrompts", lambda c: c.params.get("channel_id") == channel, count=2)[1]
    assert suggested.params["title"] == FOLLOW_UPS_TITLE and suggested.at > answer.at
    assert any(p["message"].startswith(QUESTION) and " after:" in p["message"] for p in suggested.params["prompts"])
    assert not follow_up_buttons(answer.params["blocks"])

    follow = user_message(fake, channel, "and who led the Russian side?", kind="message", thread_ts=thread, channel_type="im")
    assert send_event(server, follow)[0] == 200
    reply = fake.wait_for("chat.postMessage", in_thread(channel, thread), count=3)[2]
    assert "Sergei A." in reply.params["text"]
    assert len(_calls(fake, "assistant.threads.setTitle", channel, thread)) == 1  # the first question names the thread
    assert len(_calls(fake, "assistant.threads.setStatus", channel, thread)) == 2
