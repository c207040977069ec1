"""The answering chain over the real seed index: answers, verbatim quotes, refusals, follow-ups."""

from __future__ import annotations

import pytest

from bot.answer import Answer, Turn
from bot.answering.condense import condense_offline, needs_context, own_question
from bot.chain import NewsBot
from bot.langchain import NewsRetriever, as_runnable
from testsupport.corpora import SEED_FILE, SEED_TEXT


@pytest.fixture(scope="module")
def bot(seed_index, tmp_path_factory):
    """The seed article, answered by the default answerer (the reader)."""
    return seed_bot(seed_index, tmp_path_factory, {})


@pytest.fixture(scope="module")
def heuristic_bot(seed_index, tmp_path_factory):
    return seed_bot(seed_index, tmp_path_factory, {"NEWSBOT_ANSWERER": "heuristic"})


def seed_bot(seed_index, tmp_path_factory, env: dict[str, str]) -> NewsBot:
    from bot.settings import BotSettings
    from indexing.settings import SettingsSource

    data = tmp_path_factory.mktemp("bot")
    env = {"NEWSBOT_DATA_DIR": str(data), "NEWSBOT_CONFIG": str(data / "none"), **env}
    return NewsBot(BotSettings.from_env(SettingsSource(env=env)), index=seed_index)


# The article names two leaders of the Russian side and calls the US one two ways.
RUSSIAN_LEAD = ("Sergei A.", "Alexander V")
US_LEAD = ("Wendy R.", "Ms Sherman", "Sherman")


def assert_verbatim(answer: Answer) -> None:
    for citation in (*answer.citations, *answer.closest):
        assert SEED_TEXT[citation.start : citation.end] == citation.quote
        if citation.highlight:
            a, b = citation.highlight
            assert citation.start <= a < b <= citation.end


@pytest.mark.parametrize(
    "question, expected",
    [
        ("Which official headed the American delegation at the talks?", US_LEAD),
        ("How many troops from Russia are massed close to the border?", ("100,000",)),
        ("In which city did NATO hold the talks on Wednesday?", ("Brussels",)),
        ("For how long did NATO and Russia talk?", ("four hours",)),
        ("Who is the secretary general of NATO?", ("Stoltenberg",)),
    ],
)
def test_answers_with_the_span_and_a_verbatim_citation(bot, question, expected):
    answer = bot.ask(question)
    assert answer.answered, answer.trace
    said = [e for e in expected if e in answer.text]
    assert said, (answer.text, expected)
    assert answer.text.endswith("[1]")
    first = answer.citations[0]
    assert said[0] in first.quote
    assert first.highlight is not None
    a, b = first.highlight
    assert SEED_TEXT[a:b] in answer.text
    assert first.title.startswith("Russia, NATO talks")
    assert first.published.isoformat() == "2022-12-04"
    assert_verbatim(answer)


@pytest.mark.parametrize(
    "question",
    ["Who won the 2022 FIFA World Cup?", "What is the recipe for a good sourdough starter?", "How many goals did Messi score in 2012?"],
)
def test_refuses_when_the_articles_do_not_say(bot, question):
    answer = bot.ask(question)
    assert not answer.answered
    assert answer.citations == ()
    assert "do not contain" in answer.text
    assert answer.closest, "the closest passages are still offered, labelled as not supporting"
    assert_verbatim(answer)
    assert answer.to_json()["citations"] == []
    assert len(answer.to_json()["closest"]) == len(answer.closest)


def test_follow_up_is_condensed_from_earlier_turns(bot):
    first = bot.ask("Who led the US delegation to the talks?")
    follow = bot.ask("and who led the Russian side?", [Turn(first.question, first.text)])
    assert follow.standalone_question != follow.question
    assert "US delegation" in follow.standalone_question
    assert follow.answered and any(name in follow.text for name in RUSSIAN_LEAD), follow.text
    assert len(follow.text) < 40, "a name, not the sentence about the US delegation"
    assert_verbatim(follow)


def test_an_elliptical_follow_up_asks_for_what_the_last_full_question_asked(bot):
    first = bot.ask("Who led the US delegation to the talks?")
    history = [Turn(first.question, first.text)]
    follow = bot.ask("and the Russian side?", history)
    assert follow.answered and follow.text.startswith(RUSSIAN_LEAD), follow.text  # a person, not a sentence
    history.append(Turn(follow.question, follow.text))
    # Two turns on, still a person; and an earlier answer can be the answer again.
    again = bot.ask("what about the US delegation?", history)
    assert again.text.startswith(US_LEAD), again.text
    assert_verbatim(follow)


