"""Read the articles of one file: opened safely, decoded, handed to its format's reader, checked.

Every file yields a `FileRead`: the articles it holds and the errors it raised. Nothing raised
while reading or parsing one file escapes it: a reader's own ArticleError, and any other
exception (a recursion limit, a library bug), become a report naming the file, and every other
file still indexes. Finding the files of a folder is indexing.sources.scan; the formats are
indexing.sources.formats.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from indexing.errors import ArticleError
from indexing.sources.article import Article, article_problem
from indexing.sources.formats import SourceText, format_for, supported_suffixes
from indexing.sources.formats.json_records import article_from_record
from indexing.sources.paths import path_text
from indexing.sources.scan import scan

__all__ = ["SUPPORTED_SUFFIXES", "FileRead", "article_from_record", "iter_article_files", "read_file"]

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = supported_suffixes()
_SNIFF = 8192  # bytes looked at for NULs: a binary file is reported, not decoded


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
    """Article files under the given files and folders, recursively, in a stable order (reported
    entries and ignored ones left out: see indexing.sources.scan)."""
    yield from scan(paths).files


def read_file(path: Path, max_bytes: int = 20_000_000) -> FileRead:
    """All articles of one file; any failure is recorded on the result, never raised."""
    path = Path(os.path.abspath(path))
    result = FileRead(path)
    label = path_text(path)
    try:
        fmt = format_for(path)
        if fmt is None:
            raise ArticleError(label, f"unsupported file type {path.suffix!r} (use one of {', '.join(SUPPORTED_SUFFIXES)})", "unsupported")
        source = SourceText(path, label, _read_text(path, label, max_bytes))
        for item in fmt.read(source):
            if isinstance(item, ArticleError):
                result.errors.append(item)
                continue
            problem = article_problem(item)
            if problem is None:
                result.articles.append(item)
            else:
                record = None if item.id == label else item.id.removeprefix(label + "#")
                result.errors.append(ArticleError(label, problem[1], problem[0], record))
    except ArticleError as exc:
        result.articles.clear()
        result.errors.append(exc)
    except Exception as exc:  # noqa: BLE001 - whatever one file does, the others still index
        log.debug("reading %s failed", label, exc_info=True)
        result.articles.clear()
        result.errors.append(ArticleError(label, f"could not be read ({exc.__class__.__name__}: {str(exc)[:200]})", "reader failed"))
    return result


def _read_text(path: Path, label: str, max_bytes: int) -> str:
    """The file's text. Opened without blocking and checked to be a regular file after opening, so a
    FIFO or device that replaced the file since the folder scan is reported, never read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise ArticleError(label, "file not found", "missing") from None
    except OSError as exc:
        raise ArticleError(label, f"cannot read file ({exc.strerror or exc})", "cannot read") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ArticleError(label, "not a regular file; never read", "not a regular file")
        if info.st_size > max_bytes:
            raise ArticleError(
                label, f"file is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit (NEWSBOT_MAX_FILE_BYTES)", "too large"
            )
        with os.fdopen(fd, "rb", closefd=True) as handle:
            fd = -1
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ArticleError(label, f"cannot read file ({exc.strerror or exc})", "cannot read") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(raw) > max_bytes:
        raise ArticleError(label, f"file grew over the {max_bytes:,}-byte limit (NEWSBOT_MAX_FILE_BYTES) while read", "too large")
    if b"\x00" in raw[:_SNIFF]:
        raise ArticleError(label, "binary file, not text", "binary")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(label, f"not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8", "not UTF-8") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ArticleError(label, "file is empty", "empty")
    return text
