"""What newsbot writes is its user's alone: the data dir 0700, every file in it 0600 (docs/security.md).

The data dir holds the index, the Slack app's bot tokens (slack.sqlite3) and the owner lock whose
holder serves every other process. Two means keep them private:

- The first time a process prepares a data dir, its umask gains 077 (and keeps it): every file and
  folder created after that, by newsbot, Chroma (its SQLite file and HNSW segments) or SQLite (the
  -wal and -shm files), is private from birth. Files the process writes elsewhere (an exported
  report) are private too; a library caller who wants otherwise sets its umask after opening.
- A data dir, or one of newsbot's files, made wider by an older newsbot is narrowed when opened. The
  data dir itself is left alone when it is the user's home: only its newsbot files are narrowed.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_umask_lock = threading.Lock()
_umask_set = False


def restrict_umask() -> None:
    """Add 077 to this process's umask, once: what is created from now on is the user's alone."""
    global _umask_set
    with _umask_lock:
        if _umask_set:
            return
        old = os.umask(0o077)
        os.umask(old | 0o077)
        _umask_set = True


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) 0700, or narrow it to 0700 if this user owns it."""
    restrict_umask()
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if _is_home(path):
        log.warning("the data dir %s is your home folder: newsbot narrows its own files, not the folder", path)
        return path
    _narrow(path, PRIVATE_DIR)
    return path


def _is_home(path: Path) -> bool:
    try:
        return path.resolve() == Path.home().resolve()
    except (RuntimeError, KeyError, OSError):  # no HOME and no passwd entry (a container's random uid)
        return False


def private_file(path: Path, create: bool = False) -> None:
    """Narrow `path` to 0600 if it exists and is this user's (never through a link); with `create`,
    make it empty and 0600 first if it is missing."""
    if create:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE))
        except FileExistsError:
            pass
    _narrow(path, PRIVATE_FILE)


def private_tree(path: Path) -> None:
    """Narrow a folder newsbot owns entirely (the Chroma folder) and everything in it: folders 0700, files 0600."""
    _narrow(path, PRIVATE_DIR)
    for folder, dirs, files in os.walk(path):  # os.walk does not follow links into other folders
        for name in dirs:
            _narrow(Path(folder) / name, PRIVATE_DIR)
        for name in files:
            _narrow(Path(folder) / name, PRIVATE_FILE)


def _narrow(path: Path, mode: int) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid():
        return
    current = stat.S_IMODE(info.st_mode)
    if current & ~mode:
        try:
            os.chmod(path, current & mode)
        except OSError as exc:  # a file system without modes (vfat, some network mounts): say so, carry on
            log.warning("cannot make %s private (%s): other users may read it", path, exc.strerror or exc)
            return
        log.info("made %s private (mode %04o, was %04o)", path, current & mode, current)
