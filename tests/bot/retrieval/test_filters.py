"""Source and date filters inside both retrievers, over a real Chroma index and the real model."""

from __future__ import annotations

from datetime import date

import pytest

from bot.retrieval.filters import Filters, feed_domains
from bot.retrieval.search import HybridSearch
from indexing.errors import StoreError
from indexing.store.fields import day_number, domain_of
from indexing.store.upgrade import fields_current
from testsupport.corpora import write_jsonl, write_txt_article

_PER_SOURCE = 12


@pytest.fixture
def two_sources(tmp_path, news_index):
    """A dozen tram stories from each of two sites, one a month from January 2024, and two folders of files."""
    corpus = tmp_path / "corpus"
    for site, city in (("www.reuters.com", "Vellmar"), ("apnews.com", "Ostrava")):
        records = [
            {
                "url": f"https://{site}/tram-{n}",
                "title": f"Tram line {n} in {city}",
                "date": date(2024, 1 + n % 12, 10).isoformat(),
                "text": f"The city of {city} opened tram line number {n} to passengers. The tram line cost {n + 3} million euros.",
            }
            for n in range(_PER_SOURCE)
        ]
        write_jsonl(corpus / "feeds" / f"{site}.jsonl", records)
    write_txt_article(corpus / "a", "harbour.txt", "Harbour crane", "A new harbour crane lifted its first tram carriage in Vellmar.")
    write_txt_article(corpus / "b" / "deep", "depot.txt", "Tram depot", "The tram depot in Vellmar was painted green.")
    news_index.sync([corpus])
    return corpus


def _sites(passages) -> set[str]:
    return {domain_of(p.chunk.url) or p.chunk.source for p in passages}


def test_a_source_filter_acts_inside_both_retrievers_so_every_candidate_passes(news_index, two_sources):
    search = HybridSearch(news_index, candidates=8)
    result = search.search("tram line opened in Vellmar", k=8, filters=Filters(source="apnews.com"))
    # The question names the other city, whose articles would win: still a full pool, all from apnews.com.
    assert len(result.passages) == 8
    assert _sites(result.passages) == {"apnews.com"}
    assert len(result.trace["dense"]) == 8
    assert result.trace["keyword"], "the keyword side found nothing inside the filter"
    assert all(p.chunk.url.startswith("https://apnews.com/") for p in result.passages if p.keyword is not None)


def test_a_domain_takes_its_subdomains_and_a_url_names_its_domain(news_index, two_sources):
    search = HybridSearch(news_index, candidates=5)
    for source in ("reuters.com", "https://www.reuters.com/world", "WWW.Reuters.com"):
        assert _sites(search.search("tram line", k=5, filters=Filters(source=source)).passages) == {"reuters.com"}, source


def test_dates_filter_inside_retrieval_and_are_inclusive(news_index, two_sources):
    search = HybridSearch(news_index, candidates=30)
    result = search.search("tram line", k=30, filters=Filters(since=date(2024, 3, 10), until=date(2024, 4, 10)))
    days = {p.published for p in result.passages}
    assert days == {date(2024, 3, 10), date(2024, 4, 10)}
    assert len(result.passages) == 4  # two months, two sites: every passage that passes, however weak


def test_a_folder_by_path_takes_its_subfolders_and_a_folder_by_name(news_index, two_sources):
    search = HybridSearch(news_index, candidates=10)
    by_path = search.search("tram", k=10, filters=Filters(source=str(two_sources / "b"))).passages
    assert [p.chunk.title for p in by_path] == ["Tram depot"]
    by_name = search.search("tram", k=10, filters=Filters(source="a")).passages
    assert [p.chunk.title for p in by_name] == ["Harbour crane"]


def test_a_feed_is_named_by_its_title_or_address():
    feeds = feed_domains([("https://feeds.reuters.com/world.rss", "Reuters World"), ("https://apnews.com/rss", "")])
    assert feeds == {
        "https://feeds.reuters.com/world.rss": "reuters.com",
        "Reuters World": "reuters.com",
        "https://apnews.com/rss": "apnews.com",
    }


def test_a_feed_name_resolves_to_its_site(news_index, two_sources):
    search = HybridSearch(news_index, candidates=5, feeds={"Reuters World": "reuters.com"})
    assert _sites(search.search("tram line", k=5, filters=Filters(source="reuters world")).passages) == {"reuters.com"}


@pytest.mark.parametrize(
    "filters, reason",
    [
        (Filters(source="bbc.co.uk"), "No indexed article is from 'bbc.co.uk': the source filter left nothing"),
        (Filters(since=date(2030, 1, 1)), "No indexed article was published since 2030-01-01: the date filter"),
        (
            Filters(source="a", since=date(2024, 5, 1), until=date(2024, 6, 1)),
            "No indexed article from 'a' was published between 2024-05-01 and 2024-06-01: the source and date filters",
        ),
    ],
)
def test_an_empty_filter_says_which_filter_left_nothing(news_index, two_sources, filters, reason):
    result = HybridSearch(news_index).search("tram line", filters=filters)
    assert result.passages == [] and result.empty_because.startswith(reason)


def test_an_index_written_before_the_filter_fields_is_refused_then_upgraded_by_a_sync(news_index, two_sources):
    store = news_index.store
    # What an older newsbot wrote: chunks without the fields, no fields_version in the meta record.
    got = store.chunks.get(include=["metadatas", "documents", "embeddings"])
    old = [{k: v for k, v in m.items() if k not in ("domain", "folder", "day")} for m in got["metadatas"]]
    store.chunks.delete(ids=got["ids"])
    store.chunks.upsert(ids=got["ids"], embeddings=got["embeddings"], documents=got["documents"], metadatas=old)
    store.set_meta(fields_version=0)
    assert not fields_current(store)
    with pytest.raises(StoreError, match="written before source and date filters: run `newsbot index` once"):
        HybridSearch(news_index).search("tram", filters=Filters(source="apnews.com"))
    report = news_index.sync([two_sources])
    assert report.embedded_chunks == 0 and fields_current(store)  # nothing re-embedded
    passages = HybridSearch(news_index, candidates=5).search("tram line", k=5, filters=Filters(source="apnews.com")).passages
    assert len(passages) == 5 and _sites(passages) == {"apnews.com"}
    assert {m["day"] for m in store.chunks.get(include=["metadatas"])["metadatas"]} >= {day_number(date(2024, 2, 10))}


def test_a_channels_sources_bound_any_of_them_and_narrow_a_users_filter(news_index, two_sources):
    search = HybridSearch(news_index, candidates=8)
    bound = (str(two_sources / "a"), "apnews.com")  # a Slack channel bound to a folder and a site
    result = search.search("tram in Vellmar", k=8, filters=Filters(within=bound))
    assert _sites(result.passages) == {"apnews.com", str(two_sources / "a" / "harbour.txt")}
    assert len(result.passages) == 8 and result.trace["keyword"]
    # A user's own filter narrows inside the binding; outside it, nothing passes, and the reply says why.
    assert _sites(search.search("tram", k=5, filters=Filters(source="apnews.com", within=bound)).passages) == {"apnews.com"}
    outside = search.search("tram", k=5, filters=Filters(source="reuters.com", within=bound))
    assert not outside.passages and "this channel's sources" in outside.empty_because
    nothing = search.search("tram", k=5, filters=Filters(within=("nosuch.example",)))
    assert not nothing.passages and "nosuch.example" in nothing.empty_because
