"""What a hostile feed cannot do (docs/security.md, issue 25): have its body opened as a local file."""

from __future__ import annotations

import pytest

from indexing.arrivals.feeds import FetchError, parse_feed

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
