"""The Slack HTTP endpoint against junk and slow clients, over real sockets (bot.slack.limits,
bot.slack.asgi; docs/security.md, issue 25 item 7): idle and dripping connections are closed, a slow
body is a 408, junk timestamps and a client gone mid-body are 4xx with one log line and no
traceback, and /slack/install is rate-limited with its expired OAuth states pruned."""

from __future__ import annotations

import logging
import socket
import time
import urllib.error
import urllib.request
from datetime import datetime

import pytest
import sqlalchemy as sa

from bot.chain import NewsBot
from bot.slack import limits
from bot.slack.app import SlackFace
from bot.slack.client import connect
from bot.slack.serve import SlackHttpServer
from testsupport.slack_requests import make_settings, signed_post


def _connect(server: SlackHttpServer) -> socket.socket:
    host, port = server.sock.getsockname()[:2]
    sock = socket.create_connection((host, port), timeout=10)
    return sock


def _closed_within(sock: socket.socket, seconds: float, drip: bytes = b"") -> float:
    """Seconds until the server closed `sock` (sending `drip` a byte at a time meanwhile); fails past `seconds`."""
    began = time.monotonic()
    sock.settimeout(0.2)
    for byte in drip or b"\0" * 1000:
        if drip:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return time.monotonic() - began
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - began
        except TimeoutError:
            pass
        except OSError:
            return time.monotonic() - began
        assert time.monotonic() - began < seconds, "the connection is still open"
    raise AssertionError("the connection is still open")


@pytest.mark.parametrize("how", ["idle", "dripping headers"])
def test_a_connection_without_a_whole_request_head_is_closed(server, monkeypatch, how):
    monkeypatch.setattr(limits, "HEAD_SECONDS", 1.0)
    with _connect(server) as sock:
        drip = b"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 500 if how != "idle" else b""
        assert _closed_within(sock, 5.0, drip) >= 0.9


def test_a_body_that_drips_is_a_408(server, monkeypatch, caplog):
    monkeypatch.setattr(limits, "BODY_SECONDS", 1.0)
    caplog.set_level(logging.INFO, logger="newsbot.slack")
    with _connect(server) as sock:
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{")
        began = time.monotonic()
        sock.settimeout(5)
        reply = b""
        while b"\r\n\r\n" not in reply:
            sock.sendall(b" ")
            try:
                reply += sock.recv(65536)
            except TimeoutError:
                pass
            time.sleep(0.1)
            assert time.monotonic() - began < 5, "no answer to a dripping body"
    assert reply.startswith(b"HTTP/1.1 408")
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("timestamp", ["²", "¹²³", "1" * 5000])  # headers travel as Latin-1: ² and ¹ are digits there
def test_junk_timestamps_are_401_not_500(server, caplog, timestamp):
    status, _, _ = signed_post(server.url, "{}", "application/json", headers={"X-Slack-Request-Timestamp": timestamp})
    assert status == 401
    assert "Traceback" not in caplog.text


def test_a_client_gone_mid_body_is_one_log_line(server, caplog):
    caplog.set_level(logging.INFO)
    with _connect(server) as sock:
        sock.sendall(b'POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"a":')
        time.sleep(0.3)
    deadline = time.monotonic() + 5
    while "went away" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "went away in the middle of a request" in caplog.text
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.fixture
def installable(seed_index, fake, tmp_path):
    settings = make_settings(tmp_path, fake, SLACK_BOT_TOKEN=None, SLACK_CLIENT_ID="1111.2222", SLACK_CLIENT_SECRET="never-logged")
    face = SlackFace(NewsBot(settings, index=seed_index), connect(settings))
    server = SlackHttpServer(face, "127.0.0.1", 0).start()
    yield server, face
    server.stop()
    face.close()


def _install(server: SlackHttpServer) -> int:
    try:
        with urllib.request.urlopen(server.base + "/slack/install", timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_install_starts_are_rate_limited_and_expired_states_pruned(installable):
    server, face = installable
    engine = face.state.engine
    states = sa.Table("slack_oauth_states", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:  # a thousand states a flood of GETs left, long expired
        conn.execute(states.insert(), [{"state": f"old-{n}", "expire_at": datetime(2020, 1, 1)} for n in range(1000)])
    statuses = [_install(server) for _ in range(limits.INSTALLS_PER_MINUTE + 3)]
    assert statuses[: limits.INSTALLS_PER_MINUTE] == [200] * limits.INSTALLS_PER_MINUTE
    assert statuses[limits.INSTALLS_PER_MINUTE :] == [429] * 3
    with engine.connect() as conn:
        left = conn.execute(sa.select(sa.func.count()).select_from(states)).scalar_one()
    assert left == limits.INSTALLS_PER_MINUTE  # the live states of the starts let through, and no expired one
