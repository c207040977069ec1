"""Writing small article files and reading them back: the helpers the source-reader tests share."""

from __future__ import annotations

from pathlib import Path

from indexing.sources.files import read_file

BODY = (
    "The city council voted on Monday to expand the tram network by twelve kilometres.\n\n"
    "Mayor Alice Grant said construction would begin in the spring. The first new stop will open in 2025."
)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def only_article(path: Path, **kwargs):
    result = read_file(path, **kwargs)
    assert result.errors == [], [str(e) for e in result.errors]
    assert len(result.articles) == 1
    return result.articles[0]


def only_error(path: Path, **kwargs):
    result = read_file(path, **kwargs)
    assert result.articles == []
    assert len(result.errors) == 1
    assert not result.complete
    return result.errors[0]
