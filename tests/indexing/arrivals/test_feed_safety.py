"""What a hostile feed cannot do (docs/security.md, issue 25): have its body opened as a local file,
send newsbot to an address inside its network (directly or by a redirect, to any scheme), or keep a
fetch going past its deadline. Real sockets on 127.0.0.1 and 127.0.0.2."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from indexing.arrivals import addresses
from indexing.arrivals.feeds import FetchError, fetch, parse_feed

FEED = (
    b'<rss version="2.0"><channel><title>Local secrets</title><item><title>A</title><link>https://x.org/a</link>'
    b"<description>from a local file</description></item></channel></rss>"
)


def test_a_feed_body_that_names_a_local_file_is_not_opened(tmp_path):
    local = tmp_path / "secret-feed.xml"
    local.write_bytes(FEED)
    with pytest.raises(FetchError, match="not a readable RSS or Atom feed"):
        parse_feed(str(local).encode(), "text/plain")  # once: the file's items, read from this machine
    assert parse_feed(FEED)[0] == "Local secrets"  # the same bytes as a body are a feed


# ---- where a feed may send us (item 3), and for how long (item 7) -----------------------------------
class RawServer:
    """A TCP server on `host` whose every connection is answered by `answer(conn)` in a thread of its own."""

    def __init__(self, answer, host: str = "127.0.0.1"):
        self.listener = socket.create_server((host, 0))
        self.port = self.listener.getsockname()[1]
        self.base = f"http://{host}:{self.port}"
        self.answer = answer
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)  # the request (one small GET)
                self.answer(conn)
            except OSError:
                pass

    def close(self) -> None:
        self.listener.close()


def ok(body: bytes):
    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    return answer


def redirect(location: str):
    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % location.encode())

    return answer


@pytest.fixture
def servers():
    started: list[RawServer] = []

    def start(answer, host: str = "127.0.0.1") -> RawServer:
        started.append(RawServer(answer, host))
        return started[-1]

    yield start
    for server in started:
        server.close()


def test_loopback_private_and_link_local_hosts_are_refused(servers):
    feed = servers(ok(FEED))
    with pytest.raises(FetchError, match=r"refused: 127\.0\.0\.1 is at 127\.0\.0\.1, a loopback address"):
        fetch(feed.base + "/feed.xml", timeout=5)  # once: fetched, saved, indexed, quotable in Slack
    for url, kind in [
        (f"http://localhost:{feed.port}/feed.xml", "loopback"),
        (f"http://[::ffff:127.0.0.1]:{feed.port}/", "loopback"),
        (f"http://0.0.0.0:{feed.port}/", "unspecified"),
        ("http://10.1.2.3/feed.xml", "private"),
        ("http://192.168.0.1/", "private"),
        ("http://100.64.0.1/", "shared"),
    ]:
        with pytest.raises(FetchError, match=f"a {kind} address"):
            fetch(url, timeout=5)
    # The setting lets intranet hosts through; link-local (cloud metadata) and multicast never.
    assert fetch(feed.base + "/feed.xml", timeout=5, allow_private=True).body == FEED
    for url, kind in [("http://169.254.169.254/latest/meta-data/", "link-local"), ("http://224.0.0.1/", "multicast")]:
        with pytest.raises(FetchError, match=f"a {kind} address"):
            fetch(url, timeout=5, allow_private=True)


def test_every_redirect_hop_is_judged_again(servers, monkeypatch):
    """127.0.0.1 stands in for a public site (the only kind a test can run); it redirects to 127.0.0.2."""
    real_kind = addresses.kind_of
    monkeypatch.setattr(addresses, "kind_of", lambda a: "public" if str(a) == "127.0.0.1" else real_kind(a))
    inside = servers(ok(b"the intranet's secret"), host="127.0.0.2")
    outside = servers(redirect(inside.base + "/secret"))
    with pytest.raises(FetchError, match=r"127\.0\.0\.2, a loopback address"):
        fetch(outside.base + "/feed.xml", timeout=5)
    for target in ("ftp://127.0.0.1/feed.xml", "file:///etc/passwd", "gopher://127.0.0.1:70/"):
        hop = servers(redirect(target))
        with pytest.raises(FetchError, match="only http and https are fetched"):
            fetch(hop.base + "/feed.xml", timeout=5)
    loop = servers(redirect("/again"))
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetch(loop.base + "/feed.xml", timeout=5)


def drip(head: bytes, body: bytes, pause: float):
    def answer(conn: socket.socket) -> None:
        for byte in head + body:
            conn.sendall(bytes([byte]))
            time.sleep(pause)

    return answer


@pytest.mark.parametrize("where", ["body", "headers"])
def test_a_server_that_drips_is_cut_at_the_deadline(servers, where):
    """Once a 1 byte/s body was still being read after 15 s with a 3 s timeout: every byte reset the socket's."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n"
    body = b"x" * 40
    answer = drip(b"", body, 0.25) if where == "body" else drip(head, body, 0.1)
    if where == "body":
        slow = servers(lambda conn: (conn.sendall(head), answer(conn)))
    else:
        slow = servers(answer)
    began = time.monotonic()
    with pytest.raises(FetchError, match="timed out after 1s"):
        fetch(slow.base + "/feed.xml", timeout=1.0, allow_private=True)
    assert time.monotonic() - began < 2.0


