"""The test session's own home: HOME, the XDG folders and newsbot's folder settings inside one temporary
folder, so no test reads the user's settings or writes into the user's folders.

`conftest.py` enters it once per session (an autouse fixture). The user's environment as it was before
is kept in `ORIGINAL_ENV` for the one thing that needs it: pip, which the packaging test runs with the
user's own package index configuration.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ORIGINAL_ENV: dict[str, str] = dict(os.environ)

# Where each folder variable points inside the sandbox.
HOME_FOLDERS = {
    "HOME": "home",
    "XDG_CACHE_HOME": "home/.cache",
    "XDG_CONFIG_HOME": "home/.config",
    "XDG_DATA_HOME": "home/.local/share",
    "XDG_STATE_HOME": "home/.local/state",
    "XDG_RUNTIME_DIR": "runtime",
}
# Every folder newsbot writes to or reads the user's settings from (bot.settings, indexing.settings).
NEWSBOT_FOLDERS = {
    "NEWSBOT_DATA_DIR": "newsbot/data",
    # The same folder a settings source without NEWSBOT_CACHE_DIR defaults to: the graphs are derived once a session.
    "NEWSBOT_CACHE_DIR": "home/.cache/newsbot",
    "NEWSBOT_FEEDS_DIR": "newsbot/feeds",
    "NEWSBOT_CONFIG": "newsbot/config.toml",
}
# The user's own newsbot and store settings (a corpus, a Chroma server, Slack tokens) never steer a test.
USER_SETTING_PREFIXES = ("NEWSBOT_", "CHROMA_", "SLACK_")


@dataclass(frozen=True)
class Sandbox:
    root: Path

    def holds(self, path: Path | str) -> bool:
        return Path(path).resolve().is_relative_to(self.root.resolve())


def watched_outside(env: Mapping[str, str]) -> list[Path]:
    """The user's folders that newsbot writes by default (and the ones the user's settings name)."""
    home = Path(env.get("HOME", str(Path.home())))
    cache = Path(env.get("XDG_CACHE_HOME") or home / ".cache") / "newsbot"
    data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share") / "newsbot"
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "newsbot"
    # The derived models (what a test run once wrote there), not reader-training/: a training run may be writing that.
    watched = [cache / "embedding", cache / "reader", data, config]
    for name in ("NEWSBOT_DATA_DIR", "NEWSBOT_FEEDS_DIR"):
        if env.get(name):
            watched.append(Path(env[name]).expanduser())
    if env.get("NEWSBOT_CACHE_DIR"):
        cache_dir = Path(env["NEWSBOT_CACHE_DIR"]).expanduser()
        watched += [cache_dir / "embedding", cache_dir / "reader"]
    return watched


def snapshot(folders: list[Path]) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file under the folders, by path."""
    found: dict[str, tuple[int, int]] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            try:
                stat = path.lstat()
            except OSError:
                continue
            found[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return found


def written_between(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    return sorted(path for path, stat in after.items() if before.get(path) != stat)


@contextmanager
def sandboxed(root: Path) -> Iterator[Sandbox]:
    """Point the folder variables into `root` for as long as the context lasts."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(USER_SETTING_PREFIXES):
                patch.delenv(name)
        for name, relative in {**HOME_FOLDERS, **NEWSBOT_FOLDERS}.items():
            path = root / relative
            if not path.suffix:
                path.mkdir(parents=True, exist_ok=True, mode=0o700)
            patch.setenv(name, str(path))
        yield Sandbox(root)
