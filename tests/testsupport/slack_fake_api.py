"""A stand-in for Slack, for the Slack tests: the Web API over HTTP, and a Socket Mode WebSocket.

`FakeSlack` answers the Web API methods the bot uses and records every call (method, parameters
from the query, form or JSON body, headers, status), like bolt-python's own mock Web API server.
It keeps the messages posted (and those the tests say users wrote) so conversations.replies
returns a real thread. `fail()` makes a method answer with an HTTP error (429 + Retry-After);
`latency` and `rate_limited` (a fraction of calls answered 429, Retry-After 1) load it like a busy
Slack; `refuse()` makes a method answer with one of Slack's errors (HTTP 200, `ok: false`). The
messages and their methods, streaming included, are in `slack_fake_messages` (Slack's shapes and
errors: `not_in_channel` in the channels of `outside`, `message_not_owned_by_app`, ...). Each token belongs to a workspace (`add_workspace`); `oauth.v2.access` exchanges the codes
of `add_install` for one, as Slack does at the end of an install. Block Kit is checked as Slack
checks it: an empty or too long text is `invalid_blocks`, too much text in all is
`msg_blocks_too_long` (reported at about 12-13k characters: bolt-js #2509, #2867).

`FakeSocket` is a WebSocket server (aiohttp) that apps.connections.open can point to: it says
hello, sends the envelopes a test queued, and records what the client sends back (acks).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from testsupport.slack_fake_messages import Messages


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # the bot's many workers connect at once; the stdlib's 5 would reset them


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int = 200
    at: float = field(default_factory=time.monotonic)
    path: str = ""
    response: dict[str, Any] = field(default_factory=dict)  # what the stand-in answered


@dataclass(frozen=True)
class Workspace:
    team_id: str
    team: str
    bot_user_id: str
    bot_id: str


class FakeSlack:
    def __init__(self, bot_token: str, app_token: str, bot_user_id: str = "UBOT", bot_id: str = "BBOT"):
        self.bot_token, self.app_token = bot_token, app_token
        self.bot_user_id, self.bot_id = bot_user_id, bot_id
        self.workspaces: dict[str, Workspace] = {bot_token: Workspace("T1", "Test Team", bot_user_id, bot_id)}
        self.installs: dict[str, tuple[str, str, str]] = {}  # code -> (token, client id, client secret)
        self.latency = 0.0
        self.rate_limited = 0.0
        self._random = random.Random(12)
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ws_url = ""
        self.outside: set[str] = set()  # channels the bot is not a member of
        self._refusals: dict[str, list[str]] = {}
        self._messages = Messages(self)
        self._failures: dict[str, list[tuple[int, int]]] = {}
        self._ts = itertools.count(1)
        self._cond = threading.Condition()
        self.httpd = _Server(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True

    # ---- control ----------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.base + "/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base}/response/{name}"

    def start(self) -> FakeSlack:
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def new_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def add_message(self, channel: str, user: str, text: str, ts: str, thread_ts: str | None = None) -> dict[str, Any]:
        message = {"type": "message", "user": user, "text": text, "ts": ts}
        if thread_ts:
            message["thread_ts"] = thread_ts
        with self._cond:
            self.messages.setdefault(channel, []).append(message)
        return message

    def add_workspace(self, token: str, team_id: str, team: str, bot_user_id: str, bot_id: str) -> None:
        with self._cond:
            self.workspaces[token] = Workspace(team_id, team, bot_user_id, bot_id)

    def add_install(self, code: str, token: str, client_id: str, client_secret: str) -> None:
        """The code Slack's authorize page would give a user installing the app into the token's workspace."""
        with self._cond:
            self.installs[code] = (token, client_id, client_secret)

    def fail(self, method: str, status: int = 429, retry_after: int = 1, times: int = 1) -> None:
        with self._cond:
            self._failures.setdefault(method, []).extend([(status, retry_after)] * times)

    def refuse(self, method: str, error: str, times: int = 1) -> None:
        """The next `times` calls of `method` get Slack's `{"ok": false, "error": error}`."""
        with self._cond:
            self._refusals.setdefault(method, []).extend([error] * times)

    def expire_streams(self) -> None:
        with self._cond:
            self._messages.expire()

    def calls_to(self, method: str, where: Callable[[Call], bool] = lambda c: True) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method and where(c)]

    def wait_for(self, method: str, where: Callable[[Call], bool] = lambda c: True, timeout: float = 30.0, count: int = 1) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if c.method == method and c.status == 200 and where(c)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {method} call matched in {timeout}s; calls: {[c.method for c in self.calls]}")
                self._cond.wait(left)

    # ---- the Web API ------------------------------------------------------------------------------
    def _oauth_access(self, params: dict[str, Any], basic: str) -> dict[str, Any]:
        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        if basic:
            client_id, _, client_secret = base64.b64decode(basic).decode().partition(":")
        token, want_id, want_secret = self.installs.pop(params.get("code", ""), ("", "", ""))
        if not token:
            return {"ok": False, "error": "invalid_code"}
        if (client_id, client_secret) != (want_id, want_secret):
            return {"ok": False, "error": "invalid_client_id" if client_id != want_id else "bad_client_secret"}
        where = self.workspaces[token]
        return {
            "ok": True,
            "app_id": "A1",
            "authed_user": {"id": "UINSTALLER"},
            "scope": "app_mentions:read,chat:write,commands",
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": where.bot_user_id,
            "team": {"id": where.team_id, "name": where.team},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _answer(self, method: str, params: dict[str, Any], token: str, basic: str = "") -> dict[str, Any]:
        if method == "apps.connections.open":
            return {"ok": True, "url": self.ws_url} if token == self.app_token else {"ok": False, "error": "invalid_auth"}
        if method == "oauth.v2.access":
            return self._oauth_access(params, basic)
        if method == "response_url":
            return {"ok": True}
        where = self.workspaces.get(token)
        if where is None:
            return {"ok": False, "error": "invalid_auth"}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": where.team,
                "user": "newsbot",
                "team_id": where.team_id,
                "user_id": where.bot_user_id,
                "bot_id": where.bot_id,
            }
        refusals = self._refusals.get(method)
        if refusals:
            return {"ok": False, "error": refusals.pop(0)}
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update", "chat.startStream", "chat.appendStream", "chat.stopStream"):
            return self._messages.answer(method, params, where)
        if method == "conversations.replies":
            thread = params["ts"]
            keep_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
            found = [dict(m) for m in self.messages.get(params["channel"], []) if thread in (m["ts"], m.get("thread_ts"))]
            for m in found:
                m.pop("streaming", None)
                if not keep_metadata:
                    m.pop("metadata", None)
            return {"ok": True, "messages": sorted(found, key=lambda m: m["ts"]), "has_more": False}
        return {"ok": True}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                self._handle()

            def do_POST(self) -> None:  # noqa: N802
                self._handle()

            def _handle(self) -> None:
                url = urlparse(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                params: dict[str, Any] = {k: v[0] for k, v in parse_qs(url.query).items()}
                if raw.startswith("{"):
                    params.update(json.loads(raw))
                elif raw:
                    params.update({k: v[0] for k, v in parse_qs(raw).items()})
                for key in ("blocks", "metadata", "chunks"):
                    if isinstance(params.get(key), str):
                        params[key] = json.loads(params[key])
                method = url.path.rsplit("/", 1)[-1] if url.path.startswith("/api/") else "response_url"
                authorization = self.headers.get("Authorization") or ""
                token = authorization.removeprefix("Bearer ")
                basic = authorization.removeprefix("Basic ") if authorization.startswith("Basic ") else ""
                if fake.latency:
                    time.sleep(fake.latency)
                with fake._cond:
                    failures = fake._failures.get(method) or []
                    status, retry_after = failures.pop(0) if failures else (200, 0)
                    if status == 200 and method != "response_url" and fake._random.random() < fake.rate_limited:
                        status, retry_after = 429, 1
                    body = fake._answer(method, params, token, basic) if status == 200 else {"ok": False, "error": "ratelimited"}
                    fake.calls.append(Call(method, params, dict(self.headers.items()), status, path=url.path, response=body))
                    fake._cond.notify_all()
                data = json.dumps(body).encode("utf-8")
                self.send_response(status)
                if retry_after:
                    self.send_header("Retry-After", str(retry_after))
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


class FakeSocket:
    """Slack's Socket Mode end: hello, then the queued envelopes; records what the client sends."""

    def __init__(self) -> None:
        self.envelopes: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []
        self.connections = 0
        self._received = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._runner: Any = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link/?ticket=test"

    async def _ws(self, request: Any) -> Any:
        from aiohttp import WSMsgType, web

        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}})
        for envelope in self.envelopes:
            await ws.send_json(envelope)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                with self._received:
                    self.received.append(json.loads(msg.data))
                    self._received.notify_all()
        return ws

    def start(self) -> FakeSocket:
        from aiohttp import web

        async def boot() -> None:
            app = web.Application()
            app.router.add_get("/link/", self._ws)
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(boot(), self._loop).result(10)
        return self

    def wait_received(self, where: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._received:
            while True:
                for message in self.received:
                    if where(message):
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the client sent no matching message in {timeout}s: {self.received}")
                self._received.wait(left)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
