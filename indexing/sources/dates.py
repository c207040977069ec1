"""The one set of date rules every format follows: what counts as an article's publication date.

A date field (JSON `date`/`published`, Markdown front matter `date`, a .txt date line, the date
trafilatura finds in a page) is either absent, or a real calendar date inside a plausible range,
or it is reported, the same way in every format: `read_date` raises `DateProblem` with a reason.
Accepted: `date`/`datetime` values; strings ("2022-12-04", "2022/12/04", "December 4, 2022",
"4 Dec 2022", ISO timestamps); numbers as Unix timestamps (seconds, or milliseconds when larger
than any plausible number of seconds). Not accepted: booleans, lists, objects, strings that name
no month and year, impossible days ("2025-02-30") and years outside EARLIEST_YEAR..(this year + 1).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime

EARLIEST_YEAR = 1800  # older "news" is a typo or a placeholder such as 0001-01-01
_FUTURE_YEARS = 1  # an embargoed or scheduled piece may carry next year's date, not later
_MS_THRESHOLD = 1e11  # seconds since 1970 reach this in the year 5138: larger numbers are milliseconds

_NUMERIC = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?=$|[T\s])")
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DATE_LINE = re.compile(
    r"^\s*(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
    r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
    rf"|\d{{1,2}}\s+{_MONTH}\.?,?\s+\d{{4}}"
    rf"|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?(?:\s*[A-Z]{2,4}|Z|[+-]\d{2}:?\d{2})?)?\s*$",
    re.IGNORECASE,
)


class DateProblem(ValueError):
    """A date value that is present but is not a plausible calendar date; the message says why."""


def latest_year() -> int:
    return date.today().year + _FUTURE_YEARS


def read_date(value: object) -> date | None:
    """None when there is no date; the date when it is one; DateProblem when it is there but wrong."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):  # before int: True is an int to Python, not a day to a reader
        raise DateProblem(f"{value!r} is not a date")
    if isinstance(value, datetime):
        return _plausible(value.date())
    if isinstance(value, date):
        return _plausible(value)
    if isinstance(value, (int, float)):
        return _plausible(_from_timestamp(value))
    if isinstance(value, str):
        return _plausible(_from_text(value.strip()))
    raise DateProblem(f"a {type(value).__name__} is not a date")


def parse_date(value: object) -> date | None:
    """Lenient: the date, or None when there is none or it breaks a rule (for dates that are a hint,
    such as a feed entry's, where the article is still good without one)."""
    try:
        return read_date(value)
    except DateProblem:
        return None


def parse_date_field(value: object) -> date | None:
    """A date field that may be absent: None when it is, ValueError (DateProblem) when it is there but wrong."""
    return read_date(value)


def looks_like_date_line(line: str) -> bool:
    """Shaped like a line that is only a date ("December 4, 2022", "2022-12-04", "4 Dec 2022"), real or not."""
    return bool(_DATE_LINE.match(line))


def is_only_a_date(text: str) -> bool:
    """A text that is nothing but one date (a body or a file holding only its date line)."""
    stripped = text.strip()
    return len(stripped) < 80 and looks_like_date_line(stripped)


def _plausible(day: date) -> date:
    if not EARLIEST_YEAR <= day.year <= latest_year():
        raise DateProblem(f"{day.isoformat()} is outside the plausible years {EARLIEST_YEAR}-{latest_year()}")
    return day


def _from_timestamp(value: float) -> date:
    if not math.isfinite(value):
        raise DateProblem(f"{value!r} is not a date")
    seconds = value / 1000 if abs(value) >= _MS_THRESHOLD else value
    try:
        return datetime.fromtimestamp(seconds, tz=UTC).date()
    except (OverflowError, OSError, ValueError):
        raise DateProblem(f"{value!r} is not a date (read as a Unix timestamp)") from None


def _from_text(text: str) -> date:
    numeric = _NUMERIC.match(text)
    if numeric:
        year, month, day = (int(part) for part in numeric.groups())
        try:
            return date(year, month, day)
        except ValueError:
            raise DateProblem(f"{text[:40]!r} is not a real date") from None
    if len(text) > 100:
        raise DateProblem(f"{text[:40]!r}... is not a date")
    from dateutil import parser as dateparser

    # Two different defaults show which parts the text itself names: it must name a month and a year.
    try:
        first = dateparser.parse(text, default=datetime(2000, 1, 1), fuzzy=False)
        second = dateparser.parse(text, default=datetime(2001, 2, 2), fuzzy=False)
    except (ValueError, OverflowError, TypeError, ArithmeticError) as exc:
        real = "a real " if "out of range" in str(exc) else "a "
        raise DateProblem(f"{text[:40]!r} is not {real}date") from None
    if first.year != second.year or first.month != second.month:
        raise DateProblem(f"{text[:40]!r} names no month and year")
    return first.date()  # the 1st when the text names no day
