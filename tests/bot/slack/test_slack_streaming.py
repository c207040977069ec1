"""Generative answers streamed into Slack (chat.startStream / appendStream / stopStream) over real HTTP,
with Slack's feedback buttons and the follow-ups the answer suggests. The model is a deterministic
stand-in that streams its reply word by word (the subject is the wiring, not the model); retrieval,
the answer's checks and the Slack face are the real ones, over the seed index."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answering.generative import GenerativeAnswerer
from bot.chain import NewsBot
from bot.slack.app import SlackFace
from bot.slack.blocks import FOLLOW_UP
from bot.slack.client import connect
from bot.slack.serve import SlackHttpServer
from bot.slack.streaming import CitationNumbers
from testsupport.slack_requests import (
    BOT_TOKEN,
    QUESTION,
    SEED_TEXT,
    answer_id_of,
    click,
    feedback,
    follow_up_buttons,
    in_thread,
    make_settings,
    quotes,
    send_event,
    streamed_answer,
    user_message,
)

BACKED = "Wendy R. Sherman led the US delegation to the talks [1]."
UNBACKED = "The talks were moved to Paris by Pierre Dupont [1]."


class ScriptedModel:
    """A chat model whose reply is the first rule whose key is in the question; streamed word by word."""

    def __init__(self, rules: dict[str, str]):
        self.rules = rules

    def _reply(self, prompt: object) -> str:
        if isinstance(prompt, str):  # condensing a follow-up: the question as it stands
            return prompt.rsplit("Last question:", 1)[-1].strip()
        question = str(prompt[-1][1])  # type: ignore[index]
        return next((reply for key, reply in self.rules.items() if key in question), "NOT_FOUND")

    def invoke(self, prompt: object) -> AIMessage:
        return AIMessage(content=self._reply(prompt))

    def stream(self, prompt: object) -> Iterator[AIMessageChunk]:
        for piece in re.findall(r"\S+\s*", self._reply(prompt)):
            yield AIMessageChunk(content=piece)


@pytest.fixture(scope="module")
def streaming(seed_index, tmp_path_factory, fake):
    """A face whose answers come from the scripted model, streamed 12 characters at a time."""
    settings = make_settings(tmp_path_factory.mktemp("streaming"), fake, NEWSBOT_SLACK_STREAM_BUFFER="12")
    model = ScriptedModel({"delegation": BACKED, "moved": UNBACKED})
    face = SlackFace(NewsBot(settings, index=seed_index, answerer=GenerativeAnswerer(model, "scripted")), connect(settings))
    http = SlackHttpServer(face, "127.0.0.1", 0).start()
    yield http
    http.stop()
    face.close()


def test_a_generative_answer_streams_into_the_thread_then_ends_with_citations_and_buttons(streaming, fake):
    event = user_message(fake, "C30", f"<@UBOT> {QUESTION}")
    assert send_event(streaming, event)[0] == 200
    answer = streamed_answer(fake, "C30", event["ts"])
    # A reply in the question's thread, to the person who asked (Slack needs both outside a DM).
    assert (answer.start.params["recipient_user_id"], answer.start.params["recipient_team_id"]) == ("U1", "T1")
    assert len(answer.appends) >= 2 and answer.start.at < answer.appends[0].at < answer.stop.at
    assert answer.text == BACKED and not answer.replaced
    # The citations come at the end: verbatim quotes, then follow-ups, then Slack's feedback buttons.
    blocks = answer.stop.params["blocks"]
    assert quotes(blocks) and all(q in SEED_TEXT for q in quotes(blocks))
    answer_id = answer_id_of(blocks)
    assert any("after:" in b["value"] for b in follow_up_buttons(blocks))
    assert answer.stop.params["metadata"]["event_payload"] == {"id": answer_id, "question": QUESTION, "answer": BACKED, "answered": True}
    # The message Slack keeps is the answer, and no second message was posted.
    assert answer.message["text"] == BACKED and answer.message["blocks"] == blocks
    assert not fake.calls_to("chat.postMessage", in_thread("C30", event["ts"]))
    fake.wait_for("reactions.remove", lambda c: c.params.get("timestamp") == event["ts"])

    assert feedback(streaming, fake, "down", answer_id, user="U5", channel="C30", message=answer.message)[0] == 200
    fake.wait_for("response_url", lambda c: "feedback is recorded" in c.params.get("text", "") and c.at > answer.stop.at)


def test_a_suggested_follow_up_is_asked_in_the_thread_when_clicked(streaming, fake):
    event = user_message(fake, "C31", f"<@UBOT> {QUESTION}")
    send_event(streaming, event)
    message = streamed_answer(fake, "C31", event["ts"]).message
    newer = next(b for b in follow_up_buttons(message["blocks"]) if "after:" in b["value"])
    assert newer["action_id"].startswith(FOLLOW_UP)
    assert click(streaming, fake, newer["action_id"], newer["value"], user="U6", channel="C31", message=message)[0] == 200
    # Asked in the same thread, saying who asked what; no article is newer than the seed, and the reply says so.
    (reply,) = fake.wait_for("chat.postMessage", in_thread("C31", event["ts"]))
    text = str(reply.params["blocks"])
    assert "Asked by <@U6>" in text and "after:" in text
    assert "No indexed article was published since" in reply.params["text"]


def test_a_reply_the_passages_do_not_back_ends_as_the_refusal(streaming, fake):
    event = user_message(fake, "C32", "<@UBOT> Where were the talks moved?")
    send_event(streaming, event)
    answer = streamed_answer(fake, "C32", event["ts"])
    assert answer.text == UNBACKED and answer.replaced
    # What stays in Slack is the checked answer: the refusal replaces what was streamed, in the same message.
    assert "Paris" not in answer.message["text"] and answer.message["metadata"]["event_payload"]["answered"] is False
    blocks = answer.message["blocks"]
    assert blocks[0]["text"]["text"].startswith(":mag:") and blocks[-1]["type"] == "context_actions"


def test_an_expired_stream_still_ends_as_the_answer(streaming, fake, caplog):
    caplog.set_level(logging.WARNING, logger="newsbot.slack")
    fake.refuse("chat.stopStream", "message_not_in_streaming_state")
    event = user_message(fake, "C34", f"<@UBOT> {QUESTION}")
    send_event(streaming, event)
    answer = streamed_answer(fake, "C34", event["ts"])
    assert answer.replaced and answer.message["metadata"]["event_payload"]["answered"] is True
    assert "Wendy R. Sherman" in answer.message["text"]
    assert quotes(answer.message["blocks"]) and answer.message["blocks"][-1]["type"] == "context_actions"
    assert "chat.stopStream failed in C34: message_not_in_streaming_state" in caplog.text


def test_citation_numbers_are_renumbered_as_they_stream():
    numbers = CitationNumbers()
    pieces = ["Sherman [", "3] led it", " with Ryabkov [1", "][3].", " [1", "2] [4"]
    streamed = "".join(numbers.feed(p) for p in pieces) + numbers.flush()
    assert streamed == "Sherman [1] led it with Ryabkov [2][1]. [3] [4"  # an unclosed "[4" at the end is text


def test_the_stand_in_answers_the_streaming_methods_as_slack_does(fake):
    client = WebClient(token=BOT_TOKEN, base_url=fake.api_url)
    thread = fake.new_ts()

    def error(call) -> str:
        with pytest.raises(SlackApiError) as raised:
            call()
        return raised.value.response["error"]

    assert error(lambda: client.chat_startStream(channel="C40", thread_ts=thread)) == "missing_recipient_user_id"
    assert error(lambda: client.api_call("chat.startStream", json={"channel": "C40"})) == "invalid_arguments"
    started = client.chat_startStream(channel="C40", thread_ts=thread, recipient_user_id="U1", recipient_team_id="T1")
    assert started["ok"] and started["channel"] == "C40" and started["ts"]
    client.chat_appendStream(channel="C40", ts=started["ts"], markdown_text="**hello**")
    stopped = client.chat_stopStream(channel="C40", ts=started["ts"], markdown_text=" world")
    assert stopped["message"]["text"] == "**hello** world" and stopped["message"]["bot_id"] == "BBOT"
    assert error(lambda: client.chat_appendStream(channel="C40", ts=started["ts"], markdown_text="x")) == "message_not_in_streaming_state"
    assert error(lambda: client.chat_appendStream(channel="C40", ts="1.000001", markdown_text="x")) == "message_not_found"
    theirs = fake.add_message("C40", "U1", "a person's words", fake.new_ts())
    assert error(lambda: client.chat_stopStream(channel="C40", ts=theirs["ts"])) == "message_not_owned_by_app"
    assert error(lambda: client.chat_update(channel="C40", ts=theirs["ts"], text="x")) == "cant_update_message"
    too_many = [{"type": "context_actions", "elements": [{"type": "button"}]}]
    again = client.chat_startStream(channel="D40", thread_ts=thread)  # a DM needs no recipient
    assert error(lambda: client.chat_stopStream(channel="D40", ts=again["ts"], blocks=too_many)) == "invalid_blocks"
    fake.outside.add("C41")
    assert error(lambda: client.chat_postMessage(channel="C41", text="hi")) == "not_in_channel"
    assert error(lambda: client.chat_startStream(channel="C41", thread_ts=thread, recipient_user_id="U1", recipient_team_id="T1")) == (
        "not_in_channel"
    )
