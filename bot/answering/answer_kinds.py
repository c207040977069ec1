"""What kind of span answers a question, judged by its words: the question's form is evidence.

"How old" wants an age, never a date; "how much did it cost" a sum of money, never a percentage;
"when" a date or a time; "who" and "where" a name or a noun phrase, never a bare number or a day.
A span of the wrong kind is not the answer (the reader then looks at its runners-up, and refuses
when none has the kind). Checks are plain patterns on the span's words, fast enough for every
candidate span of every passage, and they only rule out: a span that passes may still be wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.answering.places import country_of_demonym, is_country
from bot.answering.question import AGE, COUNTRY, DURATION, MONEY, NOT_AN_AUXILIARY, NUMBER, ORG, PERSON, PLACE, SHARE, TIME, expected_types

SpanCheck = Callable[[str], bool]

_AMOUNT_OF_TIME = re.compile(
    r"\b(\d[\d,.]*|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|few|many|dozens?|hundreds?)"
    r"[\s-]+(more\s+)?(seconds?|minutes?|hours?|days?|nights?|weeks?|months?|years?|decades?|centuries)\b",
    re.I,
)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
    r"|hundreds?|thousands?|millions?|billions?|dozens?|half|quarter|third)\b",
    re.I,
)
_MONEY = re.compile(
    r"[$€£¥₹]|\b(dollars?|euros?|pounds?|yen|yuan|rupees?|francs?|cents?|pence|usd|eur|gbp|million|billion|trillion|bn|m)\b", re.I
)
_PERCENT = re.compile(r"%|\bper ?cent\b|\bpercentage points?\b", re.I)
_SHARE_WORDS = re.compile(r"\b(half|a third|two[- ]thirds|a quarter|three[- ]quarters|one in \w+|\w+ in (ten|\d+))\b", re.I)
_MONTH = r"jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t|tember)?|oct(ober)?|nov(ember)?|dec(ember)?"
_WEEKDAY = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_CALENDAR = re.compile(rf"\b({_MONTH}|{_WEEKDAY})\b\.?", re.I)
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)s?\b")
_TIME_WORDS = re.compile(
    r"\b(today|yesterday|tomorrow|tonight|morning|afternoon|evening|night|noon|midnight|week|weekend|month|year|decade|century|"
    r"centuries|ago|spring|summer|autumn|fall|winter|season|quarter|era|age|period|dynasty|reign|war|times?|later|earlier|"
    r"since|until|before|after|during|when|dawn|dusk|hours?|minutes?|days?|bc|bce|ad|ce)\b|\d{1,2}[:.]\d{2}|\b[ap]\.?m\b|\d(st|nd|rd|th)\b",
    re.I,
)
_LETTERS = re.compile(r"[A-Za-z]{2,}")
_AGE_WORDS = re.compile(r"\b(years?[- ]old|aged?|years?)\b", re.I)


def is_amount_of_time(text: str) -> bool:
    """ "four hours", "3 months", "a decade": an answer to "how long", unlike "the end of September"."""
    return bool(_AMOUNT_OF_TIME.search(text))


def has_number(text: str) -> bool:
    return bool(_NUMBER.search(text))


def is_percentage(text: str) -> bool:
    return has_number(text) and bool(_PERCENT.search(text))


def is_money(text: str) -> bool:
    """ "$1.2 billion", "45 million euros": an answer to "how much did it cost", unlike "55,000" seats or "24 percent"."""
    return has_number(text) and bool(_MONEY.search(text)) and not _PERCENT.search(text)


def is_date(text: str) -> bool:
    """A day, a month or a year is named: "March 3", "Monday", "in 2019"."""
    return bool(_CALENDAR.search(text) or _YEAR.search(text))


def is_time(text: str) -> bool:
    """An answer to "when": a date, a year, or words for a time ("last week", "after the war", "3:15 p.m.")."""
    return is_date(text) or bool(_TIME_WORDS.search(text))


def is_year(text: str) -> bool:
    """An answer to "in what year": one year ("2002", "in 1998"), not a span of several ("2012 to 2018")."""
    return len({m.group(1) for m in _YEAR.finditer(text)}) == 1


def is_age(text: str) -> bool:
    """ "48", "48-year-old", "aged 48", "in her fifties": a number of years, not a date."""
    if not has_number(text) or _PERCENT.search(text) or _MONEY.search(text) and not _AGE_WORDS.search(text):
        return False
    return not (_CALENDAR.search(text) or _YEAR.search(text) and not _AGE_WORDS.search(text))


def is_count(text: str) -> bool:
    """An answer to "how many": a number that is neither a date nor a percentage."""
    return has_number(text) and not _PERCENT.search(text) and not is_date(text)


def is_count_of_things(text: str) -> bool:
    """An answer to "how many people" or "how many times": a count, and no amount of time ("six years")."""
    return is_count(text) and not is_amount_of_time(text)


def is_quantity(text: str) -> bool:
    """An answer to "how much" (not money) or "how large": a number, not a date."""
    return has_number(text) and not is_date(text)


def is_share(text: str) -> bool:
    return is_percentage(text) or bool(_SHARE_WORDS.search(text))


def is_duration(text: str) -> bool:
    """An answer to "how long": an amount of time or a measure ("four hours", "1.2 km"), never a day."""
    return is_amount_of_time(text) or (has_number(text) and not is_date(text))


def is_name_or_phrase(text: str) -> bool:
    """An answer to "who" or "where": words, not a bare number, a sum, a share or a date."""
    if not _LETTERS.search(text):
        return False
    if is_money(text) or is_percentage(text):
        return False
    words = _LETTERS.findall(text)
    calendar = sum(bool(_CALENDAR.fullmatch(w)) for w in words)
    return not (calendar and calendar == len(words)) and not (_YEAR.search(text) and len(words) <= 1)


_POSSESSIVE = re.compile(r"['’]s?$")


def is_demonym(text: str) -> bool:
    """ "South Korean", "Saudi Arabian", "Chinese": a nationality word on its own, which names no place
    and no thing ("the Chinese government" is a noun phrase; "China's" is the country)."""
    name = _POSSESSIVE.sub("", text.strip(" .,;:"))
    words = name.split()
    if not words or len(words) > 3 or not all(w[:1].isupper() for w in words):
        return False
    return not is_country(name) and country_of_demonym(name) is not None


def is_place_name(text: str) -> bool:
    """An answer to "where" or "which country": a name or a noun phrase, not a nationality word."""
    return is_name_or_phrase(text) and not is_demonym(text)


_LIST_SEPARATOR = re.compile(r"\s*(?:,|&|\band\b)\s*")


def is_country_name(text: str) -> bool:
    """ "Japan", "the UK", "Italy's", "Sweden and Finland": countries' names, for "which country"
    (looser: is_place_name)."""
    names = [name for name in _LIST_SEPARATOR.split(text.strip(" .,;:")) if name]
    return bool(names) and all(is_country(_POSSESSIVE.sub("", name)) for name in names)


def is_noun_phrase(text: str) -> bool:
    """An answer to "which show", "what company": not a nationality word on its own ("South Korean")."""
    return not is_demonym(text)


# Words a title leaves lower-case ("Leave It to Beaver", "The Bold and the Beautiful", "Thor: Love and Thunder").
_TITLE_SMALL_WORDS = frozenset("a an the and or nor but of in on at to for by from with as is it up".split())
_QUOTE_MARKS = re.compile(r"[\"“”]")


def is_title(text: str) -> bool:
    """ "Harbor Lights", "Leave it to Beaver": the name of a show, a film or a book, written as titles
    are, not a description of one ("the hugely popular South Korean series") nor a run of the
    sentence past its closing quote mark ("Harbor Lights\" is officially coming back")."""
    name = text.strip(" \"“”‘’'.,;:")
    words = name.split()
    if not words or len(words) > 8 or _QUOTE_MARKS.search(name) or is_demonym(name) or not is_name_or_phrase(name):
        return False
    capital = [w[:1].isupper() or w[:1].isdigit() for w in words]
    return capital[0] and all(up or w.lower().strip(",:") in _TITLE_SMALL_WORDS for w, up in zip(words, capital))


_CHECKS: dict[tuple[str, ...], SpanCheck] = {
    MONEY: is_money,
    DURATION: is_duration,
    AGE: is_age,
    SHARE: is_share,
    TIME: is_time,
    PERSON: is_name_or_phrase,
    PLACE: is_place_name,
    COUNTRY: is_country_name,
    ORG: is_name_or_phrase,
}
_HOW_MANY = re.compile(r"\bhow many\b", re.I)
_HOW_MANY_UNITS_OF_TIME = re.compile(r"\bhow many (more )?(seconds|minutes|hours|days|nights|weeks|months|years|decades|centuries)\b", re.I)
# "Which show", "what company": the answer is a thing; but "what language", "what kind of food" may be "Spanish".
_WHICH_WHAT = re.compile(r"\b(which|what)\b", re.I)
_ASKS_NATIONALITY = re.compile(
    r"\b(kinds?|types?|sorts?|styles?|languages?|nationalit\w*|citizenship|ethnic\w*|origins?|descent|heritage|cuisine|food|dialect|accent|tongue)\b",
    re.I,
)
_WHAT_YEAR = re.compile(r"\b(what|which) year\b", re.I)
# "Which hugely popular show", "what soap opera", "which of these shows": the answer is a title. Up to three
# words between, none an auxiliary ("what did the images show" asks what they depicted).
_ASKS_TITLE = re.compile(
    rf"\b(which|what)\s+(?:{NOT_AN_AUXILIARY}[\w’'-]+\s+){{0,3}}?"
    r"(shows?|series|films?|movies?|books?|novels?|songs?|albums?|musicals?|podcasts?|documentar(y|ies)|programmes?|programs?|sitcoms?|"
    r"operas?|paintings?|miniseries)\b",
    re.I,
)


_NAME_IN_QUESTION = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)+")
_QUESTION_WORD = re.compile(r"^(who|whom|whose|what|which|when|where|why|how|in|on|at)\s+", re.I)


def names_in(question: str) -> list[str]:
    """The names of two or more capitalised words the question mentions ("Farida Nasser", "Premier League")."""
    names = (_QUESTION_WORD.sub("", m.group()) for m in _NAME_IN_QUESTION.finditer(question))
    return [name for name in names if len(name.split()) >= 2]


def other_than(names: list[str], check: SpanCheck) -> SpanCheck:
    """`check`, and the span names none of `names`, nor any word of them: "Who led the union before
    Farida Nasser?" is not answered by a span that names her (the question is about someone else)."""
    words = {w.lower() for name in names for w in _LETTERS.findall(name) if len(w) >= 3}

    def fits(text: str) -> bool:  # any word of the name: "Nasser, who led ..." names her too
        return check(text) and not words & {w.lower() for w in _LETTERS.findall(text)}

    return fits


