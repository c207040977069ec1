"""A Chroma server behind token auth (CHROMA_AUTH_TOKEN; docs/security.md, issue 25 item 7): every
request carries `Authorization: Bearer <token>`, and a refused token is one line naming the setting.
`chroma run` itself has no auth, so a real server sits behind a small checking proxy, as in production."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from indexing.errors import StoreError
from indexing.store.chroma import ChunkStore

TOKEN = "ck-test-token-never-logged"


class CheckingProxy:
    """Forwards to the Chroma server only requests with the right bearer token; 401 otherwise."""

    def __init__(self, upstream_port: int):
        self.seen: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _forward(self) -> None:
                auth = self.headers.get("Authorization", "")
                proxy.seen.append(auth)
                if auth != f"Bearer {TOKEN}":
                    body = b'{"error":"Unauthorized","message":"missing or wrong token"}'
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "authorization")}
                upstream.request(self.command, self.path, self.rfile.read(length) if length else None, headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "content-length", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_token_goes_with_every_request_and_a_refusal_names_the_setting(chroma_server, index_settings, caplog):
    proxy = CheckingProxy(chroma_server.port)
    try:
        behind = index_settings.replace(chroma_host="127.0.0.1", chroma_port=proxy.port)
        with pytest.raises(StoreError) as refused:
            ChunkStore(behind)
        assert "CHROMA_AUTH_TOKEN" in str(refused.value) and "\n" not in str(refused.value)
        store = ChunkStore(behind.replace(chroma_auth_token=TOKEN))
        store.bump_generation()
        assert store.generation() > 0
        assert proxy.seen and proxy.seen[-1] == f"Bearer {TOKEN}"
        assert TOKEN not in caplog.text and TOKEN not in str(refused.value)
    finally:
        proxy.close()
