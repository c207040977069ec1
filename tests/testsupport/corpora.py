"""Small realistic corpora the tests write: news-like prose, article files in each format."""

from __future__ import annotations

import json
from pathlib import Path

from indexing.settings import bundled_seeds_dir
from indexing.sources.files import read_file

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
SEED_FILE = bundled_seeds_dir() / "000_977251aafc5901a1.txt"


def article_text(path: Path) -> str:
    """The body citations' offsets point into (the file without its date and title lines)."""
    return read_file(path).articles[0].text


SEED_TEXT = article_text(SEED_FILE)

_PEOPLE = [
    "Mayor Alice Grant",
    "Dr. Omar Haddad",
    "Sen. Maria Lopez",
    "the finance minister",
    "union leaders",
    "the U.S. ambassador",
    "local residents",
    "the harbour authority",
    "Prof. Ken Ito",
    "the city council",
]
_VERBS = ["announced", "criticised", "approved", "delayed", "questioned", "welcomed", "rejected", "reviewed"]
_THINGS = [
    "a plan to expand the tram network",
    "the new budget for schools",
    "a proposal to raise water prices",
    "the contract for the bridge repairs",
    "an inquiry into the flooding",
    "the trade agreement with Norway",
    "a ban on night flights",
    "the strategy for wind power",
    "the merger of two hospitals",
    "a tax on sugar",
]
_TAILS = [
    "on Monday",
    "after a long debate",
    "despite strong objections",
    "in a statement on Friday",
    "at a press conference in the capital",
    "for the third time this year",
    "with immediate effect",
    "citing rising costs",
    "following months of talks",
    "before the summer recess",
]
_EXTRAS = [
    "Officials said the decision would cost about {n} million dollars.",
    "About {n} people attended the meeting, according to organisers.",
    "The vote was {n} to 12.",
    'Critics called it "a step in the wrong direction."',
    "Supporters said it was long overdue.",
    "A final decision is expected by {month}.",
    "It was not clear how the measure would be enforced.",
    "Turnout was {n} percent.",
]
_MONTHS = ["January", "March", "June", "September", "November"]


def news_text(seed: int, paragraphs: int = 3, sentences: int = 4) -> str:
    """Deterministic news-like prose: paragraphs of plausible sentences, different for every seed."""
    import random

    rng = random.Random(seed)
    paras = []
    for _ in range(paragraphs):
        parts = []
        for _ in range(sentences):
            if rng.random() < 0.6:
                parts.append(f"{rng.choice(_PEOPLE)} {rng.choice(_VERBS)} {rng.choice(_THINGS)} {rng.choice(_TAILS)}.")
                parts[-1] = parts[-1][0].upper() + parts[-1][1:]
            else:
                parts.append(rng.choice(_EXTRAS).format(n=rng.randint(2, 400), month=rng.choice(_MONTHS)))
        paras.append(" ".join(parts))
    return "\n\n".join(paras)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    """A JSON Lines file (articles or questions), one record a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def write_txt_article(folder: Path, name: str, title: str, body: str, published: str = "December 4, 2022") -> Path:
    """An article file in the seed convention (date line, title line, body)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"{published}\n\n{title}\n\n{body}\n", encoding="utf-8")
    return path
