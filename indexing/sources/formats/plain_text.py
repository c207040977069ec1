"""Plain text in the seed convention: the first non-empty line a date (optional), the next the title,
the rest the body. Without a date line the first line is the title; a single line is title and body."""

from __future__ import annotations

from collections.abc import Iterator

from indexing.errors import ArticleError
from indexing.sources.article import Article, title_from_text
from indexing.sources.dates import DateProblem, looks_like_date_line, read_date
from indexing.sources.formats import Format, SourceText


def read(source: SourceText) -> Iterator[Article]:
    lines = source.text.split("\n")
    nonempty = [i for i, line in enumerate(lines) if line.strip()]
    published, cursor = None, 0
    if looks_like_date_line(lines[nonempty[0]]):
        try:
            published = read_date(lines[nonempty[0]])
        except DateProblem as exc:
            raise ArticleError(source.label, f"the date line {exc}", "invalid date") from None
        if len(nonempty) == 1:
            raise ArticleError(source.label, "holds only a date line: no title, no text", "no article text")
        cursor = 1
    title_index = nonempty[cursor]
    title = lines[title_index].strip()
    body = "\n".join(lines[title_index + 1 :]).strip()
    if not body:
        body, title = title, title_from_text(title)
    yield Article.create(id=source.label, title=title, published=published, url=None, origin=source.label, text=body)


FORMAT = Format("plain text", (".txt",), read)
