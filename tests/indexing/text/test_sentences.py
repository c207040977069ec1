"""Sentence boundaries with exact character offsets."""

from __future__ import annotations

import pytest

from indexing.text.sentences import split_sentences


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Wendy R. Sherman led the U.S. delegation. Talks ended on Friday.",
            ["Wendy R. Sherman led the U.S. delegation.", "Talks ended on Friday."],
        ),
        (
            'Dr. Smith arrived at 3 p.m. on Monday. He left. "Really?" she asked. Yes!',
            ["Dr. Smith arrived at 3 p.m. on Monday.", "He left.", '"Really?" she asked.', "Yes!"],
        ),
        ("The price rose 3.5 percent. Then it fell.", ["The price rose 3.5 percent.", "Then it fell."]),
        ("Sen. Jones and Gov. Lee met Mr. Park. Nothing was agreed.", ["Sen. Jones and Gov. Lee met Mr. Park.", "Nothing was agreed."]),
        ("He said: “We will win.” The crowd cheered.", ["He said: “We will win.”", "The crowd cheered."]),
        ("The vote passed (narrowly.) Opponents left.", ["The vote passed (narrowly.)", "Opponents left."]),
        (
            "Headline here\nFirst sentence. Second one.\n\nNew paragraph.",
            ["Headline here", "First sentence.", "Second one.", "New paragraph."],
        ),
        ("It rained in 2022. 2023 was dry.", ["It rained in 2022.", "2023 was dry."]),
        ("no final punctuation", ["no final punctuation"]),
    ],
)
def test_sentence_boundaries(text, expected):
    assert sentences(text) == expected


def test_spans_are_exact_stripped_ordered_and_disjoint():
    text = "  First one.   Second one!\n\n  Third one?  \n"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["First one.", "Second one!", "Third one?"]
    for (_, e), (s2, _) in zip(spans, spans[1:]):
        assert e <= s2
    for s, e in spans:
        assert text[s:e] == text[s:e].strip()


def test_sub_range_offsets_are_absolute():
    text = "Ignore this. Keep this one. And this one. Ignore the tail."
    start = text.index("Keep")
    end = text.index(" Ignore the tail")
    spans = split_sentences(text, start, end)
    assert [text[s:e] for s, e in spans] == ["Keep this one.", "And this one."]
    assert spans[0][0] == start


def test_empty_and_blank_text():
    assert split_sentences("") == []
    assert split_sentences("   \n\n ") == []
