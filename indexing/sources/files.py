"""Read articles from files and folders: .txt (seed convention), .md, .html/.htm, .json/.jsonl.

Every file yields a `FileRead`: the articles it holds and the errors it raised. A broken file, or a
broken record inside a JSONL file, is reported with its path and never stops the others.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from indexing.errors import ArticleError
from indexing.sources.article import Article, looks_like_date_line, parse_date, parse_date_field

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl")
_TEXT_KEYS = ("text", "body", "content")
_DATE_KEYS = ("date", "published", "publish_date", "published_at", "pubdate")
_ID_KEYS = ("id", "doc_id")


@dataclass
class FileRead:
    path: Path
    articles: list[Article] = field(default_factory=list)
    errors: list[ArticleError] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every record of the file was read: only then may articles missing from it be removed."""
        return not self.errors


def iter_article_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Supported files under the given files and folders, recursively, in a stable order."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and _is_candidate(child, root=path):
                    yield child
        elif path.is_file() or not path.exists():
            yield path


def _is_candidate(path: Path, root: Path) -> bool:
    relative = path.relative_to(root).parts
    hidden = any(part.startswith((".", "_", "~")) for part in relative)
    return not hidden and path.suffix.lower() in SUPPORTED_SUFFIXES


def read_file(path: Path, max_bytes: int = 20_000_000) -> FileRead:
    """All articles of one file; any failure is recorded on the result, never raised."""
    path = Path(path).resolve()
    result = FileRead(path)
    try:
        text = _read_text(path, max_bytes)
        suffix = path.suffix.lower()
        if suffix in (".json", ".jsonl"):
            _read_records(path, text, result)
        else:
            reader = {".md": _read_markdown, ".markdown": _read_markdown, ".html": _read_html, ".htm": _read_html}
            result.articles.append(reader.get(suffix, _read_plain_text)(path, text))
    except ArticleError as exc:
        result.errors.append(exc)
    return result