def answer_form(question: str) -> SpanCheck | None:
    """What a short answer to `question` must look like, from the kind of question:
    - a sum of money for "how much did it cost", an age for "how old", a share for "what percentage";
    - a count for "how many", and no amount of time unless it asks "how many years";
    - one year for "what year", a date or a time for "when";
    - words (not a number or a day) for "who" and "where", and for "who" no span naming the person
      the question names ("Who led the union before Farida Nasser?");
    - a place (not a nationality word) for "where"; a country's name for "which country" and a title
      for "which show", each a wish with a looser fallback (LOOSER_CHECKS);
    - a thing (not a nationality word) for "which prize".
    None for other open questions ("what did", "why"), whose answers take too many forms to check."""
    wanted = expected_types(question)
    if wanted == TIME and _WHAT_YEAR.search(question):
        return is_year
    if wanted == NUMBER:
        if not _HOW_MANY.search(question):
            return is_quantity
        return is_count if _HOW_MANY_UNITS_OF_TIME.search(question) else is_count_of_things
    if not wanted and _ASKS_TITLE.search(question):
        return is_title
    if not wanted and _WHICH_WHAT.search(question) and not _ASKS_NATIONALITY.search(question):
        return is_noun_phrase
    if wanted == PERSON and (names := names_in(question)):
        return other_than(names, is_name_or_phrase)
    return _CHECKS.get(wanted)


