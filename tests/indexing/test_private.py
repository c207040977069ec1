"""What newsbot writes is private (indexing.private, docs/security.md, item 2 of issue 25): a fresh
data dir is 0700 and every file newsbot, Chroma and SQLite write in it is 0600, whatever the umask;
a data dir an older newsbot left open is narrowed when opened."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from indexing.private import private_file
from testsupport.cli import REPO, clean_env
from testsupport.corpora import write_txt_article

# An index synced, a Slack workspace installed through OAuth and a feed followed, in one data dir.
SLACK_AND_FEEDS = r"""
import sys
from pathlib import Path
from indexing.index import NewsIndex
from indexing.settings import IndexSettings, SettingsSource
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from bot.slack.store import SlackState, create_tables, state_url
from indexing.arrivals.feed_registry import FeedRegistry
data, corpus = Path(sys.argv[1]), sys.argv[2]
env = {"NEWSBOT_DATA_DIR": str(data), "NEWSBOT_CONFIG": str(data) + "-none", "NEWSBOT_EMBED_BACKEND": "torch"}
NewsIndex(IndexSettings.from_env(SettingsSource(env=env))).sync([Path(corpus)])
state = SlackState(state_url(None, data))
store = SQLAlchemyInstallationStore(client_id="111.222", engine=state.engine)
create_tables(store.metadata, state.engine)
store.save(Installation(app_id="A1", team_id="T1", user_id="U1", bot_token="xoxb-not-a-real-token", bot_id="B1", bot_user_id="UB1"))
state.first("event-1")
FeedRegistry(data / "feeds.json").add("https://example.org/feed.xml")
import os, stat
print(sorted(os.listdir(data)), flush=True)
for name in sorted(os.listdir(data)):  # while the database is open: its -wal and -shm exist now
    if name.startswith("slack.sqlite3"):
        print(name, oct(stat.S_IMODE(os.stat(data / name).st_mode)), flush=True)
"""


def _modes(root: Path) -> dict[str, str]:
    """Every folder and file under root (root included) whose mode lets anyone else in, by path."""
    wide = {}
    for folder, _dirs, files in os.walk(root):
        for path in [Path(folder)] + [Path(folder) / f for f in files]:
            info = os.lstat(path)
            mode = stat.S_IMODE(info.st_mode)
            if mode & 0o077 and not stat.S_ISLNK(info.st_mode):  # a link's own mode means nothing
                wide[str(path.relative_to(root))] = f"{mode:04o}"
    return wide


@pytest.fixture
def usual_umask():
    """The usual 022 for this test (and its children), the run's own umask after it."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_fresh_data_dir_and_every_file_in_it_are_private(tmp_path, usual_umask):
    corpus = tmp_path / "corpus"
    write_txt_article(corpus, "harbour.txt", "Harbour reopens", "The harbour reopened on Monday after the storm.")
    data = tmp_path / "data"
    slack = subprocess.run(
        [sys.executable, "-c", SLACK_AND_FEEDS, str(data), str(corpus)], env=clean_env(), capture_output=True, text=True, timeout=300
    )
    assert slack.returncode == 0, slack.stderr
    for name in ("chroma", "chroma.owner", "slack.sqlite3", "feeds.json", "sync.lock", "keyword"):
        assert name in slack.stdout, slack.stdout
    assert "slack.sqlite3-wal 0o600" in slack.stdout and "slack.sqlite3-shm 0o600" in slack.stdout, slack.stdout
    assert _modes(data) == {}
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_an_older_data_dir_is_narrowed_when_opened(tmp_path):
    data = tmp_path / "data"
    (data / "chroma" / "segment").mkdir(parents=True)
    for path in (data, data / "chroma", data / "chroma" / "segment"):
        path.chmod(0o755)
    for path in (data / "chroma" / "chroma.sqlite3", data / "chroma" / "segment" / "header.bin", data / "slack.sqlite3"):
        path.write_text("x")
        path.chmod(0o644)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not newsbot's")
    elsewhere.chmod(0o644)
    (data / "chroma" / "link").symlink_to(elsewhere)
    code = "import sys; from pathlib import Path; from indexing.private import *; d = Path(sys.argv[1]); private_dir(d); private_tree(d / 'chroma'); private_file(d / 'slack.sqlite3')"
    subprocess.run([sys.executable, "-c", code, str(data)], check=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert _modes(data) == {}
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o644, "a link was followed out of the data dir"


def test_private_file_creates_0600_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        private_file(tmp_path / "token.db", create=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "token.db").stat().st_mode) == 0o600
