"""Hybrid retrieval over a real Chroma index: a LangChain BaseRetriever, BM25 + dense fused, recency."""

from __future__ import annotations

from datetime import date

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda

from bot.langchain import NewsRetriever
from bot.retrieval.search import HybridSearch
from bot.retrieval.timescope import time_scope
from testsupport.corpora import write_jsonl


@pytest.fixture
def dated_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    records = [
        {
            "url": "https://example.test/budget-2021",
            "title": "City council passes budget",
            "date": "2021-03-01",
            "text": "The city council passed its annual budget on Monday. The budget totals 40 million dollars for parks and roads.",
        },
        {
            "url": "https://example.test/budget-2023",
            "title": "City council passes budget",
            "date": "2023-03-01",
            "text": "The city council passed its annual budget on Monday. The budget totals 55 million dollars for parks and roads.",
        },
        {
            "url": "https://example.test/zebra",
            "title": "Zoo news",
            "date": "2022-05-05",
            "text": "Keepers at the zoo welcomed a newborn okapi named Quillipoo. Visitors queued for hours to see the calf.",
        },
    ]
    write_jsonl(corpus / "news.jsonl", records)
    return corpus


def test_retriever_is_a_langchain_base_retriever(seed_index):
    retriever = NewsRetriever.from_index(seed_index, k=3)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("Who led the US delegation?")
    assert 1 <= len(docs) <= 3 and all(isinstance(d, Document) for d in docs)
    meta = docs[0].metadata
    assert meta["title"].startswith("Russia, NATO talks") and meta["published"] == "2022-12-04"
    assert meta["end"] - meta["start"] == len(docs[0].page_content)
    # Composes with LCEL like any retriever.
    chain = retriever | RunnableLambda(lambda ds: [d.metadata["chunk_id"] for d in ds])
    assert chain.invoke("NATO members") == [d.metadata["chunk_id"] for d in retriever.invoke("NATO members")]


def test_keyword_side_finds_a_rare_name(news_index, dated_corpus):
    news_index.sync([dated_corpus])
    result = HybridSearch(news_index).search("Quillipoo", k=3)
    top = result.passages[0]
    assert "Quillipoo" in top.chunk.text
    assert top.keyword_rank == 1


def test_recent_questions_prefer_newer_articles_and_ties_go_to_the_newer(news_index, dated_corpus):
    news_index.sync([dated_corpus])
    search = HybridSearch(news_index)
    assert time_scope("What is the latest city budget?").latest and not time_scope("What did the council pass?").latest
    latest = search.search("What is the latest budget passed by the city council?", k=2).passages
    assert latest[0].chunk.published == "2023-03-01"
    # The two budget articles differ only in one number: the tie on the words goes to the newer one.
    plain = search.search("city council passed its annual budget", k=2).passages
    assert plain[0].chunk.published == "2023-03-01"


def test_uncommitted_chunks_are_invisible(news_index, dated_corpus):
    news_index.sync([dated_corpus])
    search = HybridSearch(news_index)
    store = news_index.store
    # A sync that died after writing a new version's chunks but before its commit.
    from dataclasses import replace

    from indexing.sources.files import read_file
    from indexing.store.records import PreparedArticle
    from indexing.text.chunking import chunk_text

    article = read_file(dated_corpus / "news.jsonl").articles[2]
    changed = replace(article, text=article.text.replace("Quillipoo", "Zorblax"), sha256="f" * 64)
    chunks = chunk_text(changed.text, news_index.embedder.count_tokens)
    vectors = news_index.embedder.embed_documents([c.text for c in chunks])
    store.add_chunks(changed, chunks, vectors)
    hits = search.search("Zorblax okapi", k=5).passages
    assert all("Zorblax" not in p.chunk.text for p in hits)
    assert any("Quillipoo" in p.chunk.text for p in hits)
    assert PreparedArticle  # the public shape write_articles takes