def test_https_connects_to_the_judged_address_and_still_checks_the_certificate(tmp_path, monkeypatch):
    """The connection goes to the address judged; the certificate is checked against the URL's name."""
    import shutil
    import ssl
    import subprocess

    from indexing.arrivals import fetching

    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2"]
        + ["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True,
        capture_output=True,
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                with server_context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(65536)
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
            except (OSError, ssl.SSLError):
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        with pytest.raises(FetchError, match="TLS failed"):  # a certificate no system CA signed
            fetch(f"https://localhost:{port}/", timeout=5, allow_private=True)
        real = ssl.create_default_context
        monkeypatch.setattr(fetching.ssl, "create_default_context", lambda: real(cafile=str(cert)))
        assert fetch(f"https://localhost:{port}/", timeout=5, allow_private=True).body == b"hello"
        with pytest.raises(FetchError, match="TLS failed"):  # the certificate names localhost, not this
            fetch(f"https://127.0.0.1:{port}/", timeout=5, allow_private=True)
    finally:
        listener.close()


def test_an_old_expat_is_said_once(monkeypatch):
    """Issue 25, item 7: this machine's Python 3.11.7 bundles expat 2.5.0, which parses untrusted feed XML."""
    import pyexpat

    from indexing.arrivals import expat, feeds

    monkeypatch.setattr(expat, "_expat_checked", threading.Event())
    monkeypatch.setattr(pyexpat, "version_info", (2, 5, 0))
    monkeypatch.setattr(pyexpat, "EXPAT_VERSION", "expat_2.5.0")
    # The records are caught at the module's own logger: an earlier test's logging setup (the CLI's,
    # bolt's) may have disabled it or stopped its parents passing records on.
    monkeypatch.setattr(expat.log, "disabled", False)
    level = expat.log.level
    expat.log.setLevel(logging.WARNING)  # setLevel, not the attribute: it also clears the loggers' cached levels
    caught: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = caught.append  # type: ignore[method-assign]
    expat.log.addHandler(handler)
    try:  # through `feeds` itself: the module a test imported at its top may since have been imported anew
        feeds.parse_feed(FEED)
        feeds.parse_feed(FEED)
    finally:
        expat.log.removeHandler(handler)
        expat.log.setLevel(level)
    warned = [r.getMessage() for r in caught if "expat" in r.getMessage()]
    assert len(warned) == 1 and "expat_2.5.0" in warned[0] and "2.7.2" in warned[0]
