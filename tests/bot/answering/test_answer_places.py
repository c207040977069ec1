"""The heuristic answerer's place answers end to end (real index, real NER): which state, which town, which country."""

from __future__ import annotations

import pytest

from bot.answering.places import country_of_demonym
from bot.chain import NewsBot
from bot.settings import BotSettings
from indexing.settings import SettingsSource
from testsupport.corpora import write_jsonl


@pytest.fixture
def ask(news_index, tmp_path):
    corpus = tmp_path / "places"
    corpus.mkdir()
    records = [
        {
            "url": "https://example.test/arrests",
            "title": "Arrests near a Pride event",
            "date": "2022-06-12",
            "text": "Police in Coeur d'Alene, a US town in Idaho, arrested 31 men near a Pride event on Saturday.",
        },
        {
            "url": "https://example.test/toys",
            "title": "Toy raid",
            "date": "2022-06-15",
            "text": "Saudi officials seized rainbow-colored toys and clothing from shops in the capital on Tuesday.",
        },
    ]
    write_jsonl(corpus / "news.jsonl", records)
    news_index.sync([corpus])
    env = {"NEWSBOT_DATA_DIR": str(tmp_path / "d"), "NEWSBOT_CONFIG": str(tmp_path / "none"), "NEWSBOT_ANSWERER": "heuristic"}
    bot = NewsBot(BotSettings.from_env(SettingsSource(env=env)), index=news_index)
    return lambda question: bot.ask(question)


def test_which_state_is_answered_with_the_state_and_which_town_with_the_town(ask):
    assert ask("In which state did police arrest 31 men near a Pride event?").text.startswith("Idaho")
    assert ask("In which town did police arrest 31 men?").text.startswith("Coeur d'Alene")


def test_which_country_is_answered_with_the_country_a_nationality_names(ask):
    answer = ask("Which country seized rainbow-colored toys from shops?")
    assert answer.text.startswith("Saudi Arabia"), answer.text
    citation = answer.citations[0]
    a, b = citation.highlight
    assert citation.quote.startswith("Saudi officials") and b - a == len("Saudi")  # the words the article uses


@pytest.mark.parametrize(
    ("demonym", "country"),
    [
        ("Saudi", "Saudi Arabia"),
        ("Sri Lankan", "Sri Lanka"),
        ("Chinese", "China"),
        ("Ukrainian", "Ukraine"),
        ("Italian", "Italy"),
        ("Nigerian", "Nigeria"),
        ("French", "France"),
        ("American", "United States"),
        ("North Korean", "North Korea"),
        ("Muslim", None),
        ("Republicans", None),
        ("South", None),
        ("European", None),
    ],
)
def test_country_of_a_demonym(demonym, country):
    assert country_of_demonym(demonym) == country
