"""The Article record every reader produces, and the small helpers that normalise its fields."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Article:
    id: str  # stable: the URL, or the file path plus record id
    title: str
    published: date | None
    url: str | None
    source: str  # the URL when there is one, else the file path
    origin: str  # the absolute path of the file it was read from (drives deletion on sync)
    text: str
    sha256: str  # of title, date, url and text: a change to any of them re-indexes

    @classmethod
    def create(
        cls,
        *,
        id: str,
        title: str,
        published: date | None,
        url: str | None,
        origin: str,
        text: str,
    ) -> Article:
        digest = hashlib.sha256(
            "\x1f".join([title, published.isoformat() if published else "", url or "", text]).encode("utf-8")
        ).hexdigest()
        return cls(
            id=id,
            title=title.strip(),
            published=published,
            url=url or None,
            source=url or origin,
            origin=origin,
            text=text,
            sha256=digest,
        )


_DATE_LINE = re.compile(
    r"^\s*(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
    r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
    r"|\d{1,2}\s+[a-z]{3,9}\.?,?\s+\d{4}"
    r"|[a-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?(?:\s*[A-Z]{2,4}|Z|[+-]\d{2}:?\d{2})?)?\s*$",
    re.IGNORECASE,
)


def looks_like_date_line(line: str) -> bool:
    """True for a line that is only a date ("December 4, 2022", "2022-12-04", "4 Dec 2022")."""
    return bool(_DATE_LINE.match(line)) and parse_date(line) is not None


def parse_date_field(value: object) -> date | None:
    """A date field that may be absent: None when it is, ValueError when it is there but not a date."""
    parsed = parse_date(value)
    if parsed is None and value not in (None, ""):
        raise ValueError(f"unreadable date {value!r}")
    return parsed


def parse_date(value: object) -> date | None:
    """A date from the many shapes articles carry it in; None when there is none or it is not a date."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(float(value)).date()
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10].replace("/", "-"))
    except ValueError:
        pass
    from dateutil import parser as dateparser

    try:
        return dateparser.parse(text, fuzzy=False).date()
    except (ValueError, OverflowError, TypeError):
        return None
