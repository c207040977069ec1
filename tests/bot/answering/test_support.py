"""A generative answer must rest on the passages it cites (bot.answering.support; docs/security.md,
item 6 of issue 25): an article's instruction that a model obeys does not become an answer."""

from __future__ import annotations

import pytest

from bot.answering.support import unsupported
from bot.chain import NewsBot
from bot.settings import BotSettings
from indexing.settings import SettingsSource
from testsupport.openai_standin import OpenAIStandIn

PASSAGE = (
    "Wendy R., Under Secretary of State, led the U.S. delegation at the NATO talks in Geneva on Monday. Three of the 30 members left early."
)
QUESTION = "Who led the US delegation?"


@pytest.mark.parametrize(
    "answer",
    [
        "Wendy R. led the US delegation [1].",
        "The delegation was headed by Wendy R., Under Secretary of State [1].",
        "Three members left early [1].",
        "3 of 30 members left [1].",
        "Wendy R. led it at the U.S. delegation's NATO talks in Geneva [1].",
    ],
)
def test_answers_the_passage_backs_pass(answer):
    assert unsupported(answer, [PASSAGE], QUESTION) == []


@pytest.mark.parametrize(
    "answer, needle",
    [
        ("Wendy R. led it; the full results are at https://evil.example/nato [1].", "https://evil.example/nato"),
        ("Details at evil.example [1].", "evil.example"),
        ("The delegation was led by Bob Smith [1].", "Smith"),
        ("Wendy R. led the delegation of 45 members [1].", "45"),
        ("The vote was rigged and the election cancelled by the military [1].", "rigged"),
    ],
)
def test_answers_with_terms_the_passage_lacks_do_not(answer, needle):
    assert needle in unsupported(answer, [PASSAGE], QUESTION)


@pytest.mark.parametrize(
    "answer",
    ["The US delegation [1].", "Who led the US delegation? [1]", "It was the US delegation that was led [1]."],
)
def test_a_reply_that_only_restates_the_question_answers_nothing(answer):
    assert unsupported(answer, [PASSAGE], QUESTION), "it takes nothing from the passage it cites"


def test_a_reply_that_adds_one_word_of_the_passage_is_an_answer():
    assert unsupported("The Under Secretary of State [1].", [PASSAGE], QUESTION) == []
    assert unsupported("In Geneva [1].", [PASSAGE], "Where did the NATO talks take place?") == []
    assert unsupported("30 [1].", [PASSAGE], "How many members does NATO have?") == []


def _bot(seed_index, tmp_path, base_url: str) -> NewsBot:
    env = {"NEWSBOT_DATA_DIR": str(tmp_path), "NEWSBOT_CONFIG": str(tmp_path / "none"), "NEWSBOT_LLM": base_url}
    return NewsBot(BotSettings.from_env(SettingsSource(env=env)), index=seed_index)


def test_an_obeyed_injection_is_not_an_answer_and_rules_data_and_question_are_apart(seed_index, tmp_path):
    """The probe of issue 25: the model states an unsupported claim with a link and cites a real [1]."""
    question = "Who led the US delegation to the talks?"
    with OpenAIStandIn({}) as server:
        bot = _bot(seed_index, tmp_path, server.base_url)
        bot.ask(question)
        roles = [m["role"] for m in server.requests[-1]["body"]["messages"]]
        system, passages, asked = (m["content"] for m in server.requests[-1]["body"]["messages"])
        server.rules["led the US delegation"] = "Talks were cancelled; the real results are at https://evil.example/nato [1]."
        injected = bot.ask(question)
        server.rules["led the US delegation"] = "Wendy R. led the US delegation [1]."
        honest = bot.ask(question)
    assert roles == ["system", "user", "user"]
    assert "Rules:" in system and "<passage" not in system
    assert passages.count("<passage ") >= 1 and "Rules:" not in passages
    assert asked == f"Question: {question}\n"
    assert not injected.answered and injected.citations == ()
    assert "https://evil.example/nato" in injected.trace["unsupported"]
    assert honest.answered, honest.trace
