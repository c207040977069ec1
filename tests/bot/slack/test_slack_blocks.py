"""Block Kit rendering of an Answer, and reading Slack threads back as turns (no Slack, no model)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from bot.answer import Answer, Citation, Copy, Turn
from bot.slack.blocks import (
    BLOCKS_TEXT_LIMIT,
    FEEDBACK,
    FOLLOW_UP,
    MAX_BLOCKS,
    POST_TO_CHANNEL,
    TEXT_LIMIT,
    answer_blocks,
    cut,
    escape,
    fallback_text,
    fit,
)
from bot.slack.followups import follow_ups
from bot.slack.store import answer_from_json
from bot.slack.threads import answer_metadata, clean_question, thread_turns
from testsupport.slack_fake_messages import blocks_error


def citation(
    quote: str, span: str | None = None, *, title: str = "Talks in Brussels", source: str = "/news/a.txt", offset: int = 100
) -> Citation:
    highlight = None
    if span is not None:
        at = offset + quote.index(span)
        highlight = (at, at + len(span))
    return Citation("a1", title, date(2022, 12, 4), source, quote, offset, offset + len(quote), 0.9, highlight)


def texts(blocks: list[dict]) -> list[str]:
    out = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        out += [e["text"] for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return out


def test_answer_then_one_context_block_per_passage_then_buttons():
    answer = Answer(
        "Wendy R. [1]", (citation("Wendy R., Under Secretary of State, led the U.S. delegation.", "Wendy R."),), True, question="Who led?"
    )
    blocks = answer_blocks(answer, "abc123")
    assert [b["type"] for b in blocks] == ["section", "context", "context_actions"]
    assert blocks[0]["text"] == {"type": "mrkdwn", "text": "Wendy R. [1]"}
    passage = blocks[1]["elements"][0]["text"]
    assert passage.startswith("*[1]* *Talks in Brussels* · 2022-12-04 · a.txt\n")
    assert "“*Wendy R.*, Under Secretary of State, led the U.S. delegation.”" in passage
    (buttons,) = blocks[2]["elements"]  # Slack's own feedback buttons for AI answers
    assert buttons["type"] == "feedback_buttons" and buttons["action_id"] == FEEDBACK
    assert (buttons["positive_button"]["value"], buttons["negative_button"]["value"]) == ("up:abc123", "down:abc123")
    assert blocks_error(blocks) is None
    post = answer_blocks(answer, "abc123", post_button=True, show_question=True)
    assert post[0]["type"] == "context" and "Who led?" in post[0]["elements"][0]["text"]
    assert post[-2]["elements"][0]["action_id"] == POST_TO_CHANNEL and post[-1]["type"] == "context_actions"
    assert fallback_text(answer) == "Wendy R. [1]\n[1] Talks in Brussels (2022-12-04)"


def test_url_sources_are_linked_and_everything_is_escaped():
    c = citation('Profits < costs & "losses" > 0 for A&B.', "A&B", title="Q&A: <b>|bold|</b>", source="https://example.com/a?x=1&y=2")
    answer = Answer("A&B <wins> [1]", (c,), True)
    blocks = answer_blocks(answer, "id")
    assert blocks[0]["text"]["text"] == "A&amp;B &lt;wins&gt; [1]"
    passage = blocks[1]["elements"][0]["text"]
    assert "<https://example.com/a?x=1&amp;y=2|Q&amp;A: &lt;b&gt;¦bold¦&lt;/b&gt;>" in passage
    assert 'Profits &lt; costs &amp; "losses" &gt; 0 for *A&amp;B*.' in passage
    assert "a.txt" not in passage and "&lt;" in fallback_text(Answer("x < y", (), False))


def test_a_span_inside_a_word_gets_word_boundaries_and_lines_are_bolded_separately():
    c = citation("The non-aligned states\nmet twice.", "aligned states\nmet")
    text = answer_blocks(Answer("x [1]", (c,), True), "id")[1]["elements"][0]["text"]
    assert "non-\u200b*aligned states*\n*met*" not in text  # a hyphen is already a boundary
    assert "non-*aligned states*\n*met* twice." in text
    c = citation("Unbelievable news.", "believ")
    text = answer_blocks(Answer("x [1]", (c,), True), "id")[1]["elements"][0]["text"]
    assert "Un\u200b*believ*\u200bable" in text


def test_long_quotes_are_cut_cleanly_around_the_span():
    words = " ".join(f"word{i}" for i in range(2000))
    quote = f"{words} Sergei A. led the Russian side. {words}"
    blocks = answer_blocks(Answer("Sergei A. [1]", (citation(quote, "Sergei A."),), True), "id")
    passage = blocks[1]["elements"][0]["text"]
    assert len(passage) <= TEXT_LIMIT
    assert "*Sergei A.*" in passage
    body = passage.split("\n“", 1)[1]
    assert body.startswith("…word") and body.endswith("…”")
    assert " wor…" not in body and "…word" in body  # whole words only


def test_message_limits_hold_with_many_long_passages():
    quote = "x" * 2500 + " " + "y" * 2000
    many = tuple(citation(quote, "y" * 2000, offset=i * 10_000) for i in range(80))
    answer = Answer("A" * 5000, many, True, question="q" * 5000)
    blocks = answer_blocks(answer, "id", show_question=True, post_button=True)
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(t) <= TEXT_LIMIT for t in texts(blocks))
    assert sum(map(len, texts(blocks))) <= BLOCKS_TEXT_LIMIT
    assert [b["type"] for b in blocks[-2:]] == ["actions", "context_actions"] and blocks_error(blocks) is None
    assert "more passage(s) not shown" in blocks[-3]["elements"][0]["text"]
    assert blocks[1]["text"]["text"].endswith("…")
    assert len(fallback_text(answer)) <= 3000
    assert len(json.dumps(blocks)) < 60_000


def test_fit_keeps_the_longest_escaped_cut_and_is_never_empty():
    # "&" becomes "&amp;": the old fit overshot to nothing, or kept a tenth of what fits.
    for raw in ("a&b " * 900, "AT&T " * 700, "&" * 5000, "<" + "x" * 4000):
        fitted = fit(raw, 3000)
        assert fitted and len(fitted) <= 3000, raw[:10]
        assert len(fitted) > 2900 or raw.startswith("<x"), (raw[:10], len(fitted))
    assert fit("&&&& &&&&", 6) == "&amp;…" and fit("word", 1) == "…"


def test_a_refusal_shows_no_passage_as_support():
    closest = (citation("NATO has 30 members.", "30"),)
    refusal = Answer("The indexed articles do not contain the answer to this question.", (), False, closest=closest)
    blocks = answer_blocks(refusal, "id")
    assert "do not contain the answer" in blocks[0]["text"]["text"]
    assert "they do not answer the question" in blocks[1]["elements"][0]["text"]
    assert "*30*" not in blocks[2]["elements"][0]["text"]  # no span is presented as the answer
    assert [b["type"] for b in answer_blocks(Answer("No.", (), False), "id")] == ["section", "context_actions"]
    assert fallback_text(refusal) == refusal.text


def test_cut_ends_in_an_ellipsis_at_a_word():
    assert cut("short", 10) == "short"
    assert cut("the quick brown fox jumps", 12) == "the quick…"
    assert escape("<&>") == "&lt;&amp;&gt;"


def test_an_answer_survives_the_store_round_trip():
    answer = Answer("Wendy R. [1]", (citation("Wendy R. led it.", "Wendy R."),), True, question="Who?", confidence=0.8)
    back = answer_from_json(json.loads(json.dumps(answer.to_json())))
    assert back.citations == answer.citations
    assert (back.text, back.answered, back.question) == (answer.text, True, "Who?")


def test_questions_are_cleaned_of_mentions_links_and_escapes():
    assert clean_question("<@UBOT>  who led &amp; why? <https://x.org/a|the article> <#C1|general>", "UBOT") == "who led & why? the article"


def test_thread_turns_pair_questions_with_the_bots_answers():
    ours = {"user": "UBOT", "bot_id": "BBOT"}
    messages = [
        {"ts": "1.000001", "user": "U1", "text": "<@UBOT> Who led the US delegation?"},
        {
            "ts": "1.000002",
            **ours,
            "text": "Wendy R. [1]",
            "metadata": answer_metadata("Who led the US delegation?", "Wendy R. [1]", True, "a"),
        },
        {"ts": "1.000003", "bot_id": "BOTHER", "text": "I am another bot"},
        {"ts": "1.000004", "user": "U1", "text": "what about Mars?"},
        {"ts": "1.000005", **ours, "text": "no", "metadata": answer_metadata("what about Mars?", "no", False, "b")},
        {"ts": "1.000010", "user": "U1", "text": "and who led the Russian side?"},
    ]
    is_ours = lambda m: m.get("user") == "UBOT"  # noqa: E731
    participated, turns = thread_turns(messages, "1.000010", is_ours, "UBOT")
    assert participated
    assert turns == [Turn("Who led the US delegation?", "Wendy R. [1]"), Turn("what about Mars?", "")]
    assert thread_turns(messages[:1], "1.000010", is_ours, "UBOT") == (False, [])


def test_follow_ups_are_derived_from_the_citations_and_become_buttons():
    copy = Copy("c2", "Talks (AP)", date(2022, 12, 5), "https://apnews.com/article/talks")
    first = replace(citation("Wendy R., Under Secretary of State, led the U.S. delegation.", "Wendy R."), also_in=(copy,))
    second = replace(citation("The talks ended on Monday.", "Monday"), published=date(2022, 12, 7))
    answer = Answer("Wendy R. [1], until Monday [2]", (first, second), True, question="Who led?", standalone_question="Who led the talks?")
    suggested = follow_ups(answer)
    assert [f.message for f in suggested] == [
        "Who led the talks? from:apnews.com",
        "Who led the talks? after:2022-12-07",
        "Who led the talks? before:2022-12-04",
    ]
    assert follow_ups(answer) == suggested  # the same answer, the same suggestions
    assert follow_ups(replace(answer, answered=False, citations=())) == []
    blocks = answer_blocks(answer, "abc123", follow_ups=suggested)
    row = next(b for b in blocks if b.get("block_id") == "newsbot_follow_ups")
    assert [e["value"] for e in row["elements"]] == [f.message for f in suggested]
    assert all(e["action_id"].startswith(FOLLOW_UP) and len(e["text"]["text"]) <= 75 for e in row["elements"])
    assert blocks[-1]["type"] == "context_actions" and blocks_error(blocks) is None
