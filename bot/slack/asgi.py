"""HTTP mode as an ASGI app (Starlette, served by uvicorn: `bot.slack.serve`), around bolt's app.

- `POST /slack/events`: events, slash commands and interactivity. The signature is checked on the
  raw bytes *before* anything parses them: a bad, stale or missing one is a 401 at the cost of one
  HMAC, and a signed body bolt could not parse is a 400; neither reaches bolt, neither logs a
  traceback. Bolt then verifies the signature again itself (never turned off) and dispatches.
- bolt's `dispatch` is synchronous: it runs in a thread (anyio's pool), never on the event loop, so
  one slow request cannot hold up the acks of the others.
- `GET /slack/install` and `/slack/oauth_redirect`: bolt's OAuth flow, with many workspaces;
  install starts are rate-limited per client address (429).
- `GET /healthz`: `ok`.
- A body not in within BODY_SECONDS is a 408; a client gone mid-body, one log line (bot.slack.limits).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.request.internals import parse_body
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.slack import limits
from bot.slack.limits import InstallRate
from bot.slack.oauth import INSTALL_PATH, REDIRECT_PATH
from indexing import secret

if TYPE_CHECKING:
    from bot.slack.app import SlackFace

log = logging.getLogger("newsbot.slack")

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1_000_000  # Slack's payloads are a few kB; this only stops abuse
MAX_AGE_SECONDS = 5 * 60  # Slack's replay window
_TIMESTAMP_DIGITS = 12  # seconds since 1970 for the next 30,000 years; int() of 5,000 digits raised


class TooLarge(Exception):
    pass


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request's body, refusing more than `limit` bytes whether or not Content-Length says so."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def signature_ok(signing_secret: bytes, body: bytes, headers: Any) -> bool:
    """Slack's v0 signature (HMAC-SHA256 of "v0:{timestamp}:{body}") over the raw bytes, at most 5
    minutes old. slack_sdk's verifier raises on an empty timestamp or non-UTF-8 bytes; here junk
    is simply not valid."""
    timestamp = headers.get("x-slack-request-timestamp") or ""
    signature = headers.get("x-slack-signature") or ""
    # isascii: "²" and other Unicode digits pass isdigit() and then fail int(): a 500 with a traceback.
    if (
        not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _TIMESTAMP_DIGITS)
        or not signature.startswith("v0=")
        or abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS
    ):
        return False
    expected = "v0=" + hmac.new(signing_secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def well_formed(body: bytes, content_type: str | None) -> bool:
    """Can bolt parse it: UTF-8, and JSON (or a form whose `payload` is JSON) that is an object."""
    try:
        parsed = parse_body(body.decode("utf-8"), content_type)
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(parsed, dict)


class SlackEndpoint:
    """The Starlette endpoints around one bolt `App`."""

    def __init__(self, app: App, signing_secret: str):
        self.app = app
        self.signing_secret = signing_secret.encode()
        self.installs = InstallRate()

    async def events(self, request: Request) -> Response:
        try:
            with anyio.fail_after(limits.BODY_SECONDS):
                body = await read_body(request)
        except TooLarge:
            return PlainTextResponse("request too large", status_code=413)
        except TimeoutError:
            log.info("a request to %s sent no whole body within %gs: 408", EVENTS_PATH, limits.BODY_SECONDS)
            return PlainTextResponse("request timeout", status_code=408)
        except ClientDisconnect:
            log.info("a client went away in the middle of a request to %s", EVENTS_PATH)
            return PlainTextResponse("client disconnected", status_code=400)
        if not signature_ok(self.signing_secret, body, request.headers):
            return PlainTextResponse("invalid signature", status_code=401)
        content_type = (request.headers.get("content-type") or "").split(";")[0].strip() or None
        if not well_formed(body, content_type):
            return PlainTextResponse("malformed body", status_code=400)
        return await self._in_thread(self.app.dispatch, to_bolt_request(request, body))

    async def install(self, request: Request) -> Response:
        address = request.client.host if request.client else ""
        if self.app.oauth_flow is not None and not self.installs.allow(address):
            log.info("install starts from %s over %d a minute: 429", address, self.installs.per_minute)
            return PlainTextResponse("too many requests", status_code=429, headers={"Retry-After": "60"})
        return await self._oauth(request, "handle_installation")

    async def oauth_redirect(self, request: Request) -> Response:
        return await self._oauth(request, "handle_callback")

    async def _oauth(self, request: Request, step: str) -> Response:
        flow = self.app.oauth_flow
        if flow is None:
            return PlainTextResponse("not found", status_code=404)
        return await self._in_thread(getattr(flow, step), to_bolt_request(request, b""))

    @staticmethod
    async def _in_thread(handler: Callable[[BoltRequest], BoltResponse], bolt_request: BoltRequest) -> Response:
        try:
            response = await run_in_threadpool(handler, bolt_request)
        except Exception:  # a signed request bolt choked on: log it once, answer 500 (Slack retries)
            log.exception("bolt failed on a signed request")
            return PlainTextResponse("internal error", status_code=500)
        return to_starlette_response(response)


async def healthz(_request: Request) -> Response:
    return PlainTextResponse("ok")


def asgi_app(face: SlackFace, close_on_shutdown: bool = False) -> Starlette:
    """The ASGI app for `face`; `close_on_shutdown` when the server owns the face (a worker process)."""
    endpoint = SlackEndpoint(face.app, secret(face.connection.settings.slack_signing_secret) or "")
    routes = [Route(EVENTS_PATH, endpoint.events, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])]
    if face.app.oauth_flow is not None:
        routes += [Route(INSTALL_PATH, endpoint.install, methods=["GET"]), Route(REDIRECT_PATH, endpoint.oauth_redirect, methods=["GET"])]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        if close_on_shutdown:
            face.close()

    return Starlette(routes=routes, lifespan=lifespan)
