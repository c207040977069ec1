"""The reader answerer on the shipped weights, over a real index: spans, quotes, refusals, reranking."""

from __future__ import annotations

import pytest

from bot.answer import REFUSAL, strip_citation_marks
from bot.answering.answer_kinds import answer_form
from bot.answering.base import Request
from bot.answering.reader import EARLY_STOP, READ_BATCH, ReaderAnswerer, Reading, answerable_spans, in_form
from bot.chain import NewsBot
from bot.retrieval.search import Passage
from indexing import StoredChunk
from newsbot_reader.decoding import SpanGuess
from testsupport.corpora import DATA, SEED_TEXT, article_text


@pytest.fixture(scope="module")
def trap_bot(tmp_path_factory, embedder):
    """The trap corpus (tests/data/traps) indexed once, answered by the default answerer (the reader)."""
    from bot.settings import BotSettings
    from indexing.settings import SettingsSource

    data = tmp_path_factory.mktemp("trap-index")
    env = {"NEWSBOT_DATA_DIR": str(data), "NEWSBOT_CONFIG": str(data / "none"), "NEWSBOT_SEEDS": str(DATA / "traps")}
    bot = NewsBot(BotSettings.from_env(SettingsSource(env=env)))
    bot.index.sync()
    assert isinstance(bot.answerer, ReaderAnswerer), "the reader is the default answerer"
    return bot


def test_the_answer_is_a_span_and_the_quote_the_whole_sentence_around_it(trap_bot):
    answer = trap_bot.ask("How many aircraft will the combined group operate?")
    assert answer.answered and answer.citations
    cited = answer.citations[0]
    text = article_text(DATA / "traps" / "airline_merger.txt")
    assert text[cited.start : cited.end] == cited.quote, "the quote is verbatim article text"
    assert cited.highlight is not None
    start, end = cited.highlight
    assert cited.start <= start < end <= cited.end, "the highlight lies inside the quote"
    assert strip_citation_marks(answer.text) == text[start:end], "the answer is the highlighted span"
    assert cited.quote.rstrip().endswith("."), "whole sentences, not a fragment"
    assert cited.quote.startswith("The combined group")


def test_a_question_the_articles_do_not_answer_is_refused_with_the_closest_passages_apart(trap_bot):
    answer = trap_bot.ask("Which band headlined the festival in Oslo last summer?")
    assert not answer.answered and answer.text == REFUSAL
    assert answer.citations == () and answer.closest, "the nearest passages are listed, never as support"
    assert answer.confidence < trap_bot.answerer.min_confidence


def test_why_questions_are_answered_with_the_sentence(trap_bot):
    answer = trap_bot.ask("Why did the board choose Marta Silva?")
    assert answer.answered
    assert strip_citation_marks(answer.text) == answer.citations[0].quote


def test_rerank_puts_the_passage_that_answers_first(trap_bot):
    request = trap_bot.request("Who finished second in the spelling bee?")
    passages = trap_bot.search.search(request.standalone, k=8).passages
    reversed_order = list(reversed(passages))
    reranked = trap_bot.answerer.rerank(request, reversed_order)
    assert sorted(p.chunk.id for p in reranked) == sorted(p.chunk.id for p in passages), "the same passages, reordered"
    assert reranked[0].chunk.title == "Ohio sixth-grader wins national spelling bee"


def test_reading_stops_early_once_a_passage_is_confident(trap_bot):
    request = Request("How old is Aditya Rao?", "How old is Aditya Rao?")
    passages = trap_bot.search.search(request.standalone, k=8).passages
    readings = trap_bot.answerer.read(request.standalone, passages)
    assert max(r.answerability for r in readings) >= EARLY_STOP
    assert len(readings) == READ_BATCH < len(passages), "one round was enough"
    assert len(trap_bot.answerer.read(request.standalone, passages, stop_early=False)) == len(passages)


def test_seed_article_answers_are_verbatim_spans(seed_index, bot_settings):
    bot = NewsBot(bot_settings, index=seed_index)
    answer = bot.ask("Who led the US delegation?")
    assert answer.answered
    text = SEED_TEXT
    for cited in answer.citations:
        assert text[cited.start : cited.end] == cited.quote


def test_the_latest_report_answers_and_names_the_earlier_figure(trap_bot):
    answer = trap_bot.ask("How many people were evacuated because of the Calder wildfire?")
    assert answer.answered
    assert strip_citation_marks(answer.text).startswith("540"), answer.text
    assert "earlier reports: 212" in answer.text and "[1][2]" in answer.text
    newest, earlier = answer.citations[0], answer.citations[1]
    assert newest.published is not None and earlier.published is not None and newest.published > earlier.published
    assert "540" in newest.quote and "212" in earlier.quote