def test_condensation_only_when_the_question_leans_on_history():
    history = [Turn("Who led the US delegation to the talks?", "Wendy R. [1]")]
    assert needs_context("when was that?")
    assert not needs_context("How many members does NATO have?")
    assert condense_offline("How many members does NATO have?", history) == "How many members does NATO have?"
    condensed = condense_offline("when was that?", history)
    assert condensed.startswith("when was that?") and "Wendy R." in condensed and "[1]" not in condensed
    # What the reader reads: a follow-up that asks on its own after a link word, without the link.
    assert own_question("and who led the Russian side?") == "who led the Russian side?"
    assert own_question("when was that?") is None and own_question("and then?") is None


def test_json_shape(bot):
    payload = bot.ask("Who led the US delegation to the talks?").to_json()
    assert set(payload) >= {"question", "answer", "answered", "citations"}
    assert payload["answered"] is True
    citation = payload["citations"][0]
    assert citation["n"] == 1
    assert set(citation) >= {"article_id", "title", "published", "source", "quote", "start", "end", "score"}
    assert citation["published"] == "2022-12-04"
    assert SEED_TEXT[citation["start"] : citation["end"]] == citation["quote"]


def test_the_chain_is_a_langchain_runnable(bot):
    runnable = as_runnable(bot)
    answer = runnable.invoke({"question": "How many members does NATO have?", "history": []})
    assert isinstance(answer, Answer) and "30" in answer.text
    batch = runnable.batch(["Who is the NATO Secretary-General?"])
    assert "Stoltenberg" in batch[0].text
    # "as_of" (a date or YYYY-MM-DD): before the seed article was published, nothing answers.
    early = runnable.invoke({"question": "How many members does NATO have?", "as_of": "2022-11-01"})
    assert not early.answered and early.closest == ()
    documents = NewsRetriever.from_bot(bot).invoke("How many members does NATO have?")
    assert len(documents) == bot.settings.top_k and documents[0].metadata["chunk_id"]


@pytest.mark.parametrize("answerer, stage, order", [("reader", "reader", "rank"), ("heuristic", "sentences", "score")])
def test_explain_trace_has_every_stage(bot, heuristic_bot, answerer, stage, order):
    chosen = {"reader": bot, "heuristic": heuristic_bot}[answerer]
    assert chosen.answerer.name == answerer
    answer = chosen.ask("Who led the US delegation to the talks?", explain=True)
    retrieval = answer.trace["retrieval"]
    assert retrieval["dense"] and retrieval["keyword"] and retrieval["fused"]
    assert all("similarity" in row for row in retrieval["dense"])
    rows = answer.trace[stage]
    assert len(rows) > 1 and rows[0][order] >= rows[-1][order], "the answerer's candidates, best first"


QUESTIONS_WITH_SPANS = [
    "Which official headed the American delegation at the talks?",
    "How many troops from Russia are massed close to the border?",
    "In which city did NATO hold the talks on Wednesday?",
    "For how long did NATO and Russia talk?",
    "Who is the NATO Secretary-General?",
    "When did the talks take place?",
]


def test_ner_stops_early_without_changing_any_answer(heuristic_bot, monkeypatch):
    bot = heuristic_bot
    import bot.answering.entities as ner
    import bot.answering.heuristic as extractive

    seen: list[int] = []
    real = ner.entities

    def counting(texts):
        seen.append(len(texts))
        return real(texts)

    monkeypatch.setattr(ner, "entities", counting)
    early = [bot.ask(q) for q in QUESTIONS_WITH_SPANS]
    early_sentences = sum(seen)
    seen.clear()
    monkeypatch.setattr(extractive, "_NER_BATCH", 100)  # one batch: every top sentence, no early stop
    exhaustive = [bot.ask(q) for q in QUESTIONS_WITH_SPANS]
    assert [(a.text, a.citations, a.confidence) for a in early] == [(a.text, a.citations, a.confidence) for a in exhaustive]
    assert early_sentences < sum(seen), "the bound never stopped the NER early"


@pytest.mark.parametrize("answerer", ["bot", "heuristic_bot"])
def test_citation_scores_are_relevance_on_one_zero_to_one_scale(answerer, request):
    chosen: NewsBot = request.getfixturevalue(answerer)
    answered = chosen.ask("Who led the US delegation?")
    refused = chosen.ask("Who won the 2022 FIFA World Cup?")
    shown = [*answered.citations, *refused.closest]
    assert answered.citations and refused.closest
    assert all(0.0 <= c.score <= 1.0 for c in shown), [c.score for c in shown]
    assert all(c.to_json(1)["score"] == round(c.score, 4) for c in shown)
