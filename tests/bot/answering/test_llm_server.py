"""The generative path against a real model server: llama.cpp (xllamacpp) serving SmolLM2-135M-Instruct on a
free loopback port, reached the way a user reaches theirs, through NEWSBOT_LLM (testsupport.llm_server).

The subject is the wiring, not the 135M model's answers: whatever the model writes, the Answer must be what
its reply supports. Each assertion follows from the reply the server actually sent (`trace["llm_reply"]`):
a reply that cites no passage it was shown is a refusal; a kept answer numbers its citations [1], [2], ... in
the order the reply first cites them, each one a sentence of the passage the reply cited, quoted verbatim.
On its own the model cites nothing (the first test); a second server holds it to the prompt's "[n]" format
with a grammar, so the citing path meets a real reply too, in the CLI's path and streamed into Slack (the
stand-in for Slack's Web API, over real HTTP). Skipped, saying why, without the `llm-server` extra.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import pytest

from bot.answer import CITATION_MARK, REFUSAL, Answer, strip_citation_marks
from bot.chain import NewsBot
from bot.retrieval.search import Passage
from bot.settings import BotSettings
from bot.slack.app import SlackFace
from bot.slack.client import connect
from bot.slack.serve import SlackHttpServer
from indexing.settings import SettingsSource
from indexing.sources.files import read_file
from testsupport.corpora import SEED_FILE
from testsupport.llm_server import MISSING, LlamaServer, available, citing_llm_server, llm_server
from testsupport.slack_fake_api import FakeSlack
from testsupport.slack_requests import APP_TOKEN, BOT_TOKEN, make_settings, quotes, send_event, streamed_answer, user_message

pytestmark = pytest.mark.skipif(not available(), reason=MISSING)  # before the session builds the seed index

SEED_TEXT = read_file(SEED_FILE).articles[0].text
TOP_K = "2"  # passages the model sees: a short prompt, an answer in seconds on one core
# Questions the model answers by repeating a passage: the ones it most often cites a passage for.
CHECK_WHERE = [
    "Wendy R., Under Secretary of State, led the U.S. delegation to the talks. Which passage says this?",
    "Which passage says that the meeting at NATO's Brussels headquarters was the second stop of the diplomatic roadshow?",
]


def bot_for(server: LlamaServer, seed_index, tmp_path) -> NewsBot:
    env = {
        "NEWSBOT_DATA_DIR": str(tmp_path),
        "NEWSBOT_CONFIG": str(tmp_path / "none"),
        "NEWSBOT_LLM": server.base_url,
        "NEWSBOT_TOP_K": TOP_K,
    }
    return NewsBot(BotSettings.from_env(SettingsSource(env=env)), index=seed_index)


def shown_passages(bot: NewsBot, answer: Answer) -> list[Passage]:
    """The passages the model was shown, numbered as in its prompt (retrieval is deterministic)."""
    passages = bot.search.search(answer.standalone_question or answer.question, k=max(bot.settings.top_k, 8)).passages
    return passages[: bot.settings.top_k]


def first_cited(reply: str, shown: int) -> list[int]:
    """The passage numbers a reply cites, in order of first use; numbers of no passage shown left out."""
    order: list[int] = []
    for mark in CITATION_MARK.finditer(reply):
        n = int(mark.group(1))
        if 1 <= n <= shown and n not in order:
            order.append(n)
    return order


def check_wiring(answer: Answer, passages: Sequence[Passage]) -> None:
    """What must hold for this reply, whatever the model wrote."""
    reply = answer.trace["llm_reply"]
    cited = first_cited(reply, len(passages))
    for quote in (*answer.citations, *answer.closest):  # quotes are the article's own text, always
        assert SEED_TEXT[quote.start : quote.end] == quote.quote, quote
    if not cited:
        assert not answer.answered and answer.citations == () and answer.text == REFUSAL, (reply, answer)
        return
    if not answer.answered:  # cited, but the passages it cites do not back it (bot.answering.support)
        assert answer.citations == () and answer.text == REFUSAL and answer.trace["unsupported"], (reply, answer)
        return
    # Renumbered in order of first use: the reply's [cited[0]] is shown as [1], its [cited[1]] as [2], ...
    assert len(answer.citations) == len(cited), (reply, answer.text)
    assert first_cited(answer.text, len(cited)) == list(range(1, len(cited) + 1)), (reply, answer.text)
    assert {int(n) for n in CITATION_MARK.findall(answer.text)} <= set(range(1, len(cited) + 1)), answer.text
    renumbered = CITATION_MARK.sub(lambda m: f"[{cited.index(int(m.group(1))) + 1}]" if int(m.group(1)) in cited else "", reply)
    assert _words(answer.text) == _words(renumbered)  # the model's words, its marks renumbered, nothing else
    for citation, n in zip(answer.citations, cited):  # [k] quotes a sentence of the passage the reply cited k-th
        chunk = passages[n - 1].chunk
        assert citation.article_id == chunk.article_id and chunk.start <= citation.start < citation.end <= chunk.end, (n, citation)


def _words(text: str) -> list[str]:
    return re.findall(r"\[\d+\]|[^\W_]+", text)


def test_a_reply_that_cites_no_passage_is_not_an_answer(llm_server, seed_index, tmp_path):
    bot = bot_for(llm_server, seed_index, tmp_path)
    answers = [bot.ask(q) for q in ("Who led the US delegation to the talks?", "How much did a barrel of Brent crude oil cost last week?")]
    for answer in answers:
        check_wiring(answer, shown_passages(bot, answer))
    # The model as served cites nothing: its replies are refusals, with the nearest passages apart.
    uncited = [a for a in answers if not first_cited(a.trace["llm_reply"], int(TOP_K))]
    assert uncited, [a.trace["llm_reply"] for a in answers]
    assert all(a.closest and not a.answered for a in uncited)


def test_a_cited_reply_is_renumbered_and_quoted_verbatim(citing_llm_server, seed_index, tmp_path):
    bot = bot_for(citing_llm_server, seed_index, tmp_path)
    answers = [bot.ask(q) for q in CHECK_WHERE]
    for answer in answers:
        assert CITATION_MARK.search(answer.trace["llm_reply"])  # the grammar held: every reply cites
        check_wiring(answer, shown_passages(bot, answer))
    # At least one reply is kept as an answer, so the renumbering and quoting above ran on a real reply.
    assert any(a.answered for a in answers), [(a.trace["llm_reply"], a.trace.get("unsupported")) for a in answers]
    assert all(strip_citation_marks(a.text) for a in answers if a.answered)


@pytest.fixture(scope="module")
def slack_face(citing_llm_server, seed_index, tmp_path_factory) -> Iterator[tuple[FakeSlack, SlackHttpServer]]:
    """newsbot's Slack face over the citing server, streaming 12 characters an append, and the stand-in for Slack."""
    fake = FakeSlack(BOT_TOKEN, APP_TOKEN).start()
    settings = make_settings(
        tmp_path_factory.mktemp("slack-llm"),
        fake,
        NEWSBOT_LLM=citing_llm_server.base_url,
        NEWSBOT_TOP_K=TOP_K,
        NEWSBOT_SLACK_STREAM_BUFFER="12",
    )
    face = SlackFace(NewsBot(settings, index=seed_index), connect(settings))
    http = SlackHttpServer(face, "127.0.0.1", 0).start()
    yield fake, http
    http.stop()
    face.close()
    fake.stop()


