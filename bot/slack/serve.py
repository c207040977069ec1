"""Running the Slack face: HTTP (uvicorn serving `bot.slack.asgi`) or Socket Mode.

HTTP mode binds the port itself with a real listen backlog (the standard library's server had 5:
of 50 simultaneous deliveries, 32 got connection resets), then serves it with uvicorn, bolt's
recommended way to production (its built-in server is for development). `workers` > 1 runs that
many uvicorn worker processes on the one socket, each with its own face; they behave as one
because their state is the shared database (`bot.slack.store`), and their index a Chroma server.
Socket Mode uses bolt's built-in handler, with the same Web API client (so SLACK_API_URL applies
to apps.connections.open too).
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import uvicorn
from slack_sdk.errors import SlackApiError
from starlette.applications import Starlette

from bot.slack.app import SlackFace
from bot.slack.asgi import EVENTS_PATH, asgi_app
from bot.slack.limits import MAX_CONNECTIONS, HeadDeadlineProtocol
from indexing import ConfigError, NewsbotError, secret

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.chain import NewsBot
    from bot.slack.client import SlackConnection

log = logging.getLogger("newsbot.slack")

BACKLOG = 2048  # connections the kernel queues before accept(): a burst of deliveries waits, it is not reset
WORKER_APP = "bot.slack.serve:worker_app"


def listen(host: str, port: int, backlog: int = BACKLOG) -> socket.socket:
    """A listening socket on host:port (0: any free port), or a one-line ConfigError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --host/--port") from None
    sock.set_inheritable(True)  # uvicorn's worker processes serve it too
    return sock


def _config(app: Starlette | str, workers: int = 1) -> uvicorn.Config:
    # log_config=None: keep newsbot's logging; no access log (Slack's deliveries are many, and logged when they matter).
    return uvicorn.Config(
        app,
        factory=isinstance(app, str),
        workers=workers,
        log_config=None,
        access_log=False,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=20,
        http=HeadDeadlineProtocol,  # a request head due within limits.HEAD_SECONDS: no idle or dripping connection stays
        limit_concurrency=MAX_CONNECTIONS,  # past it, 503
    )


class SlackHttpServer:
    """The Events API endpoint of one face: uvicorn in a background thread of this process."""

    def __init__(self, face: SlackFace, host: str = "127.0.0.1", port: int = 3000):
        self.sock = listen(host, port)
        self.server = uvicorn.Server(_config(asgi_app(face)))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"http://{host}:{port}{EVENTS_PATH}"

    @property
    def base(self) -> str:
        return self.url.removesuffix(EVENTS_PATH)

    def start(self) -> SlackHttpServer:
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, name="newsbot-slack-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise NewsbotError("the Slack HTTP server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(30)
        self.sock.close()


def worker_app() -> Starlette:
    """One uvicorn worker process: its own checks, bot and face, from the same settings."""
    from bot.chain import NewsBot
    from bot.settings import BotSettings
    from bot.slack.client import connect

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("newsbot").setLevel(logging.INFO)
    settings = BotSettings.from_env()
    face = SlackFace(NewsBot(settings), connect(settings))
    face.warm_up()
    return asgi_app(face, close_on_shutdown=True)


def serve_workers(host: str, port: int, workers: int) -> None:
    """`workers` uvicorn processes on one socket, until Ctrl-C or SIGTERM (uvicorn's supervisor)."""
    from uvicorn.supervisors import Multiprocess

    sock = listen(host, port)
    try:
        Multiprocess(_config(WORKER_APP, workers), sockets=[sock]).run()
    finally:
        sock.close()


def open_socket_mode(face: SlackFace) -> SocketModeHandler:
    """Connect to Slack over Socket Mode (apps.connections.open, then the WebSocket), or a one-line error."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    settings = face.connection.settings
    handler = SocketModeHandler(face.app, secret(settings.slack_app_token), web_client=face.connection.client)
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


def describe(connection: SlackConnection) -> str:
    if connection.identity is None:
        return "for every workspace that installs it"
    return f"as @{connection.identity.user} in {connection.identity.team or connection.identity.team_id}"


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
    if connection.mode == "socket":
        handler = open_socket_mode(face)
        closer: Callable[[], None] = handler.close
        announce(f"newsbot is connected to Slack over Socket Mode {describe(connection)} (Ctrl-C stops)")
    else:
        server = SlackHttpServer(face, host, port).start()
        closer = server.stop
        install = f"; install it at {server.base}/slack/install" if connection.multi_workspace else ""
        announce(f"newsbot is listening on {server.url} {describe(connection)}{install} (Ctrl-C stops)")
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        closer()
        face.close()
