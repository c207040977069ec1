"""The feed registry: add, list and remove feeds in one JSON file, atomically, with concurrent writers."""

from __future__ import annotations

import json
import threading

import pytest

from indexing.arrivals.feed_registry import FeedError, FeedRegistry, normalize_url


def test_registry_add_list_remove_and_atomic_json(tmp_path):
    registry = FeedRegistry(tmp_path / "feeds.json")
    state, created = registry.add(" https://Example.org/feed.xml?utm_campaign=x ")
    assert created and state.url == "https://example.org/feed.xml"
    assert registry.add("https://example.org/feed.xml#top") == (state, False)
    registry.add("https://example.org/other.xml")
    assert [s.url for s in registry.feeds()] == ["https://example.org/feed.xml", "https://example.org/other.xml"]
    raw = json.loads((tmp_path / "feeds.json").read_text())
    assert raw["version"] == 1 and len(raw["feeds"]) == 2
    removed, items = registry.remove("https://example.org/feed.xml")
    assert removed.url == "https://example.org/feed.xml" and items == []
    with pytest.raises(FeedError, match="not following"):
        registry.remove("https://example.org/feed.xml")
    with pytest.raises(FeedError, match="http:// or https://"):
        registry.add("ftp://example.org/feed")
    (tmp_path / "feeds.json").write_text("{ half written")
    with pytest.raises(FeedError, match="not valid JSON"):
        registry.feeds()
    assert normalize_url("HTTPS://A.org/x?utm_source=1&b=2#c") == "https://a.org/x?b=2"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_registry_keeps_concurrent_writers_changes(tmp_path):
    registry = FeedRegistry(tmp_path / "feeds.json")
    errors = []

    def add_many(prefix: str) -> None:
        try:
            for i in range(15):
                FeedRegistry(tmp_path / "feeds.json").add(f"https://example.org/{prefix}{i}.xml")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add_many, args=(p,)) for p in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(registry.feeds()) == 45
