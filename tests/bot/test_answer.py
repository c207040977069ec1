"""The answering contract's named constructors, and the chain leaving follow-ups to the answerer."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.answer import REFUSAL, Answer, Citation, Turn
from bot.chain import NewsBot
from indexing import NewsIndex

QUOTE = Citation("a.txt", "Talks", None, "a.txt", "Wendy R. Sherman led the delegation.", 0, 37, 0.8)


def test_a_refusal_cites_nothing_and_shows_its_closest_passages_apart():
    answer = Answer.refusal("Who won?", "Who won the cup?", confidence=0.2, closest=[QUOTE], trace={"why": "low"})
    assert (answer.text, answer.answered, answer.citations, answer.closest) == (REFUSAL, False, (), (QUOTE,))
    assert answer.to_json()["closest"][0]["quote"] == QUOTE.quote and answer.to_json()["standalone_question"] == "Who won the cup?"
    said = Answer.refusal("Who won?", text="No indexed article is from 'reuters.com'.")
    assert said.text == "No indexed article is from 'reuters.com'." and not said.answered and said.trace == {}


def test_an_answer_rests_on_at_least_one_span():
    answer = Answer.from_spans("Wendy R. Sherman [1]", [QUOTE], "Who led?", confidence=0.9)
    assert answer.answered and answer.citations == (QUOTE,) and answer.closest == () and answer.confidence == 0.9
    with pytest.raises(ValueError, match="refusal"):
        Answer.from_spans("Wendy R. Sherman", [], "Who led?", confidence=0.9)


class Condensing:
    """An answerer that only condenses (the chain must not ask which kind it is)."""

    name = "stand-in"

    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        self.asked.append((question, len(history)))
        return f"{question} (about {history[-1].question})"


def test_the_chain_asks_its_answerer_to_condense_a_follow_up(bot_settings):
    answerer = Condensing()
    bot = NewsBot(bot_settings, NewsIndex(bot_settings.index), answerer)  # type: ignore[arg-type]  (condenses only)
    assert bot.condense("and the Russian side?", [Turn("Who led the US delegation?", "Wendy R. Sherman [1]")]) == (
        "and the Russian side? (about Who led the US delegation?)"
    )
    assert bot.condense("Who won?", []) == "Who won?" and answerer.asked == [("and the Russian side?", 1)]
