"""HTTP GET for feeds and article pages: http(s) only, public addresses only (indexing.arrivals.addresses),
redirects followed by hand and each hop judged again, one deadline for the whole exchange, a size
cap, conditional requests (a 304 is an answer, not an error), and short error messages.

Why not urllib: it follows redirects to any scheme (ftp: included) and any host, resolves a name
again when it connects, and its timeout is per socket read, so a server that sends one byte a second
kept a fetch going long past it. Proxy variables (http_proxy ...) are not used: with one, the proxy
would choose where a name leads, past the address check.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit

from indexing.arrivals.addresses import AddressRefused, resolve

USER_AGENT = "newsbot/0.1 (+feed reader)"
MAX_PAGE_BYTES = 5_000_000
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Fetched:
    status: int  # 200, or 304 for "not modified"
    url: str  # after redirects
    body: bytes
    headers: dict[str, str]

    @property
    def charset(self) -> str | None:
        match = re.search(r"charset=([\w.:-]+)", self.headers.get("content-type", ""), re.IGNORECASE)
        return match.group(1) if match else None

    def text(self) -> str:
        charset = self.charset or _sniff_charset(self.body) or "utf-8"
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


class FetchError(Exception):
    """One URL could not be fetched; the message says why in a few words (HTTP 404, timed out ...)."""


def fetch(
    url: str, timeout: float, headers: dict[str, str] | None = None, max_bytes: int = MAX_PAGE_BYTES, allow_private: bool = False
) -> Fetched:
    """GET `url`, redirects included, all within `timeout` seconds; FetchError says why not."""
    deadline = time.monotonic() + timeout
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        location, fetched = _one_hop(current, deadline, timeout, headers or {}, max_bytes, allow_private)
        if fetched is not None:
            return fetched
        current = urljoin(current, location)  # judged again, scheme and address, by the next hop
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _one_hop(
    url: str, deadline: float, timeout: float, headers: dict[str, str], max_bytes: int, allow_private: bool
) -> tuple[str, Fetched | None]:
    """(Location, None) for a redirect, else ("", the answer)."""
    parts, scheme, host, port = _target(url)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError(f"timed out after {timeout:g}s")
    try:
        family, address = resolve(host, port, allow_private)
    except AddressRefused as exc:
        raise FetchError(str(exc)) from None
    except OSError as exc:
        raise FetchError(f"cannot connect ({exc.strerror or exc})") from None
    connection = _connection(scheme, address, port, host, remaining)
    watchdog = threading.Timer(remaining, _abort, args=(connection,))  # the deadline, whatever a server drips
    watchdog.daemon = True
    watchdog.start()
    try:
        try:
            connection.connect()
        except OSError as exc:
            raise _failure(exc, deadline, timeout, f"cannot connect ({exc.strerror or exc})") from None
        return _exchange(connection, url, host, port, headers, max_bytes, deadline, timeout)
    except FetchError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:  # timeouts, resets, a connection the deadline cut
        raise _failure(exc, deadline, timeout, f"{exc.__class__.__name__}: {exc}") from None
    finally:
        watchdog.cancel()
        connection.close()


def _target(url: str) -> tuple[SplitResult, str, str, int]:
    """The URL's parts, scheme, host and port: FetchError for what is not an http(s) URL with a host."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise FetchError(f"not an http(s) URL ({scheme or 'no scheme'}:); only http and https are fetched")
    try:
        host, port = parts.hostname or "", parts.port or _DEFAULT_PORTS[scheme]
    except ValueError as exc:  # a port that is not a number
        raise FetchError(f"bad URL ({exc})") from None
    if not host:
        raise FetchError("bad URL (no host)")
    return parts, scheme, host, port


def _failure(exc: BaseException, deadline: float, timeout: float, otherwise: str) -> FetchError:
    """What a failed connection or exchange is called: a timeout, a TLS failure, else `otherwise`."""
    if time.monotonic() >= deadline or isinstance(exc, TimeoutError):
        return FetchError(f"timed out after {timeout:g}s")
    if isinstance(exc, ssl.SSLError):
        return FetchError(f"TLS failed ({exc.reason or exc})")
    return FetchError(otherwise)


def _exchange(
    connection: http.client.HTTPConnection,
    url: str,
    host: str,
    port: int,
    headers: dict[str, str],
    max_bytes: int,
    deadline: float,
    timeout: float,
) -> tuple[str, Fetched | None]:
    """One GET on an open connection: (Location, None) for a redirect, else ("", the answer)."""
    parts = urlsplit(url)
    shown_host = f"[{host}]" if ":" in host else host
    connection.request(
        "GET",
        parts.path + (f"?{parts.query}" if parts.query else "") or "/",
        headers={
            "Host": shown_host if parts.port is None else f"{shown_host}:{port}",
            "User-Agent": USER_AGENT,
            "Accept": "*/*",
            "Connection": "close",
            **headers,
        },
    )
    response = connection.getresponse()
    answer_headers = {k.lower(): v for k, v in response.getheaders()}
    if response.status in _REDIRECTS and answer_headers.get("location"):
        return answer_headers["location"], None
    if response.status == 304:
        return "", Fetched(304, url, b"", answer_headers)
    if response.status >= 400:
        raise FetchError(f"HTTP {response.status} {response.reason}")
    body = _read_body(response, max_bytes, deadline, timeout)
    return "", Fetched(response.status, url, body, answer_headers)


def _read_body(response: http.client.HTTPResponse, max_bytes: int, deadline: float, timeout: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError(f"timed out after {timeout:g}s")
        chunk = response.read1(65536)  # what has arrived: read(n) would wait for all n bytes
        if not chunk:
            if time.monotonic() >= deadline:  # the watchdog cut it: a short body is no body
                raise FetchError(f"timed out after {timeout:g}s")
            if response.length:  # Content-Length said more
                raise FetchError(f"connection closed {response.length:,} bytes before the end")
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"larger than {max_bytes:,} bytes")
        chunks.append(chunk)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to an address already judged, with the certificate checked against the URL's host name."""

    def __init__(self, address: str, port: int, server_name: str, timeout: float):
        super().__init__(address, port, timeout=timeout, context=ssl.create_default_context())
        self.server_name = server_name

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.server_name)  # type: ignore[attr-defined]


def _connection(scheme: str, address: str, port: int, host: str, timeout: float) -> http.client.HTTPConnection:
    if scheme == "https":
        return _PinnedHTTPS(address, port, host, timeout)
    return http.client.HTTPConnection(address, port, timeout=timeout)


def _abort(connection: http.client.HTTPConnection) -> None:
    """At the deadline: cut the connection, so whatever read is waiting on it returns."""
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _sniff_charset(body: bytes) -> str | None:
    match = re.search(rb"""<meta[^>]+charset=["']?([\w.:-]+)""", body[:4096], re.IGNORECASE)
    if match:
        return match.group(1).decode("ascii", errors="ignore") or None
    match = re.search(rb"""<\?xml[^>]+encoding=["']([\w.:-]+)""", body[:200])
    return match.group(1).decode("ascii", errors="ignore") if match else None