# Answers of a few words, a figure or a date: a longer span that holds one ("1881 as the official calendar
# of the dynasty") answers with the one it holds, by this check (a date for "when": not "the dynasty").
SHORT_FORMS: dict[SpanCheck, SpanCheck] = {
    **{check: check for check in (is_money, is_duration, is_age, is_share, is_count, is_count_of_things, is_quantity, is_year)},
    is_time: is_date,
}


# Checks whose span must be a whole name: not "South" cut from "South Korean".
WHOLE_NAME_CHECKS: frozenset[SpanCheck] = frozenset({is_title})
_CAPITAL_WORD_BEFORE = re.compile(r"\b[A-Z][\w’'-]*(?<!['’]s) $")
_CAPITAL_WORD_AFTER = re.compile(r" [A-Z0-9]")


def cuts_a_name(text: str, start: int, end: int) -> bool:
    """The span [start, end) of `text` starts or stops inside a run of capitalised words ("South" of
    "South Korean series"); a possessive before it ends that run ("Netflix's Squid Game")."""
    return bool(_CAPITAL_WORD_BEFORE.search(text[max(0, start - 40) : start]) or _CAPITAL_WORD_AFTER.match(text, end))


# Wishes, not rules: a reader with no title (no country) among its spans falls back to the looser check.
LOOSER_CHECKS: dict[SpanCheck, SpanCheck] = {is_title: is_noun_phrase, is_country_name: is_place_name}
