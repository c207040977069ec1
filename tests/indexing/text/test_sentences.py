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


# ---- text built to hang the splitter (issue 25, item 5) -----------------------------------------
HOSTILE = {  # name -> a Python expression, so a child process can build it
    "a million dots": '"The council met." + "." * 1_000_000 + " It ended."',
    "dots that end nothing": '"a" + "." * 1_000_000 + "b"',
    "marks then blanks": '"Hi" + "!?" * 200_000 + " " * 200_000 + "x"',
    "dot and blank": '". " * 500_000',
    "closing quotes": '"Yes." + chr(34) * 500_000 + " no"',
}


def test_runs_of_marks_split_in_linear_time():
    """In a child with a deadline: the old pattern took 6.5 s for 20,000 dots and hours for a million."""
    import subprocess
    import sys
    import time

    from testsupport.cli import REPO

    code = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from indexing.text.sentences import split_sentences\n"
        f"texts = [{', '.join(HOSTILE.values())}]\n"
        "began = time.perf_counter()\n"
        "for text in texts: split_sentences(text)\n"
        "print(time.perf_counter() - began)"
    )
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code, str(REPO)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 2.0, f"{done.stdout.strip()} s for {len(HOSTILE)} texts of ~1M characters"
    assert time.monotonic() - began < 30


def test_filler_belongs_to_no_sentence():
    text = eval(HOSTILE["a million dots"])  # noqa: S307 - the test's own expression
    assert sentences(text) == ["The council met...", "It ended."]
    rule = "A short rule.\n" + "=" * 40 + "\nNext one. ----- Kept: a short rule is text."
    assert sentences(rule) == ["A short rule.", "Next one. ----- Kept: a short rule is text."]
    assert sentences(". " * 500_000) == []
