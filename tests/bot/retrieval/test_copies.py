"""Wire copies collapsed: the seed article and a copy of it are one citation with `also_in`, over a real index."""

from __future__ import annotations

import json
import shutil

import pytest

from bot.answer import Answer, Citation, Copy
from bot.chain import NewsBot
from bot.cli.render import render_answer
from bot.retrieval.copies import renumber
from bot.slack.blocks import answer_blocks
from bot.slack.store import answer_from_json
from indexing.store.upgrade import upgrade
from testsupport.corpora import SEED_FILE, SEED_TEXT

QUESTION = "Who led the US delegation?"
QUOTE = "Wendy R., Under Secretary of State, led the U.S. delegation to the talks."


@pytest.fixture
def two_folders(tmp_path):
    """The seed article in a/, and a copy of it, dated a day later, in b/wire_copy.txt."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(SEED_FILE, tmp_path / "a" / SEED_FILE.name)
    (tmp_path / "b" / "wire_copy.txt").write_text(SEED_FILE.read_text().replace("December 4, 2022", "December 5, 2022", 1))
    return tmp_path


@pytest.fixture
def bot(bot_settings, news_index) -> NewsBot:
    return NewsBot(bot_settings, index=news_index)


def _cited(answer: Answer) -> list[tuple[str, tuple[str, ...]]]:
    return [(c.source.split("/")[-2], tuple(o.source.split("/")[-2] for o in c.also_in)) for c in answer.citations]


def test_the_seed_and_its_copy_are_one_citation_from_the_earliest_with_also_in(bot, two_folders):
    bot.index.sync([two_folders])
    answer = bot.ask(QUESTION)
    assert answer.answered and answer.text.startswith("Wendy R.")
    sources = [c.source for c in answer.citations]
    assert len(sources) == len(set((c.article_id, c.start) for c in answer.citations)), "a passage is cited twice"
    first = answer.citations[0]
    assert first.source.endswith(f"/a/{SEED_FILE.name}") and [c.source for c in first.also_in] == [str(two_folders / "b" / "wire_copy.txt")]
    assert SEED_TEXT[first.start : first.end] == first.quote
    assert all("/b/" not in s for s in sources)
    payload = json.loads(json.dumps(answer.to_json()))
    assert payload["citations"][0]["also_in"] == [
        {"article_id": first.also_in[0].article_id, "title": first.title, "published": "2022-12-05", "source": first.also_in[0].source}
    ]
    assert answer_from_json(payload).citations[0].also_in == first.also_in  # Slack's stored answers keep them


def test_the_earliest_copy_is_cited_even_when_retrieval_found_the_later_one(bot, two_folders):
    # Now the copy in b/ is the older one: the citation moves there, with its own offsets.
    copy = two_folders / "b" / "wire_copy.txt"
    copy.write_text(SEED_FILE.read_text().replace("December 4, 2022", "December 1, 2022", 1).replace("\n\n", "\n\nBRUSSELS - ", 1))
    bot.index.sync([two_folders])
    first = bot.ask(QUESTION).citations[0]
    assert first.source == str(copy) and first.published.isoformat() == "2022-12-01"
    text = bot.index.store.chunks_of_articles([first.article_id])
    assert any(c.excerpt(first.start, first.end) == QUOTE for c in text if c.start <= first.start < c.end)
    assert [c.source for c in first.also_in] == [str(two_folders / "a" / SEED_FILE.name)]
    if first.highlight:
        assert first.start <= first.highlight[0] < first.highlight[1] <= first.end


def test_the_record_follows_a_copy_that_changes_or_goes(bot, two_folders):
    bot.index.sync([two_folders])
    copy = two_folders / "b" / "wire_copy.txt"
    # The copy's version of the cited sentence changes: it no longer carries that passage.
    copy.write_text(copy.read_text().replace(QUOTE, "Wendy R. Sherman, deputy secretary, headed the American side at the talks."))
    bot.index.sync([two_folders])
    assert [c for c in bot.ask(QUESTION).citations if c.quote == QUOTE and c.also_in] == []
    # The original goes: the copy (which carries the other sentences) stands alone.
    (two_folders / "a" / SEED_FILE.name).unlink()
    bot.index.sync([two_folders])
    assert all(not c.also_in for c in bot.ask("How many troops from Russia are massed close to the border?").citations)


def test_an_index_from_before_copies_gets_signatures_from_its_chunks(bot, two_folders):
    store = bot.index.store
    bot.index.sync([two_folders])
    records = store.articles.get(where={"kind": "article"}, include=["metadatas"])
    stripped = [{**m, "minhash": ""} for m in records["metadatas"]]
    store.put_article_records(records["ids"], stripped)
    store.set_meta(fields_version=1)
    assert store.copies_of(records["ids"]) == {}
    assert upgrade(store) == 2
    assert {len(found) for found in store.copies_of(records["ids"]).values()} == {1}


def test_marks_are_renumbered_when_citations_fold():
    assert renumber("Wendy R. [1] [2]", {1: 1, 2: 1}) == "Wendy R. [1]"
    assert renumber("A [1], B [3].", {1: 1, 2: 1, 3: 2}) == "A [1], B [2]."


def test_the_terminal_and_slack_say_also_in():
    from io import StringIO

    from rich.console import Console

    copy = Copy("b", "Talks", None, "https://www.apnews.com/article/talks")
    citation = Citation(
        "a", "Talks", None, "/news/a/talks.txt", QUOTE, 0, len(QUOTE), 0.5, also_in=(copy, Copy("c", "T", None, "/news/c/x.txt"))
    )
    answer = Answer("Wendy R. [1]", (citation,), True, question=QUESTION)
    out = StringIO()
    render_answer(answer, Console(file=out, width=200))
    assert "also in: https://www.apnews.com/article/talks, /news/c/x.txt" in out.getvalue()
    header = answer_blocks(answer, "id1")[1]["elements"][0]["text"]
    assert "· also in: <https://www.apnews.com/article/talks|apnews.com>, x.txt" in header