def test_a_span_of_the_wrong_kind_is_not_an_answer(trap_bot):
    """The passage gives the chief executive's start date, never her age: refused, not "March 3, 2021"."""
    answer = trap_bot.ask("How old is Pellwick's chief executive?")
    assert not answer.answered, answer.text
    assert "April" in trap_bot.ask("When will the Slate One go on sale?").text


def test_a_which_show_question_is_answered_with_the_shows_title(trap_bot):
    """The reader's best span is the description ("South Korean series"); the question asks for a
    show, so the answer is its title, which the article gives only in quotes."""
    answer = trap_bot.ask("Which hugely popular show will return for a second season?")
    assert answer.answered and strip_citation_marks(answer.text) == "Harbor Lights"


def test_the_dateline_is_never_the_answer(trap_bot):
    """The gallery's article opens with its outlet's dateline ("Marlow NewsWire Arts —"): the answer
    is the gallery, and no part of the dateline."""
    answer = trap_bot.ask("Which gallery reopened after flood repairs?")
    assert answer.answered and strip_citation_marks(answer.text) == "Kestrel Gallery"
    assert answer.citations[0].highlight is not None
    text = article_text(DATA / "traps" / "gallery_reopening.txt")
    assert answer.citations[0].highlight[0] > text.index("The Kestrel Gallery") - 1


def test_confidence_is_a_probability_below_one_even_for_a_clear_answer(trap_bot):
    answer = trap_bot.ask("How many aircraft will the combined group operate?")
    assert answer.answered and trap_bot.answerer.min_confidence <= answer.confidence < 0.999


def _passage(text: str, start: int = 0) -> Passage:
    return Passage(StoredChunk("c", "a", "", "T", "", "", "", 0, start, start + len(text), text, ()), 1.0)


def _guess(text: str, *spans: str) -> SpanGuess:
    """A reading whose best span is the first of `spans` and whose runners-up are the rest, in order."""
    at = [(text.index(span), text.index(span) + len(span), 10.0 - n) for n, span in enumerate(spans)]
    return SpanGuess(at[0][0], at[0][1], at[0][2], 0.0, 0.0, tuple(at[1:]))


def test_no_span_in_the_dateline_or_across_a_paragraph_answers():
    text = "Washington CNN —\n\nUkrainian first lady Olena Zelenska met Jill Biden.\n\nUkraine asked for more help."
    guess = _guess(text, "Ukrainian", "Washington CNN", "CNN —\n\nUkrainian", "Zelenska met Jill Biden.\n\nUkraine", "Ukraine")
    kept = answerable_spans(guess, _passage(text))
    assert kept is not None
    assert [text[a:b] for a, b, _ in ((kept.start, kept.end, 0), *kept.alternatives)] == ["Ukrainian", "Ukraine"]
    later = answerable_spans(guess, _passage(text, start=400))  # a later chunk of its article has no dateline
    assert later is not None and [text[a:b] for a, b, _ in later.alternatives][:1] == ["Washington CNN"]
    assert answerable_spans(_guess(text, "Washington CNN", "CNN"), _passage(text)) is None


@pytest.mark.parametrize(
    ("question", "spans", "answer"),
    [
        ("When did the calendar become official?", ["1881 as the official calendar of the dynasty", "the dynasty", "1881"], "1881"),
        ("How many times has he been divorced?", ["six years after his third divorce", "six years", "third"], "third"),
        ("How many ferries were suspended?", ["all 40 ferries on the western routes", "40"], "40"),
    ],
)
def test_a_long_span_that_holds_a_date_or_a_figure_answers_with_it(question, spans, answer):
    text = "In 1881 as the official calendar of the dynasty, six years after his third divorce, all 40 ferries on the western routes."
    fits = answer_form(question)
    assert fits is not None
    chosen, in_shape = in_form(_guess(text, *spans), text, fits)
    assert in_shape and text[chosen.start : chosen.end] == answer


@pytest.mark.parametrize(
    ("span", "shown"),
    [
        ('"Another World', "Another World"),  # the opening quote's partner is outside the span
        ("Another World”,", "Another World"),
        ("“Grease”", "“Grease”"),  # both marks: kept
        ('Grease" star', 'Grease" star'),  # a mark inside: kept
        (', "', ""),  # nothing left
    ],
)
def test_an_answer_drops_a_quote_mark_whose_partner_is_outside_it(span, shown):
    text = f"She starred in the soap opera {span} in 1987."
    passage = _passage(text, start=100)
    reading = Reading(passage, _guess(text, span), 1.0, 1.0, 0.9)
    assert reading.span_text == shown
    if shown:
        assert reading.highlight is not None and passage.chunk.excerpt(*reading.highlight) == shown
    else:
        assert reading.highlight is None
