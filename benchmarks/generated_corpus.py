"""A deterministic generated news corpus in the seed format, for benchmarks run without the evaluation data."""

from __future__ import annotations

import random
from pathlib import Path

_FIRST = ["Alice", "Omar", "Maria", "Ken", "Priya", "Lars", "Fatima", "Diego", "Mei", "Tomasz", "Grace", "Kwame"]
_LAST = ["Grant", "Haddad", "Lopez", "Ito", "Raman", "Nilsen", "Okafor", "Silva", "Chen", "Nowak", "Byrne", "Mensah"]
_ROLES = ["Mayor", "Finance Minister", "Sen.", "Dr.", "Prof.", "Chief Executive", "Police Chief", "Gov.", "Judge"]
_PLACES = ["Lisbon", "Nairobi", "Osaka", "Calgary", "Krakow", "Porto Alegre", "Dundee", "Hobart", "Accra", "Tampere"]
_ORGS = [
    "the city council",
    "the health ministry",
    "the central bank",
    "the transport authority",
    "the teachers' union",
    "the energy regulator",
    "the port authority",
    "the national weather service",
    "the supreme court",
    "a citizens' group",
]
_TOPICS = [
    "a plan to extend the tram network",
    "the new budget for public schools",
    "a proposal to raise water prices",
    "the contract for repairing the harbour bridge",
    "an inquiry into last spring's floods",
    "a trade agreement with Norway",
    "a ban on night flights",
    "the strategy for offshore wind power",
    "the merger of two regional hospitals",
    "a tax on sugary drinks",
    "new rules for short-term rentals",
    "the closure of a coal power station",
]
_VERBS = ["announced", "criticised", "approved", "postponed", "questioned", "welcomed", "rejected", "defended", "outlined"]
_WHEN = [
    "on Monday",
    "on Tuesday evening",
    "late on Wednesday",
    "on Thursday",
    "in a statement on Friday",
    "over the weekend",
    "at a press conference",
    "during a heated session",
    "after months of negotiation",
]
_SENTENCES = [
    "{role} {first} {last} {verb} {topic} {when}.",
    "{org_cap} {verb} {topic} {when}, saying the decision could not wait any longer.",
    "Officials in {place} estimated that the measure would cost about {n} million dollars over {k} years.",
    "About {n} people gathered outside the offices of {org} to protest against {topic}.",
    '"We have listened to everyone, and this is the fairest outcome," {first} {last} told reporters.',
    "Critics argued that {topic} would hurt families on low incomes in {place} and beyond.",
    "The vote passed by {n} to {k}, with several members abstaining.",
    "According to figures released by {org}, prices rose by {k}.{n2} percent in the year to {month}.",
    "A final decision is expected in {month}, once {org} has published its review.",
    "It was not immediately clear how the new rules would be enforced, or who would pay for them.",
    "{first} {last}, who has led {org} since {year}, said the changes were long overdue.",
    "Residents of {place} said they had first raised their concerns more than {k} years ago.",
    "The opposition called for an independent inquiry and demanded that {role} {last} appear before parliament.",
    "Analysts said the announcement was likely to shape the debate ahead of next year's elections.",
]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


def _sentence(rng: random.Random) -> str:
    org = rng.choice(_ORGS)
    text = rng.choice(_SENTENCES).format(
        role=rng.choice(_ROLES),
        first=rng.choice(_FIRST),
        last=rng.choice(_LAST),
        verb=rng.choice(_VERBS),
        topic=rng.choice(_TOPICS),
        when=rng.choice(_WHEN),
        org=org,
        org_cap=org[0].upper() + org[1:],
        place=rng.choice(_PLACES),
        n=rng.randint(12, 950),
        n2=rng.randint(0, 9),
        k=rng.randint(2, 19),
        month=rng.choice(_MONTHS),
        year=rng.randint(1998, 2021),
    )
    return text[0].upper() + text[1:]


def generate_corpus(folder: Path, articles: int, seed: int = 2022) -> None:
    """`articles` .txt files in the seed convention, 4-7 paragraphs of 3-6 sentences each."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(articles):
        day = 1 + i % 28
        month = _MONTHS[i % 12]
        title = f"{rng.choice(_PLACES)}: {rng.choice(_ORGS)} {rng.choice(_VERBS)} {rng.choice(_TOPICS)}"
        paragraphs = [" ".join(_sentence(rng) for _ in range(rng.randint(3, 6))) for _ in range(rng.randint(4, 7))]
        body = "\n\n".join(paragraphs)
        (folder / f"{i:05d}.txt").write_text(f"{month} {day}, 2022\n\n{title[0].upper() + title[1:]}\n\n{body}\n", encoding="utf-8")
