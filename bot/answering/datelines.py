"""Where a news article's dateline ends: the place and outlet before the story ("WASHINGTON (AP) —",
"New York CNN Business —", "KYIV, Ukraine —"), after a wire credit on a line of its own
("Associated Press"). They are never an answer, yet a reader asked "which company ..." finds "CNN
Business" there, in the first words of the text, so spans in them are ruled out.
"""

from __future__ import annotations

import re

_PLACE = r"[A-Z][A-Za-z.'’\-]*(?:[ ,]+[A-Z][A-Za-z.'’\-]*){0,4}"
_DATE = r"(?:,\s*[A-Z][a-z]{2,8}\.? \d{1,2})?"
_DASH = r"\s*(?:—|–|--|-)\s*"
_DATELINES = (
    # A line of its own ending in a dash: "Washington CNN —", "CNN —" (a web page's dateline, as scraped).
    re.compile(rf"\s*{_PLACE}\s*[—–]\s*\n"),
    # Wire style: a place, maybe a date, the outlet in parentheses, a dash: "LONDON, June 5 (Reuters) - ".
    re.compile(rf"\s*(?:{_PLACE}{_DATE}\s*)?\([A-Z][A-Za-z .&'’\-]{{0,30}}\){_DASH}"),
    # AP style without an outlet: a place in capitals, maybe its country, then a dash: "KYIV, Ukraine — ".
    re.compile(
        rf"\s*[A-Z][A-Z.'’\-]+(?: [A-Z][A-Z.'’\-]+){{0,3}}(?:,\s*[A-Z][A-Za-z.]+(?: [A-Z][A-Za-z.]+)?)?{_DATE}\s*[—–]\s+(?=[A-Z\"“‘'])"
    ),
)
_MAX_WORDS = 8  # a dateline is a few words; a longer opening is the story itself
# A wire service's credit on a line of its own, above the dateline or the story ("Associated Press\n\n").
_CREDIT = re.compile(r"\s*(?:The )?(?:Associated Press|AP|Reuters|AFP|Agence France-Presse|Bloomberg|Press Association|PA Media)\s*\n\s*\n")


def dateline_end(text: str) -> int:
    """The offset where the story starts after a wire credit and a dateline at the start of `text`;
    0 when there is neither."""
    credit = _CREDIT.match(text)
    start = credit.end() if credit else 0
    for pattern in _DATELINES:
        match = pattern.match(text, start)
        if match and len(match.group().split()) <= _MAX_WORDS:
            return match.end()
    return start
