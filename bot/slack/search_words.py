"""The words Slack users know from Slack's search, read out of a question as retrieval filters.

`from:reuters.com` limits the answer to a source (a domain, a followed feed's name or a folder, as
`--source`), `after:2024-05-01` and `before:2024-06-01` to a period, and `on:2024-05-03` to one day.
As in Slack's search, `after:` and `before:` leave the day they name out. The words are taken out
of the question; what is left is asked. A date that is no date is a one-line reply naming the word.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.retrieval.filters import Filters

# A word of its own: "from:x" at the start or after a space; the value runs to the next space.
_WORD = re.compile(r"(?:(?<=\s)|^)(from|after|before|on):(\S+)", re.I)
_SLACK_LINK = re.compile(r"^<([^|>]+)(?:\|([^>]+))?>$")  # Slack writes "reuters.com" as <http://reuters.com|reuters.com>


class SearchWordError(ValueError):
    """A search word whose value cannot be used; its message is the reply."""


def split_search_words(text: str) -> tuple[str, Filters | None]:
    """(the question without its search words, the filters they say or None)."""
    source: str | None = None
    since: date | None = None
    until: date | None = None
    for match in _WORD.finditer(text):
        word, value = match.group(1).lower(), _unlinked(match.group(2))
        if word == "from":
            source = value
            continue
        day = _day(word, value)
        if word in ("after", "on"):
            since = day + timedelta(days=1) if word == "after" else day
        if word in ("before", "on"):
            until = day - timedelta(days=1) if word == "before" else day
    question = " ".join(_WORD.sub(" ", text).split())
    if since and until and since > until:
        raise SearchWordError(
            f"No day is both on or after {since.isoformat()} and on or before {until.isoformat()}: check after: and before:."
        )
    filters = Filters(source, since, until)
    return question, filters or None


def _unlinked(value: str) -> str:
    link = _SLACK_LINK.match(value)
    if not link:
        return value
    target, label = link.group(1), link.group(2)
    return label or re.sub(r"^(https?://|mailto:)", "", target)


def _day(word: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SearchWordError(f"`{word}:{value}` is not a date: write it as {word}:YYYY-MM-DD, e.g. {word}:2024-05-01.") from None
