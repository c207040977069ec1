"""Feeds against a real HTTP server on 127.0.0.1: RSS and Atom, article pages, a malformed feed, a slow
page, a 404, duplicate items, ETag/Last-Modified and 304; the `newsbot feeds` commands.
(The registry's own tests are in test_feed_registry.py.)"""

from __future__ import annotations

import json
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from indexing.arrivals.feed_registry import FeedRegistry
from indexing.arrivals.feeds import FeedPoller, FetchError, fetch, item_path, parse_feed
from indexing.arrivals.watch import Watcher
from indexing.settings import WatchSettings
from indexing.sources.files import read_file
from testsupport.corpora import news_text
from testsupport.servers import free_port

TIMEOUT = 1.0  # seconds; the slow page takes longer


def page(title: str, body: str, published: str = "2023-02-01") -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    return (
        f"<!doctype html><html><head><title>{title} | The Daily Test</title>"
        f'<meta property="og:title" content="{title}">'
        f'<meta property="article:published_time" content="{published}T08:00:00Z"></head>'
        f"<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article>"
        f"<footer>Copyright The Daily Test</footer></body></html>"
    ).encode()


class Site:
    """What the server serves (path -> (status, content type, body, headers)), and what it was asked."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes, dict[str, str]]] = {}
        self.slow: dict[str, float] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def serve(self, path: str, body: bytes, content_type: str = "text/html; charset=utf-8", status: int = 200, **headers: str):
        self.routes[path] = (status, content_type, body, headers)

    def hits(self, path: str) -> list[dict[str, str]]:
        return [h for p, h in self.requests if p == path]


def make_handler(site: Site):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?")[0]
            site.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
            if path in site.slow:
                time.sleep(site.slow[path])
            route = site.routes.get(path)
            if route is None:
                self._send(404, "text/html", b"<html><body><h1>Not found</h1></body></html>", {})
                return
            status, content_type, body, headers = route
            etag = headers.get("ETag")
            if etag and self.headers.get("If-None-Match") == etag:
                self._send(304, content_type, b"", {"ETag": etag})
                return
            modified = headers.get("Last-Modified")
            if modified and not etag and self.headers.get("If-Modified-Since") == modified:
                self._send(304, content_type, b"", {"Last-Modified": modified})
                return
            self._send(status, content_type, body, headers)

        def _send(self, status: int, content_type: str, body: bytes, headers: dict[str, str]) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if body:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out first: that is the point of the slow page

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture
def site():
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", site.port), make_handler(site))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()
    thread.join(5)


def rss(site: Site, items: list[dict]) -> bytes:
    parts = []
    for item in items:
        link = f"<link>{site.base}{item['path']}</link>" if item.get("path") else ""
        summary = f"<description>{item['summary']}</description>" if item.get("summary") else ""
        date = f"<pubDate>{item['date']}</pubDate>" if item.get("date") else ""
        parts.append(f"<item><title>{item['title']}</title>{link}{summary}{date}</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Test Wire</title>'
        f"<link>{site.base}/</link><description>tests</description>{''.join(parts)}</channel></rss>"
    ).encode()


def atom(site: Site, entries: list[dict]) -> bytes:
    parts = [
        f"<entry><title>{e['title']}</title><link href='{site.base}{e['path']}'/><id>{site.base}{e['path']}</id>"
        f"<updated>{e['updated']}</updated><summary>{e.get('summary', '')}</summary></entry>"
        for e in entries
    ]
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Test Atom</title>'
        f"<id>{site.base}/atom</id><updated>2023-02-03T00:00:00Z</updated>{''.join(parts)}</feed>"
    ).encode()


TRAM = news_text(1) + "\n\nThe tram line will reach the quillberry district by spring."
BUDGET = news_text(2) + "\n\nThe budget names the marshwick fund for the first time."
WIND = news_text(3) + "\n\nThe wind farm sits off the coast near Gravelholm."


def publish(site: Site) -> None:
    """A news site: two feeds sharing an item, five pages, and the broken things feeds have."""
    site.serve("/news/tram-plan", page("Tram plan approved", TRAM, "2023-02-01"))
    site.serve("/news/budget", page("Schools budget", BUDGET, "2023-02-02"))
    site.serve("/syndicated/tram", page("Tram plan approved", TRAM, "2023-02-01"))  # same story, other URL
    site.serve("/news/wind", page("Wind farm", WIND, "2023-02-03"))
    site.serve("/news/slow", page("Slow page", news_text(4)))
    site.slow["/news/slow"] = 3.0
    items = [
        {"title": "Tram plan approved", "path": "/news/tram-plan?utm_source=rss", "date": "Wed, 01 Feb 2023 08:00:00 GMT"},
        {"title": "Schools budget", "path": "/news/budget", "date": "Thu, 02 Feb 2023 08:00:00 GMT"},
        {"title": "Tram plan approved", "path": "/news/tram-plan", "date": "Wed, 01 Feb 2023 08:00:00 GMT"},  # listed twice
        {"title": "Tram plan (partner site)", "path": "/syndicated/tram"},
        {
            "title": "Gone &amp; missing",
            "path": "/news/gone",
            "summary": "&lt;p&gt;The ferry to &lt;b&gt;Oskarsund&lt;/b&gt; was cancelled.&lt;/p&gt;",
        },
        {"title": "Slow page", "path": "/news/slow"},
        {"title": "No link at all", "summary": "nothing to fetch"},
    ]
    site.serve("/rss.xml", rss(site, items), "application/rss+xml", ETag='"v1"')
    site.serve(
        "/atom.xml",
        atom(
            site,
            [
                {"title": "Wind farm", "path": "/news/wind", "updated": "2023-02-03T08:00:00Z"},
                {"title": "Schools budget", "path": "/news/budget", "updated": "2023-02-02T08:00:00Z"},
            ],
        ),
        "application/atom+xml",
        **{"Last-Modified": formatdate(1675400000, usegmt=True)},
    )
    site.serve("/broken.xml", b"<html><body>We moved our feed, sorry {{{", "text/html")


def follow(tmp_path: Path, site: Site, *paths: str) -> FeedPoller:
    registry = FeedRegistry(tmp_path / "data" / "feeds.json")
    for path in paths:
        registry.add(site.base + path)
    return FeedPoller(registry, tmp_path / "data" / "feeds", timeout=TIMEOUT, allow_private=True)  # the site is on 127.0.0.1


def by_url(report, site: Site, path: str):
    (result,) = [f for f in report.feeds if f.url == site.base + path]
    return result


def test_poll_saves_new_items_as_articles_and_reports_the_broken_ones(site, tmp_path):
    publish(site)
    poller = follow(tmp_path, site, "/rss.xml", "/atom.xml", "/broken.xml")
    report = poller.poll()

    rss_result = by_url(report, site, "/rss.xml")
    assert rss_result.status == "ok" and rss_result.title == "Test Wire"
    saved = {json.loads(p.read_text())["url"] for p in rss_result.saved}
    assert saved == {site.base + "/news/tram-plan", site.base + "/news/budget", site.base + "/news/gone"}
    # the syndicated copy has the same text under another URL: a duplicate, not saved twice
    assert rss_result.duplicates == 1
    failed = {p.url: p.reason for p in rss_result.failed}
    assert "timed out" in failed[site.base + "/news/slow"]
    assert "no http(s) link" in failed["item 7 (No link at all)"]
    warnings = {p.url: p.reason for p in rss_result.warnings}
    assert "HTTP 404" in warnings[site.base + "/news/gone"] and "summary" in warnings[site.base + "/news/gone"]

    atom_result = by_url(report, site, "/atom.xml")
    assert atom_result.status == "ok"
    assert [json.loads(p.read_text())["url"] for p in atom_result.saved] == [site.base + "/news/wind"]
    assert atom_result.duplicates == 1  # the budget item came through the RSS feed already

    broken = by_url(report, site, "/broken.xml")
    assert broken.status == "error" and "not a readable RSS or Atom feed" in broken.error
    assert (len(report.saved), report.failed_feeds) == (4, 1)

    # The saved files are articles: page text and date from trafilatura, title and date from the feed.
    tram = json.loads(item_path(poller.feeds_dir, site.base + "/news/tram-plan").read_text())
    assert tram["title"] == "Tram plan approved" and tram["date"] == "2023-02-01"
    assert "quillberry district" in tram["text"] and "Copyright" not in tram["text"] and "Home" not in tram["text"]
    assert tram["extracted_from"] == "page" and tram["feed"] == site.base + "/rss.xml"
    gone = json.loads(item_path(poller.feeds_dir, site.base + "/news/gone").read_text())
    assert gone["text"] == "The ferry to Oskarsund was cancelled." and gone["extracted_from"] == "summary"
    assert gone["title"] == "Gone & missing"
    for path in report.saved:
        read = read_file(path)
        assert read.complete and read.articles[0].id == json.loads(path.read_text())["url"]
    assert not list(poller.feeds_dir.rglob(".*"))  # no temporary files left behind


def test_second_poll_sends_validators_gets_304_and_saves_only_new_items(site, tmp_path):
    publish(site)
    poller = follow(tmp_path, site, "/rss.xml", "/atom.xml")
    first = poller.poll()
    assert len(first.saved) == 4
    feeds = {f.url: f for f in poller.registry.feeds()}
    # The slow page failed: the RSS feed's ETag is held back so the next poll fetches it whole and retries.
    assert feeds[site.base + "/rss.xml"].etag == ""
    assert feeds[site.base + "/atom.xml"].last_modified

    site.slow.pop("/news/slow")
    second = poller.poll()
    assert [f.status for f in second.feeds] == ["ok", "not modified"]
    assert "if-none-match" not in site.hits("/rss.xml")[-1]
    assert site.hits("/atom.xml")[-1]["if-modified-since"] == feeds[site.base + "/atom.xml"].last_modified
    assert [json.loads(p.read_text())["url"] for p in second.saved] == [site.base + "/news/slow"]
    assert {f.url: f.etag for f in poller.registry.feeds()}[site.base + "/rss.xml"] == '"v1"'

    third = poller.poll()
    assert [f.status for f in third.feeds] == ["not modified", "not modified"]
    assert site.hits("/rss.xml")[-1]["if-none-match"] == '"v1"'
    assert third.saved == []

    # The feed changes: one new item; the old ones are not fetched again (except those that failed).
    site.serve("/news/port", page("Port strike", news_text(5) + "\n\nDockers at Brennahaven walked out."))
    items = [{"title": "Port strike", "path": "/news/port"}, {"title": "Tram plan approved", "path": "/news/tram-plan"}]
    site.serve("/rss.xml", rss(site, items), "application/rss+xml", ETag='"v2"')
    page_hits = len(site.hits("/news/tram-plan"))
    third = poller.poll([site.base + "/rss.xml"])
    assert [json.loads(p.read_text())["url"] for p in third.saved] == [site.base + "/news/port"]
    assert third.duplicates == 1 and len(site.hits("/news/tram-plan")) == page_hits
    assert {f.url: f.etag for f in poller.registry.feeds()}[site.base + "/rss.xml"] == '"v2"'
    assert {f.url: f.items_saved for f in poller.registry.feeds()}[site.base + "/rss.xml"] == 5


def test_saved_items_index_and_answer(site, tmp_path, news_index):
    publish(site)
    poller = follow(tmp_path, site, "/rss.xml", "/atom.xml")
    poller.poll()
    report = news_index.sync([poller.feeds_dir])
    assert (report.added, report.failed) == (4, [])
    committed = news_index.store.committed_hashes()
    hits = [h for h in news_index.keywords.current().search("marshwick", 5) if committed.get(h.article_id) == h.sha256]
    assert {h.article_id for h in hits} == {site.base + "/news/budget"}
    record = news_index.store.article_records()[site.base + "/news/budget"]
    assert (record.title, record.published, record.url) == ("Schools budget", "2023-02-02", site.base + "/news/budget")


def test_malformed_feed_that_partly_parses_keeps_its_good_items(site, tmp_path):
    site.serve("/news/budget", page("Schools budget", BUDGET))
    body = rss(site, [{"title": "Schools budget", "path": "/news/budget"}]).replace(b"</channel></rss>", b"<item><title>cut off")
    site.serve("/rss.xml", body, "application/rss+xml")
    poller = follow(tmp_path, site, "/rss.xml")
    report = poller.poll()
    (result,) = report.feeds
    assert result.status == "ok" and len(result.saved) == 1
    assert any("malformed feed" in w.reason for w in result.warnings)


def test_unreachable_feed_is_reported_and_others_carry_on(site, tmp_path):
    publish(site)
    registry = FeedRegistry(tmp_path / "feeds.json")
    registry.add(f"http://127.0.0.1:{free_port()}/nothing-listens-here.xml")
    registry.add(site.base + "/missing-feed.xml")
    registry.add(site.base + "/atom.xml")
    report = FeedPoller(registry, tmp_path / "feeds", timeout=TIMEOUT, allow_private=True).poll()
    assert [f.status for f in report.feeds] == ["error", "error", "ok"]
    assert "cannot connect" in report.feeds[0].error
    assert "HTTP 404" in report.feeds[1].error
    assert len(report.saved) == 2
    states = {s.url: s for s in registry.feeds()}
    assert states[site.base + "/missing-feed.xml"].last_error.startswith("HTTP 404")


def test_fetch_times_out_on_a_slow_server(site):
    site.serve("/slow", b"late")
    site.slow["/slow"] = 3.0
    began = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        fetch(site.base + "/slow", timeout=0.5, allow_private=True)
    assert time.monotonic() - began < 2.5


def test_parse_feed_rejects_what_is_not_a_feed():
    with pytest.raises(FetchError, match="not a readable RSS or Atom feed"):
        parse_feed(b"{}", "application/json")
    title, items, skipped, warning = parse_feed(
        b'<rss version="2.0"><channel><title>T</title><item><title>A</title><link>https://x.org/a#frag</link>'
        b"<description>&lt;p&gt;One&lt;/p&gt;&lt;p&gt;Two&lt;/p&gt;</description></item></channel></rss>"
    )
    assert (title, skipped, warning) == ("T", [], "")
    assert items[0].url == "https://x.org/a" and items[0].summary == "One\n\nTwo"


def test_watcher_polls_feeds_and_their_items_become_answerable(site, tmp_path, news_index):
    publish(site)
    data = tmp_path / "data"
    FeedRegistry(data / "feeds.json").add(site.base + "/atom.xml")
    settings = WatchSettings(
        debounce_ms=500,
        quiet_ms=100,
        feed_poll_minutes=0.02,
        feed_timeout=TIMEOUT,
        feeds_allow_private=True,
        feeds_dir=data / "feeds",
        registry_path=data / "feeds.json",
    )
    polls = []
    with Watcher(news_index, [data / "feeds"], settings, on_poll=polls.append) as watcher:
        assert watcher.wait_ready(60)

        def found(word: str) -> set[str]:
            committed = news_index.store.committed_hashes()
            return {h.article_id for h in news_index.keywords.current().search(word, 5) if committed.get(h.article_id) == h.sha256}

        assert watcher.wait_for(lambda h: found("gravelholm") == {site.base + "/news/wind"}, 60)
        # The feed gains an item: the next poll (about a second later) saves it and the watcher indexes it.
        site.serve("/news/port", page("Port strike", news_text(5) + "\n\nDockers at Brennahaven walked out."))
        site.serve(
            "/atom.xml",
            atom(site, [{"title": "Port strike", "path": "/news/port", "updated": "2023-02-04T08:00:00Z"}]),
            "application/atom+xml",
        )
        assert watcher.wait_for(lambda h: found("brennahaven") == {site.base + "/news/port"}, 60)
    assert len(polls) >= 2 and all(not p.failed_feeds for p in polls)


def test_feeds_commands(site, tmp_path, monkeypatch, embedder):
    from typer.testing import CliRunner

    import bot.cli as cli

    publish(site)
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSBOT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("NEWSBOT_FEED_TIMEOUT", str(TIMEOUT))
    monkeypatch.setenv("NEWSBOT_FEEDS_ALLOW_PRIVATE", "true")
    cli.load_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(cli.app, list(args))
        return result

    try:
        assert json.loads(run("feeds", "add", site.base + "/atom.xml", "--json").stdout) == {"url": site.base + "/atom.xml", "added": True}
        assert "already following" in run("feeds", "add", site.base + "/atom.xml").stdout
        listed = json.loads(run("feeds", "list", "--json").stdout)
        assert [f["url"] for f in listed] == [site.base + "/atom.xml"] and listed[0]["last_status"] == ""

        polled = json.loads(run("feeds", "poll", "--json").stdout)
        assert polled["saved"] == 2 and polled["index"]["added"] == 2 and polled["failed_feeds"] == 0
        assert json.loads(run("feeds", "list", "--json").stdout)[0]["items_saved"] == 2
        human = run("feeds", "poll")
        assert human.exit_code == 0 and "not modified" in human.stdout

        bad = run("feeds", "add", "not a url")
        assert bad.exit_code == 1 and "is not a feed address" in bad.stderr

        removed = json.loads(run("feeds", "remove", site.base + "/atom.xml", "--purge", "--json").stdout)
        assert removed == {"url": site.base + "/atom.xml", "removed": True, "articles_deleted": 2, "articles_kept": 0}
        assert json.loads(run("status", "--json").stdout)["articles"] == 0
        assert "no feeds followed" in run("feeds", "poll").stderr
    finally:
        cli.load_settings.cache_clear()
