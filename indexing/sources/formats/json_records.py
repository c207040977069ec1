"""JSON (one record, a list, or {"articles": [...]}) and JSON Lines (one record a line).

A record holds `text`/`body`/`content`, and optionally `title`, `date`/`published`/`publish_date`/
`published_at`/`pubdate`, `url`/`link`, `id`/`doc_id`. Errors are per record: one bad record (or
line) is reported and the file's other records still index.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from indexing.errors import ArticleError
from indexing.sources.article import Article, clean_url, first_field, title_from_text, title_from_url
from indexing.sources.dates import DateProblem, read_date
from indexing.sources.formats import Format, SourceText
from indexing.sources.paths import path_text

_TEXT_KEYS = ("text", "body", "content")
_DATE_KEYS = ("date", "published", "publish_date", "published_at", "pubdate")
_ID_KEYS = ("id", "doc_id")


def read_json(source: SourceText) -> Iterator[Article | ArticleError]:
    data = _loads(source.text, source.label, whole_file=True)
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    items = data if isinstance(data, list) else [data]
    for i, item in enumerate(items):
        yield _article_or_error(item, source, f"record {i}")


def read_jsonl(source: SourceText) -> Iterator[Article | ArticleError]:
    for number, line in enumerate(source.text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = _loads(line, source.label, whole_file=False, where=f"line {number}")
        except ArticleError as exc:
            yield exc
            continue
        yield _article_or_error(record, source, f"line {number}")


def _loads(text: str, label: str, whole_file: bool, where: str | None = None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        at = f" at line {exc.lineno} column {exc.colno}" if whole_file else ""
        raise ArticleError(label, f"invalid JSON{at} ({exc.msg})", "invalid JSON", where) from None
    except RecursionError:
        raise ArticleError(label, "invalid JSON (nested too deeply to read)", "invalid JSON", where) from None
    except ValueError:  # Python's int limit: an integer of more than 4,300 digits (its own message names a function to call)
        reason = f"invalid JSON (a number has more than {sys.get_int_max_str_digits():,} digits, more than Python reads)"
        raise ArticleError(label, reason, "invalid JSON", where) from None


def _article_or_error(record: Any, source: SourceText, where: str) -> Article | ArticleError:
    try:
        return _record_article(record, source.label, where)
    except ArticleError as exc:
        return exc


def article_from_record(record: Any, path: Path, where: str = "") -> Article:
    """One article from a JSON record read from `path` (the indexer's own rule, shared with the evaluation)."""
    return _record_article(record, path_text(Path(path)), where)


def _record_article(record: Any, label: str, where: str) -> Article:
    def problem(reason: str, kind: str) -> ArticleError:
        return ArticleError(label, reason, kind, where or None)

    if not isinstance(record, dict):
        raise problem("record is not a JSON object", "not an article record")
    body = first_field(record, _TEXT_KEYS)
    if not isinstance(body, str) or not body.strip():
        raise problem("record has no 'text' or 'body' field with article text", "no article text")
    url = clean_url(record.get("url") or record.get("link"))
    record_id = first_field(record, _ID_KEYS)
    if record_id is not None and (isinstance(record_id, bool) or not isinstance(record_id, (str, int))):
        raise problem(f"field 'id' must be text or a whole number, not {type(record_id).__name__}", "not an article record")
    raw_title = record.get("title")
    if raw_title is not None and (isinstance(raw_title, bool) or not isinstance(raw_title, (str, int, float))):
        raise problem(f"field 'title' must be text, not {type(raw_title).__name__}", "not an article record")
    raw_date = first_field(record, _DATE_KEYS)
    try:
        published = read_date(raw_date)
    except DateProblem as exc:
        raise problem(f"field 'date' is unreadable: {exc} (use ISO, e.g. 2022-12-04)", "invalid date") from None
    if url:
        article_id = url
    elif record_id not in (None, ""):
        article_id = f"{label}#{record_id}"
    else:
        article_id = f"{label}#{where or 'record'}"
    text = body.replace("\r\n", "\n").strip()
    title = str(raw_title or "").strip() or title_from_url(url) or title_from_text(text)
    return Article.create(id=article_id, title=title, published=published, url=url, origin=label, text=text)


FORMATS = (Format("JSON", (".json",), read_json), Format("JSON Lines", (".jsonl",), read_jsonl))
