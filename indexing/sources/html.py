"""Main text, title, date and canonical URL of an HTML page, with trafilatura (offline).

trafilatura (and htmldate, courlan and justext under it) logs what it cannot parse at WARNING and
ERROR, in lines that name no file ("empty HTML tree: None"). Their records never reach a handler:
while `extract_html` runs, a filter on each of their loggers keeps them for that page, and when the
page fails the worst of them becomes part of the one report that names it.
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


class _PerPage(logging.Filter):
    """Keeps the extraction libraries' warnings for the page this thread is extracting, and lets none through.

    A filter on each of their loggers, not a handler on the top one: a filter runs before any handler,
    so no handler attached anywhere (pytest's caplog attaches to every non-propagating logger) sees them.
    """

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        captured = getattr(self.local, "captured", None)
        if captured is not None and record.levelno >= logging.WARNING and len(captured) < 20:
            try:
                captured.append((record.levelno, record.getMessage()))
            except Exception:  # noqa: BLE001 - a malformed log call must not break extraction
                pass
        return False


_filter = _PerPage()
_filtered: set[str] = set()
_filtering = threading.Lock()
for _name in _LOGGERS:
    # Fallback for a logger created during an extraction, before the next one filters it: never the root's log.
    _logger = logging.getLogger(_name)
    _logger.propagate = False
    _logger.setLevel(logging.WARNING)
    _logger.addHandler(logging.NullHandler())


def _filter_library_loggers() -> None:
    """Put the filter on every logger of the extraction libraries (they create more as their modules import)."""
    with _filtering:  # two threads must not both add it: each record would be kept twice
        for name, logger in list(logging.Logger.manager.loggerDict.items()):
            if name not in _filtered and isinstance(logger, logging.Logger) and name.split(".", 1)[0] in _LOGGERS:
                logger.addFilter(_filter)
                _filtered.add(name)


@contextmanager
def _capturing() -> Iterator[list[tuple[int, str]]]:
    _filter_library_loggers()
    captured: list[tuple[int, str]] = []
    previous = getattr(_filter.local, "captured", None)
    _filter.local.captured = captured
    try:
        yield captured
    finally:
        _filter.local.captured = previous


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
