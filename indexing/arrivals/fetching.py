"""HTTP GET for feeds and article pages: stdlib urllib, a timeout on connecting and on the whole body,
a size cap, conditional requests (a 304 is an answer, not an error), and short error messages."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

USER_AGENT = "newsbot/0.1 (+feed reader)"
MAX_PAGE_BYTES = 5_000_000


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


def fetch(url: str, timeout: float, headers: dict[str, str] | None = None, max_bytes: int = MAX_PAGE_BYTES) -> Fetched:
    """GET with a deadline of about `timeout` seconds for connecting plus `timeout` for the whole body."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*", **(headers or {})})
    began = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            chunks, size = [], 0
            while True:
                if time.monotonic() - began > timeout:
                    raise FetchError(f"timed out after {timeout:g}s")
                chunk = response.read(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"larger than {max_bytes:,} bytes")
                chunks.append(chunk)
            return Fetched(response.status, response.geturl(), b"".join(chunks), {k.lower(): v for k, v in response.headers.items()})
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return Fetched(304, url, b"", {k.lower(): v for k, v in (exc.headers or {}).items()})
        raise FetchError(f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            raise FetchError(f"timed out after {timeout:g}s") from exc
        raise FetchError(f"cannot connect ({reason})") from exc
    except TimeoutError as exc:
        raise FetchError(f"timed out after {timeout:g}s") from exc
    except (OSError, ValueError) as exc:  # connection reset, bad URL, http.client errors
        raise FetchError(f"{exc.__class__.__name__}: {exc}") from exc


def _sniff_charset(body: bytes) -> str | None:
    match = re.search(rb"""<meta[^>]+charset=["']?([\w.:-]+)""", body[:4096], re.IGNORECASE)
    if match:
        return match.group(1).decode("ascii", errors="ignore") or None
    match = re.search(rb"""<\?xml[^>]+encoding=["']([\w.:-]+)""", body[:200])
    return match.group(1).decode("ascii", errors="ignore") if match else None
