"""Main text, title, date and canonical URL of an HTML page, with trafilatura (offline)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from indexing.errors import ArticleError
from indexing.sources.article import parse_date


@dataclass(frozen=True)
class ExtractedPage:
    title: str
    published: date | None
    url: str | None
    text: str


def extract_html(html: str, origin: str, url: str | None = None) -> ExtractedPage:
    """Raise ArticleError (naming `origin`) when the page holds no readable article text."""
    import trafilatura

    # trafilatura logs every page it cannot parse at WARNING; our error report says it once.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    if "<" not in html:
        raise ArticleError(origin, "not HTML: no markup found")
    try:
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False, favor_recall=True)
    except Exception as exc:  # trafilatura raises many types on broken markup
        raise ArticleError(origin, f"malformed HTML ({exc.__class__.__name__}: {exc})") from exc
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if not text:
        raise ArticleError(origin, "no article text found in the HTML page")
    page_url = getattr(doc, "url", None) or url
    if page_url and not page_url.startswith(("http://", "https://")):
        page_url = None
    return ExtractedPage(
        title=(getattr(doc, "title", None) or "").strip(),
        published=parse_date(getattr(doc, "date", None)),
        url=page_url,
        text=text,
    )
