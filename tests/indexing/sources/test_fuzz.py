"""A folder of 200+ malformed entries of every kind beside good articles, through a real sync.

Every bad entry must be reported by its path (and none indexed), nothing may raise or hang (FIFOs,
devices), and every good article (one with a non-UTF-8 name, one behind a folder link) must be
indexed and answered from. Real Chroma, the real model, the real chain.
"""

from __future__ import annotations

from collections import Counter

import pytest

from bot.chain import NewsBot
from indexing.index import NewsIndex
from indexing.sources.paths import path_text, text_path
from testsupport.malformed import build


@pytest.fixture
def corpus(tmp_path):
    made = build(tmp_path / "corpus", seed=11, per_kind=8)
    yield made
    made.close()


def reported_by_path(failed, path) -> bool:
    label = path_text(path)
    return any(p == label or p.startswith((f"{label} (", f"{label}:")) for p in failed)


def test_every_bad_entry_is_reported_and_every_good_article_answers(corpus, bot_settings, embedder):
    assert len(corpus.bad) >= 200 and len(set(corpus.bad.values())) >= 25
    index = NewsIndex(bot_settings.index)
    report = index.sync([corpus.root])

    failed = {e.path for e in report.failed}
    missed = [f"{kind}: {path}" for path, kind in corpus.bad.items() if not reported_by_path(failed, path)]
    assert missed == []
    records = index.store.article_records()
    assert set(records) == {g.article_id for g in corpus.good}, "a bad entry was indexed, or a good one was not"
    assert (report.added, report.removed) == (len(corpus.good), 0)
    kinds = Counter(e.kind for e in report.failed)
    assert {"not a regular file", "link loop", "dangling link", "invalid JSON", "invalid date", "no article text"} <= set(kinds)

    for good in corpus.good:
        assert text_path(records[good.article_id].origin) == good.path, "the stored path text maps back to the file"
    bot = NewsBot(bot_settings, index=index)
    for good in corpus.good:
        answer = bot.ask(good.question)
        assert answer.answered and good.answer in answer.text, (good.question, answer.text)
        assert answer.citations[0].article_id == good.article_id

    again = index.sync([corpus.root])  # nothing changes; the broken entries are still reported, nothing removed
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, len(corpus.good))
    assert {e.path for e in again.failed} == failed


def test_reports_are_capped_per_kind_in_the_summary(corpus):
    from rich.console import Console

    from bot.cli.console import print_sync_report
    from indexing.indexer import REPORTED_PATHS, SyncReport, plan_sync

    report = SyncReport(failed=plan_sync([corpus.root], {}, 20_000_000).failed)
    console = Console(record=True, width=1000, soft_wrap=True)
    print_sync_report(report, console)
    lines = console.export_text().splitlines()
    kinds = Counter(e.kind for e in report.failed)
    assert len(report.failed) > 50 and len(lines) <= 2 + len(kinds) * (REPORTED_PATHS + 2)
    assert sorted(line.strip() for line in lines if " × " in line) == sorted(f"{n} × {kind}" for kind, n in kinds.items())