def test_this_week_means_the_week_before_the_day_asked(news_index, dated_corpus):
    news_index.sync([dated_corpus])
    search = HybridSearch(news_index)
    question = "How much is the budget the city council passed this week?"
    # Asked in March 2021, the 2023 budget does not exist yet, and the 2021 one is this week's.
    early = search.search(question, k=3, as_of=date(2021, 3, 4)).passages
    assert early[0].chunk.published == "2021-03-01"
    assert all(p.chunk.published <= "2021-03-04" for p in early)
    assert "40 million" in early[0].chunk.text
    # Asked in March 2023, this week's budget is the 2023 one.
    late = search.search(question, k=3, as_of=date(2023, 3, 2)).passages
    assert late[0].chunk.published == "2023-03-01" and "55 million" in late[0].chunk.text
    assert search.search(question, k=3, as_of=date(2023, 3, 2)).trace["window_days"] == 7


def test_a_week_window_outweighs_a_closer_wording_from_another_year(news_index, dated_corpus):
    news_index.sync([dated_corpus])
    search = HybridSearch(news_index)
    # Without a scope, the two budgets are a near tie that the newer one wins ...
    assert search.search("city council budget", k=1, as_of=date(2024, 1, 1)).passages[0].chunk.published == "2023-03-01"
    # ... but "this week" asked a few days after the 2021 vote keeps that article first, and the newer
    # article (published after the as-of day) is not there at all.
    passages = search.search("city council budget this week", k=3, as_of=date(2021, 3, 5)).passages
    assert passages[0].chunk.published == "2021-03-01"
    assert "2023-03-01" not in {p.chunk.published for p in passages}


def test_a_query_reads_the_registry_only_for_its_hits_articles_once_per_generation(news_index, dated_corpus, monkeypatch):
    extra = [
        {
            "url": f"https://example.test/extra-{n}",
            "title": f"Weather {n}",
            "date": f"2022-01-0{n}",
            "text": f"Rain fell on {n} districts. Forecasters expect a dry weekend.",
        }
        for n in range(1, 6)
    ]
    write_jsonl(dated_corpus / "extra.jsonl", extra)
    news_index.sync([dated_corpus])
    store = news_index.store
    search = HybridSearch(news_index, candidates=1)  # two dense hits, at most two keyword hits

    def whole_registry():
        raise AssertionError("a query read the whole registry")

    reads: list[set[str]] = []
    read_some = store.committed_versions_of
    monkeypatch.setattr(store, "committed_hashes", whole_registry)
    monkeypatch.setattr(store, "committed_versions_of", lambda ids: reads.append(set(ids)) or read_some(ids))
    first = search.search("Quillipoo okapi", k=3).passages
    assert "Quillipoo" in first[0].chunk.text
    assert 1 <= len(reads[0]) <= 4, reads  # of the 8 articles, only those among the hits
    count = len(reads)
    search.search("Quillipoo okapi", k=3)
    assert len(reads) == count, "the same generation's hashes were read again"
    # A sync moves the generation: the cached hashes are dropped and the replaced text is what is found.
    (dated_corpus / "news.jsonl").write_text(
        (dated_corpus / "news.jsonl").read_text(encoding="utf-8").replace("Quillipoo", "Zorblax"), encoding="utf-8"
    )
    news_index.sync([dated_corpus])
    after = search.search("okapi calf Zorblax", k=3).passages
    assert "Zorblax" in after[0].chunk.text and all("Quillipoo" not in p.chunk.text for p in after)
    assert len(reads) > count


def test_an_as_of_day_finds_older_articles_behind_many_newer_ones(news_index, tmp_path):
    corpus = tmp_path / "many"
    corpus.mkdir()
    newer = [
        {
            "url": f"https://example.test/budget-{year}",
            "title": "City council passes budget",
            "date": f"{year}-03-01",
            "text": f"The city council passed its annual budget on Monday. It totals {40 + year % 100} million dollars.",
        }
        for year in range(2012, 2022)
    ]
    older = {
        "url": "https://example.test/budget-2005",
        "title": "Council budget vote",
        "date": "2005-03-01",
        "text": "Councillors voted through the yearly city budget, worth 21 million dollars.",
    }
    write_jsonl(corpus / "news.jsonl", [*newer, older])
    news_index.sync([corpus])
    search = HybridSearch(news_index, candidates=2)  # a small pool, so the newer articles fill it
    question = "How much was the city council budget?"
    assert all(p.chunk.published > "2005-03-01" for p in search.search(question, k=4).passages)
    found = search.search(question, k=4, as_of=date(2006, 1, 1)).passages
    assert [p.chunk.published for p in found] == ["2005-03-01"]