@pytest.mark.parametrize("n", range(len(CHECK_WHERE)))
def test_an_answer_from_the_server_streams_into_slack(slack_face, n):
    fake, http = slack_face
    channel = f"C5{n}"
    event = user_message(fake, channel, f"<@UBOT> {CHECK_WHERE[n]}")
    assert send_event(http, event)[0] == 200
    streamed = streamed_answer(fake, channel, event["ts"], timeout=300)
    # The reply reached Slack as the model wrote it: a stream started in the thread, then appends, then a stop.
    assert streamed.appends and streamed.start.at < streamed.appends[0].at <= streamed.stop.at
    assert CITATION_MARK.search(streamed.text), streamed.text
    # What stays in Slack is the checked answer (its text first), whatever was streamed; quotes are verbatim.
    payload, kept = streamed.message["metadata"]["event_payload"], streamed.message["text"]
    shown = quotes(streamed.message["blocks"])
    assert shown and all(q in SEED_TEXT for q in shown), shown
    assert _words(kept)[: len(_words(payload["answer"]))] == _words(payload["answer"]), (kept, payload)
    if payload["answered"]:  # the marks were renumbered as they streamed, as the checked answer numbers them
        assert _words(payload["answer"]) == _words(streamed.text), (payload, streamed.text)
        assert {int(n) for n in CITATION_MARK.findall(payload["answer"])} == set(range(1, len(shown) + 1)), (payload, shown)
    else:  # the passages it cites do not back it: the refusal replaced the streamed text
        assert streamed.replaced and payload["answer"] == REFUSAL, payload
