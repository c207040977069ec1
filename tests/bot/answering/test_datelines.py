"""A news article's dateline (bot.answering.datelines): where the story starts after it, and no dateline
found in an opening that is the story itself."""

from __future__ import annotations

import pytest

from bot.answering.datelines import dateline_end


@pytest.mark.parametrize(
    ("text", "dateline"),
    [
        ("Marlow NewsWire Arts —\n\nThe Kestrel Gallery reopened.", "Marlow NewsWire Arts —\n\n"),
        ("NewsWire —\n\nVaccine advisers voted on Wednesday.", "NewsWire —\n\n"),
        ('SEOUL (NewsWire) — "Harbor Lights" is coming back.', "SEOUL (NewsWire) — "),
        ("LONDON, June 5 (Wire) - Britain's economy grew.", "LONDON, June 5 (Wire) - "),
        ("(NewsWire) — The talks resumed.", "(NewsWire) — "),
        ("TARSAY, Scotland — The ferry sailed again.", "TARSAY, Scotland — "),
        ("Associated Press\n\nWASHINGTON – The tax season opens early.", "Associated Press\n\nWASHINGTON – "),
        ("Reuters\n\nShares of the carmaker fell.", "Reuters\n\n"),  # a credit, no dateline
    ],
)
def test_the_story_starts_after_the_dateline(text, dateline):
    assert text[: dateline_end(text)] == dateline


@pytest.mark.parametrize(
    "text",
    [
        "Tesla — the electric carmaker — said on Monday it would cut prices.",
        "NASA — the space agency — delayed the launch.",
        "The best photos from the awards\n\nThe best photos from the awards",
        "Mayor Alice Grant said the council — after a long debate — approved the plan.",
        "The ferry service between Port Ellen and Tarsay was suspended on Tuesday.",
        "Reuters reported on Monday that the carmaker would cut prices.",  # the agency in the story
        "A long first line of the story that runs on and on without a dash at all and names places —\nthen more.",
    ],
)
def test_an_opening_that_is_the_story_has_no_dateline(text):
    assert dateline_end(text) == 0
