"""The article file formats: one module per format in this package, found here by name.

A format is one new file beside these, holding

    FORMAT = Format("Name", (".suffix", ...), read)

(or `FORMATS = (...)` for a module that reads two related formats), where `read(source)` yields the file's Articles (and an ArticleError for each bad record it skips,
or raises one for a bad file). Nothing else changes: the supported suffixes, the folder scan and
the watcher's filter all come from this registry, and every article a reader yields is checked by
indexing.sources.files (valid Unicode, some text, not only a date), which also turns any exception
a reader raises into a report on that one file.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from indexing.errors import ArticleError
from indexing.sources.article import Article


@dataclass(frozen=True)
class SourceText:
    """A file handed to a reader: already opened safely, size-checked and decoded."""

    path: Path
    label: str  # the path as ids, origins and reports write it (indexing.sources.paths.path_text)
    text: str  # UTF-8 decoded, BOM dropped, newlines normalised to "\n"


@dataclass(frozen=True)
class Format:
    name: str
    suffixes: tuple[str, ...]  # lower case, with the dot
    read: Callable[[SourceText], Iterable[Article | ArticleError]]


@cache
def formats() -> tuple[Format, ...]:
    """Every format in this package, in module-name order."""
    found: list[Format] = []
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        loaded = importlib.import_module(f"{__name__}.{module}")
        declared = getattr(loaded, "FORMATS", None) or (getattr(loaded, "FORMAT", None),)
        found.extend(fmt for fmt in declared if isinstance(fmt, Format))
    claimed: dict[str, str] = {}
    for fmt in found:
        for suffix in fmt.suffixes:
            if suffix in claimed:
                raise RuntimeError(f"suffix {suffix} is claimed by both {claimed[suffix]} and {fmt.name}")
            claimed[suffix] = fmt.name
    return tuple(found)


@cache
def supported_suffixes() -> tuple[str, ...]:
    return tuple(suffix for fmt in formats() for suffix in fmt.suffixes)


def format_for(path: Path) -> Format | None:
    suffix = path.suffix.lower()
    return next((fmt for fmt in formats() if suffix in fmt.suffixes), None)
