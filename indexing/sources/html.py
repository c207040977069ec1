"""Main text, title, date and canonical URL of an HTML page, with trafilatura (offline).

trafilatura (and htmldate, courlan and justext under it) logs what it cannot parse at WARNING and
ERROR, in lines that name no file ("empty HTML tree: None"). Their loggers are kept out of the
application's log: while `extract_html` runs, their lines are captured for that page, and when the
page fails the first of them becomes part of the one report that names it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from indexing.errors import ArticleError
from indexing.sources.dates import DateProblem, read_date

_LOGGERS = ("trafilatura", "htmldate", "courlan", "justext")


@dataclass(frozen=True)
class ExtractedPage:
    title: str
    published: date | None
    url: str | None
    text: str


class _PerPage(logging.Handler):
    """Keeps the extraction libraries' warnings for the page this thread is extracting, else drops them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        captured = getattr(self.local, "captured", None)
        if captured is not None and len(captured) < 20:
            try:
                captured.append((record.levelno, record.getMessage()))
            except Exception:  # noqa: BLE001 - a malformed log call must not break extraction
                pass


_handler = _PerPage()
for _name in _LOGGERS:
    _logger = logging.getLogger(_name)
    _logger.addHandler(_handler)
    _logger.propagate = False
    _logger.setLevel(logging.WARNING)


@contextmanager
def _capturing() -> Iterator[list[tuple[int, str]]]:
    captured: list[tuple[int, str]] = []
    previous = getattr(_handler.local, "captured", None)
    _handler.local.captured = captured
    try:
        yield captured
    finally:
        _handler.local.captured = previous


def _why(captured: list[tuple[int, str]]) -> str:
    worst = sorted(captured, key=lambda item: -item[0])
    return f" (trafilatura: {worst[0][1][:160]})" if worst else ""


def extract_html(html: str, origin: str, url: str | None = None) -> ExtractedPage:
    """Raise ArticleError (naming `origin`) when the page holds no readable article text."""
    import trafilatura

    if "<" not in html:
        raise ArticleError(origin, "not HTML: no markup found", "malformed HTML")
    with _capturing() as captured:
        try:
            doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False, favor_recall=True)
        except Exception as exc:  # trafilatura raises many types on broken markup
            raise ArticleError(origin, f"malformed HTML ({exc.__class__.__name__}: {exc})", "malformed HTML") from None
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if not text:
        raise ArticleError(origin, f"no article text found in the HTML page{_why(captured)}", "no article text")
    page_url = getattr(doc, "url", None) or url
    if page_url and not page_url.startswith(("http://", "https://")):
        page_url = None
    try:
        published = read_date(getattr(doc, "date", None))
    except DateProblem as exc:
        raise ArticleError(origin, f"the page's date {exc}", "invalid date") from None
    return ExtractedPage(title=(getattr(doc, "title", None) or "").strip(), published=published, url=page_url, text=text)
