"""Find the article files under some files and folders: every entry is read, reported or ignored.

- Read: regular files (or links to them) with a supported suffix (indexing.sources.formats).
- Ignored, by rule: hidden entries (indexing.sources.paths.is_hidden: ".x", "_x", "~x", "x~") and
  regular files of other types.
- Reported with the path and the reason, never opened: FIFOs, sockets and devices (a FIFO would
  block the reader forever, /dev/zero never ends), dangling links, link loops, folders that cannot
  be listed and entries that cannot be examined.

Links are followed (a link to a folder is read like the folder), by the path they are found at: an
article's id is the path under the folder being indexed. A link back to a folder being walked is
reported as a loop instead of being walked forever.

Only `os.stat`/`os.scandir` run here, so scanning opens no file. Reported entries are `held`: the
indexer keeps what it indexed from them before (an unreadable folder is not a deleted folder).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from indexing.errors import ArticleError
from indexing.sources.formats import supported_suffixes
from indexing.sources.paths import is_hidden_name, path_text

_SPECIAL = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


@dataclass
class Scan:
    files: list[Path] = field(default_factory=list)  # to read, in a stable order
    problems: list[ArticleError] = field(default_factory=list)  # reported, never opened
    held: list[Path] = field(default_factory=list)  # reported entries: their indexed articles stay
    missing: list[Path] = field(default_factory=list)  # roots that do not exist
    ignored: int = 0  # hidden entries and files of unsupported types


def scan(paths: Iterable[Path]) -> Scan:
    """The entries under `paths` (files or folders), recursively, depth first in name order."""
    found = Scan()
    for root in paths:
        root = Path(root)
        try:
            info = root.stat()
        except OSError as exc:
            if _is_missing(root, exc):
                found.missing.append(root)
            _report(found, root, exc)
            continue
        if stat.S_ISDIR(info.st_mode):
            _walk(found, root, {(info.st_dev, info.st_ino)})
        else:
            _classify(found, root, info, named=True)
    return found


def _walk(found: Scan, folder: Path, ancestors: set[tuple[int, int]]) -> None:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        found.problems.append(ArticleError(path_text(folder), f"cannot list the folder ({exc.strerror or exc})", "cannot read"))
        found.held.append(folder)
        return
    for entry in entries:
        path = folder / entry.name
        if is_hidden_name(entry.name):
            found.ignored += 1
            continue
        try:
            info = os.stat(entry.path)  # follows links
        except OSError as exc:
            _report(found, path, exc)
            continue
        if stat.S_ISDIR(info.st_mode):
            key = (info.st_dev, info.st_ino)
            if key in ancestors:
                _problem(found, path, f"a link to a folder it is inside ({_target(path)}): a loop, not read", "link loop")
            else:
                _walk(found, path, ancestors | {key})
        else:
            _classify(found, path, info, named=False)


def _classify(found: Scan, path: Path, info: os.stat_result, named: bool) -> None:
    if stat.S_ISREG(info.st_mode):
        if path.suffix.lower() in supported_suffixes() or named:  # a file named outright is read, or its type reported
            found.files.append(path)
        else:
            found.ignored += 1
        return
    what = next((name for test, name in _SPECIAL if test(info.st_mode)), "not a regular file")
    via = f" (a link to {_target(path)})" if path.is_symlink() else ""
    _problem(found, path, f"{what}{via}, not an article file; never opened", "not a regular file")


def _report(found: Scan, path: Path, exc: OSError) -> None:
    """An entry `os.stat` fails on: a dangling link, a link loop, or one we may not examine."""
    if exc.errno == errno.ELOOP:
        _problem(found, path, "a link loop (the link leads back to itself); never opened", "link loop")
    elif path.is_symlink() and isinstance(exc, FileNotFoundError):
        _problem(found, path, f"a dangling link: its target {_target(path)} does not exist", "dangling link")
    elif isinstance(exc, FileNotFoundError):
        _problem(found, path, "no such file or folder", "missing")
    else:
        _problem(found, path, f"cannot examine it ({exc.strerror or exc})", "cannot read")


def _problem(found: Scan, path: Path, reason: str, kind: str) -> None:
    found.problems.append(ArticleError(path_text(path), reason, kind))
    found.held.append(path)


def _is_missing(path: Path, exc: OSError) -> bool:
    return isinstance(exc, FileNotFoundError) and not path.is_symlink()


def _target(path: Path) -> str:
    try:
        return path_text(os.readlink(path))
    except OSError:
        return "?"
