"""Running the Slack face: HTTP (Events API at /slack/events) or Socket Mode.

HTTP mode serves each request in its own thread (bolt's development server handles one at a
time and always binds 0.0.0.0); bolt verifies every request's signature with the signing secret
and answers 401 to a bad or stale one. Socket Mode uses bolt's built-in handler, with the same
Web API client (so SLACK_API_URL applies to apps.connections.open too).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from slack_bolt import App, BoltRequest
from slack_sdk.errors import SlackApiError

from bot.slack.app import SlackFace
from indexing.errors import ConfigError, NewsbotError
from indexing.settings import secret

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.chain import NewsBot
    from bot.slack.client import SlackConnection

log = logging.getLogger("newsbot.slack")

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1_000_000


def _handler_for(app: App) -> type[BaseHTTPRequestHandler]:
    class SlackRequestHandler(BaseHTTPRequestHandler):
        server_version = "newsbot"
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            if path != EVENTS_PATH or length > MAX_BODY_BYTES:
                self.close_connection = True  # the body stays unread, so this connection carries no more requests
                status, reason = (404, "not found") if path != EVENTS_PATH else (413, "request too large")
                self._reply(status, {}, reason)
                return
            body = self.rfile.read(length).decode("utf-8")
            headers: dict[str, str | Sequence[str]] = {k.lower(): self.headers.get_all(k) or [] for k in set(self.headers.keys())}
            response = app.dispatch(BoltRequest(body=body, query=query, headers=headers))
            self._reply(response.status, response.headers, response.body)

        def do_GET(self) -> None:  # noqa: N802
            if self.path.partition("?")[0] == "/healthz":
                self._reply(200, {}, "ok")
            else:
                self._reply(404, {}, "not found")

        def _reply(self, status: int, headers: dict, body: str | dict) -> None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
            self.send_response(status)
            for name, values in headers.items():
                if name.lower() == "content-length":
                    continue
                for value in values if isinstance(values, (list, tuple)) else [values]:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            log.debug("http %s: " + format, self.client_address[0], *args)

    return SlackRequestHandler


class SlackHttpServer:
    """The Events API endpoint: POST /slack/events (and GET /healthz), one thread per request."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 3000):
        try:
            self.httpd = ThreadingHTTPServer((host, port), _handler_for(app))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --host/--port") from None
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = str(self.httpd.server_address[0]), self.httpd.server_address[1]
        return f"http://{host}:{port}{EVENTS_PATH}"

    def start(self) -> SlackHttpServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="newsbot-slack-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(10)


def open_socket_mode(face: SlackFace) -> SocketModeHandler:
    """Connect to Slack over Socket Mode (apps.connections.open, then the WebSocket), or a one-line error."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    settings = face.connection.settings
    handler = SocketModeHandler(face.app, secret(settings.slack_app_token), web_client=face.client)
    try:
        handler.connect()
    except SlackApiError as exc:
        handler.close()
        error = exc.response.get("error", "unknown error") if exc.response is not None else "unknown error"
        raise ConfigError(
            f"Slack refused SLACK_APP_TOKEN (apps.connections.open: {error}); create an app-level token with the "
            "connections:write scope ('Basic Information' → 'App-Level Tokens') and turn Socket Mode on"
        ) from None
    except Exception as exc:  # network errors, a failed WebSocket handshake
        handler.close()
        raise NewsbotError(f"cannot open the Socket Mode connection to Slack ({type(exc).__name__}: {exc})") from None
    return handler


def serve(
    bot: NewsBot,
    connection: SlackConnection,
    host: str,
    port: int,
    *,
    announce: Callable[[str], None] = log.info,
) -> None:
    """Run until Ctrl-C or SIGTERM: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on host:port."""
    face = SlackFace(bot, connection)
    face.warm_up()
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    who = f"@{connection.identity.user} in {connection.identity.team or connection.identity.team_id}"
    if connection.mode == "socket":
        handler = open_socket_mode(face)
        closer: Callable[[], None] = handler.close
        announce(f"newsbot is connected to Slack over Socket Mode as {who} (Ctrl-C stops)")
    else:
        server = SlackHttpServer(face.app, host, port).start()
        closer = server.stop
        announce(f"newsbot is listening on {server.url} as {who} (Ctrl-C stops)")
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        closer()
        face.close()
