"""Markdown with optional YAML front matter (`title`, `date`, `url`); else the first `# heading` is the title."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from indexing.errors import ArticleError
from indexing.sources.article import Article, clean_url, first_field, title_from_text
from indexing.sources.dates import DateProblem, read_date
from indexing.sources.formats import Format, SourceText

_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_DATE_KEYS = ("date", "published", "publish_date")


def read(source: SourceText) -> Iterator[Article]:
    text = source.text
    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        meta = _front_matter(source, match.group(1))
        text = text[match.end() :]
    elif text.startswith("---\n"):
        raise ArticleError(
            source.label, "front matter opened with '---' on line 1 is never closed (end it with a '---' line)", "invalid front matter"
        )
    body = text.strip()
    title = _text_field(source, meta, "title")
    heading = re.match(r"#\s+(.+)\n", body + "\n")
    if not title and heading:
        title = heading.group(1).strip()
    if heading and heading.group(1).strip() == title:
        body = body[heading.end() :].strip()
    url = clean_url(meta.get("url"))
    try:
        published = read_date(first_field(meta, _DATE_KEYS))
    except DateProblem as exc:
        raise ArticleError(source.label, f"front matter 'date': {exc} (use YYYY-MM-DD)", "invalid date") from None
    if not body.strip():
        raise ArticleError(source.label, "article has a title but no body text", "no article text")
    yield Article.create(
        id=url or source.label, title=title or title_from_text(body), published=published, url=url, origin=source.label, text=body
    )


def _front_matter(source: SourceText, block: str) -> dict[str, Any]:
    import yaml

    try:
        loaded = yaml.load(block, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except Exception as exc:  # yaml.YAMLError, and whatever a constructor raises on odd input
        raise ArticleError(source.label, f"invalid YAML front matter ({exc.__class__.__name__})", "invalid front matter") from None
    if loaded is not None and not isinstance(loaded, dict):
        raise ArticleError(source.label, "front matter must be a mapping of title/date/url", "invalid front matter")
    return loaded or {}


def _text_field(source: SourceText, meta: dict[str, Any], name: str) -> str:
    value = meta.get(name)
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        raise ArticleError(source.label, f"front matter '{name}' must be text, not a {type(value).__name__}", "invalid front matter")
    return str(value).strip()


def _loader() -> type:
    """PyYAML's SafeLoader without its timestamp rule: `date: 2025-02-30` stays text, so the date rules
    (indexing.sources.dates) judge it like every other format's dates, instead of YAML raising."""
    import yaml

    class FrontMatterLoader(yaml.SafeLoader):
        pass

    FrontMatterLoader.yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return FrontMatterLoader


FORMAT = Format("Markdown", (".md", ".markdown"), read)
