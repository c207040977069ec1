"""HTML pages: main text, title, date and canonical URL by trafilatura (indexing.sources.html)."""

from __future__ import annotations

from collections.abc import Iterator

from indexing.sources.article import Article, title_from_text
from indexing.sources.formats import Format, SourceText


def read(source: SourceText) -> Iterator[Article]:
    from indexing.sources.html import extract_html

    page = extract_html(source.text, origin=source.label)
    yield Article.create(
        id=page.url or source.label,
        title=page.title or title_from_text(page.text),
        published=page.published,
        url=page.url,
        origin=source.label,
        text=page.text,
    )


FORMAT = Format("HTML", (".html", ".htm"), read)
