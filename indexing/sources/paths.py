"""Which paths are article files, and how a path is written in ids and sources.

- `is_hidden`: the one rule for entries the indexer and the watcher ignore (".x", "_x", "~x", "x~":
  dot files, drafts, editors' and downloaders' temporary files).
- `is_under`: whether a path lies in (or is) one of some roots.
- `path_text` / `text_path`: a path as text that is valid Unicode whatever bytes its name holds,
  and back. A file name that is not UTF-8 (a Latin-1 "café" from an old archive) reaches Python with
  lone surrogates, which Chroma (and JSON output) cannot store. So ids, sources and origins write
  such bytes as `%XX` and a literal `%` as `%25`: every path has exactly one text and the text maps
  back to it. Names without `%` or undecodable bytes, nearly all of them, are unchanged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

_HIDDEN_PREFIXES = (".", "_", "~")
_ESCAPE = re.compile(rb"%([0-9A-F]{2})")


def is_hidden_name(name: str) -> bool:
    return name.startswith(_HIDDEN_PREFIXES) or name.endswith("~")


def is_hidden(path: Path, root: Path | None = None) -> bool:
    """Whether `path`, or a folder between `root` and it, is hidden (the root's own name never counts)."""
    parts = path.relative_to(root).parts if root is not None and is_under(path, [root]) else (path.name,)
    return any(is_hidden_name(part) for part in parts)


def root_of(path: str | Path, roots: Iterable[Path]) -> Path | None:
    """The innermost of `roots` that holds `path` (or is it), else None."""
    candidate = text_path(path) if isinstance(path, str) else path
    inside = [root for root in roots if candidate == root or root in candidate.parents]
    return max(inside, key=lambda r: len(r.parts), default=None)


def is_under(path: str | Path, roots: Iterable[Path]) -> bool:
    """Whether a path (a Path, or a path text as stored in ids and origins) lies in or is one of `roots`."""
    return root_of(path, roots) is not None


def path_text(path: str | Path) -> str:
    """The path as valid Unicode text: undecodable bytes as %XX, '%' as %25 (see the module doc)."""
    raw = os.fsencode(path)
    decoded = raw.decode("utf-8", "surrogateescape")
    if "%" not in decoded and not any("\udc80" <= c <= "\udcff" for c in decoded):
        return decoded
    return "".join("%25" if c == "%" else f"%{ord(c) - 0xDC00:02X}" if "\udc80" <= c <= "\udcff" else c for c in decoded)


def text_path(text: str) -> Path:
    """The path `path_text` wrote as `text`."""
    if "%" not in text:
        return Path(text)
    raw = text.encode("utf-8", "surrogateescape")
    return Path(os.fsdecode(_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)))