def _read_text(path: Path, max_bytes: int) -> str:
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ArticleError(str(path), f"unsupported file type {path.suffix!r} (use one of {', '.join(SUPPORTED_SUFFIXES)})")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ArticleError(str(path), f"file is {size:,} bytes, over the {max_bytes:,}-byte limit (NEWSBOT_MAX_FILE_BYTES)")
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ArticleError(str(path), "file not found") from exc
    except OSError as exc:
        raise ArticleError(str(path), f"cannot read file ({exc.strerror or exc})") from exc
    if b"\x00" in raw[:8192]:
        raise ArticleError(str(path), "binary file, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(str(path), f"not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8") from exc
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ArticleError(str(path), "file is empty")
    return text


def _require_body(path: Path, body: str, where: str = "") -> str:
    if not body.strip():
        raise ArticleError(f"{path}{where}", "article has a title but no body text")
    return body


def _read_plain_text(path: Path, text: str) -> Article:
    """Seed convention: first non-empty line a date, next the title, the rest the body."""
    lines = text.split("\n")
    nonempty = [i for i, line in enumerate(lines) if line.strip()]
    published = None
    cursor = 0
    if looks_like_date_line(lines[nonempty[0]]) and len(nonempty) > 1:
        published = parse_date(lines[nonempty[0]])
        cursor = 1
    title_index = nonempty[cursor]
    title = lines[title_index].strip()
    body = "\n".join(lines[title_index + 1 :]).strip()
    if not body:
        body, title = title, _title_from_text(title)
    return Article.create(id=str(path), title=title, published=published, url=None, origin=str(path), text=body)


_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n(?:---|\.\.\.)\n", re.DOTALL)


def _read_markdown(path: Path, text: str) -> Article:
    import yaml

    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            raise ArticleError(str(path), f"invalid YAML front matter ({exc.__class__.__name__})") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ArticleError(str(path), "front matter must be a mapping of title/date/url")
        meta = loaded or {}
        text = text[match.end() :]
    body = text.strip()
    title = str(meta.get("title") or "").strip()
    heading = re.match(r"#\s+(.+)\n", body + "\n")
    if not title and heading:
        title = heading.group(1).strip()
    if heading and heading.group(1).strip() == title:
        body = body[heading.end() :].strip()
    url = _clean_url(meta.get("url"))
    published = parse_date(_first(meta, _DATE_KEYS))
    _require_body(path, body)
    return Article.create(
        id=url or str(path), title=title or _title_from_text(body), published=published, url=url, origin=str(path), text=body
    )


def _read_html(path: Path, text: str) -> Article:
    from indexing.sources.html import extract_html

    extracted = extract_html(text, origin=str(path))
    url = extracted.url
    return Article.create(
        id=url or str(path),
        title=extracted.title or _title_from_text(extracted.text),
        published=extracted.published,
        url=url,
        origin=str(path),
        text=extracted.text,
    )


def _read_records(path: Path, text: str, result: FileRead) -> None:
    """JSON (one object or a list) or JSONL (one object per line); errors are per record."""
    records: list[tuple[str, Any]] = []
    if path.suffix.lower() == ".jsonl":
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                records.append((f"line {number}", json.loads(line)))
            except json.JSONDecodeError as exc:
                result.errors.append(ArticleError(f"{path}:{number}", f"invalid JSON ({exc.msg})"))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ArticleError(str(path), f"invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})") from exc
        if isinstance(data, dict) and isinstance(data.get("articles"), list):
            data = data["articles"]
        items = data if isinstance(data, list) else [data]
        records = [(f"record {i}", item) for i, item in enumerate(items)]
    for where, record in records:
        try:
            result.articles.append(article_from_record(record, path, where))
        except ArticleError as exc:
            result.errors.append(exc)


def article_from_record(record: Any, path: Path, where: str = "") -> Article:
    """One article from a JSON record: text|body, title, date|published|publish_date, url, id|doc_id."""
    label = f"{path} ({where})" if where else str(path)
    if not isinstance(record, dict):
        raise ArticleError(label, "record is not a JSON object")
    body = _first(record, _TEXT_KEYS)
    if not isinstance(body, str) or not body.strip():
        raise ArticleError(label, "record has no 'text' or 'body' field with article text")
    url = _clean_url(record.get("url") or record.get("link"))
    record_id = _first(record, _ID_KEYS)
    raw_date = _first(record, _DATE_KEYS)
    try:
        published = parse_date_field(raw_date)
    except ValueError:
        raise ArticleError(label, f"field 'date' has an unreadable value {raw_date!r} (use ISO, e.g. 2022-12-04)") from None
    if url:
        article_id = url
    elif record_id not in (None, ""):
        article_id = f"{path}#{record_id}"
    else:
        article_id = f"{path}#{where or 'record'}"
    text = body.replace("\r\n", "\n").strip()
    title = str(record.get("title") or "").strip() or _title_from_url(url) or _title_from_text(text)
    return Article.create(id=article_id, title=title, published=published, url=url, origin=str(path), text=text)


def _first(mapping: dict[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        if mapping.get(key) not in (None, ""):
            return mapping[key]
    return None


def _clean_url(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    return value if urlparse(value).scheme in ("http", "https") else None


def _title_from_url(url: str | None) -> str:
    if not url:
        return ""
    parts = [p for p in urlparse(url).path.split("/") if p and p not in ("index.html", "index.htm")]
    slug = re.sub(r"\.(s?html?|php|aspx?)$", "", parts[-1]) if parts else ""
    words = [w for w in re.split(r"[-_]+", slug) if w and not w.isdigit()]
    return " ".join(words).capitalize() if len(words) >= 2 else ""


def _title_from_text(text: str, limit: int = 100) -> str:
    first = text.strip().split("\n", 1)[0].strip()
    return first if len(first) <= limit else first[: limit - 1].rsplit(" ", 1)[0] + "…"
