"""The Slack tests' shared parts: the stand-in for Slack, the bot over the seed index, its face
served over HTTP (one of each per test module), a real PostgreSQL server for the run, and two "processes"
(faces with their own engines, pools and HTTP servers) sharing one state database, on either backend."""

from __future__ import annotations

import subprocess

import pytest

from bot.chain import NewsBot
from bot.slack.app import SlackFace
from bot.slack.client import connect
from bot.slack.serve import SlackHttpServer
from testsupport.slack_fake_api import FakeSlack
from testsupport.slack_requests import APP_TOKEN, BOT_TOKEN, make_settings


@pytest.fixture(scope="module")
def fake():
    server = FakeSlack(BOT_TOKEN, APP_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def bot(seed_index, tmp_path_factory, fake) -> NewsBot:
    return NewsBot(make_settings(tmp_path_factory.mktemp("slack"), fake), index=seed_index)


@pytest.fixture(scope="module")
def face(bot):
    face = SlackFace(bot, connect(bot.settings))
    face.warm_up()
    yield face
    face.close()


@pytest.fixture(scope="module")
def server(face):
    http = SlackHttpServer(face, "127.0.0.1", 0).start()
    yield http
    http.stop()


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server for the whole run (its own cluster in a temporary dir); skipped, saying why, where none can start."""
    from testsupport.servers import PostgresServer, PostgresUnavailable

    server = PostgresServer()
    try:
        server.start()
    except (PostgresUnavailable, OSError, subprocess.TimeoutExpired) as exc:
        server.stop()
        pytest.skip(f"no PostgreSQL server could be started here: {exc}")
    yield server.url
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('state') / 'shared.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def two_processes(shared_url, seed_index, fake, tmp_path):
    running = []
    for name in ("b", "c"):
        settings = make_settings(tmp_path / name, fake, NEWSBOT_STATE_URL=shared_url)
        face = SlackFace(NewsBot(settings, index=seed_index), connect(settings))
        running.append((face, SlackHttpServer(face, "127.0.0.1", 0).start()))
    yield [server for _, server in running]
    for face, server in running:
        server.stop()
        face.close()
