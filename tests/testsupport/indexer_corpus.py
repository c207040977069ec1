"""The small mixed-format corpus and helpers the indexer tests share (not a test module)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexing.indexer import indexing_signature, versioned
from indexing.sources.files import iter_article_files, read_file
from indexing.store.chroma import ChunkStore
from indexing.store.records import chunk_id
from indexing.text.chunking import chunk_text
from testsupport.corpora import news_text, write_jsonl, write_txt_article

HTML = """<html><head><title>{title}</title>
<meta property="article:published_time" content="2023-03-14">
<link rel="canonical" href="https://news.example.com/{slug}"></head>
<body><nav>Home | World | Sport</nav><article><h1>{title}</h1>{paras}</article><footer>(c) Example</footer></body></html>"""


def short_text(seed: int) -> str:
    """Two short paragraphs: two or three chunks at the budget these tests use, cheap to embed."""
    return news_text(seed, paragraphs=2, sentences=3)


def html_page(seed: int, title: str, slug: str) -> str:
    paras = "".join(f"<p>{p}</p>" for p in short_text(seed).split("\n\n"))
    return HTML.format(title=title, slug=slug, paras=paras)


def build_corpus(root: Path) -> Path:
    """One file (or record) of every supported shape: 14 articles in 10 files."""
    corpus = root / "corpus"
    write_txt_article(corpus, "dated.txt", "Tram network to grow", short_text(1))
    (corpus / "undated.txt").write_text("Harbour authority reviews fees\n" + short_text(2), encoding="utf-8")
    (corpus / "notes" / "front.md").parent.mkdir(parents=True)
    (corpus / "notes" / "front.md").write_text(
        "---\ntitle: Water prices to rise\ndate: 2022-11-30\nurl: https://news.example.com/water\n---\n" + short_text(3), encoding="utf-8"
    )
    (corpus / "notes" / "plain.md").write_text("# Night flights banned\n\n" + short_text(4), encoding="utf-8")
    (corpus / "web" / "bridge.html").parent.mkdir(parents=True)
    (corpus / "web" / "bridge.html").write_text(html_page(5, "Bridge contract signed", "bridge"), encoding="utf-8")
    (corpus / "web" / "wind.htm").write_text(html_page(6, "Wind power strategy", "wind"), encoding="utf-8")
    (corpus / "one.json").write_text(json.dumps({"title": "Sugar tax", "body": short_text(7), "published": "2022-10-01"}), encoding="utf-8")
    (corpus / "list.json").write_text(
        json.dumps(
            {
                "articles": [
                    {"id": "h1", "title": "Hospitals merge", "text": short_text(8), "date": "2022-09-09"},
                    {"id": "h2", "title": "Schools budget", "text": short_text(9), "date": "2022-09-10"},
                ]
            }
        ),
        encoding="utf-8",
    )
    feed = [
        {
            "doc_id": f"2022061{n}_{n}",
            "url": f"https://news.example.com/2022/06/1{n}/story-{n}",
            "title": None if n == 2 else f"Story {n}",
            "publish_date": "2022/06/12",
            "authors": ["A. Reporter"],
            "origin": "cnn",
            "week": "20220612",
            "text": short_text(10 + n),
        }
        for n in range(3)
    ]
    write_jsonl(corpus / "feeds" / "articles.jsonl", feed)
    (corpus / "feeds" / "more.jsonl").write_text(
        "\n".join(json.dumps({"id": f"m{n}", "title": f"More {n}", "text": short_text(20 + n)}) for n in range(2)) + "\n", encoding="utf-8"
    )
    return corpus


CORPUS_ARTICLES = 14


def read_all(corpus: Path, settings) -> dict:
    """The corpus's articles as the index records them: hashed with the indexing signature too."""
    signature = indexing_signature(settings)
    return {a.id: versioned(a, signature) for path in iter_article_files([corpus]) for a in read_file(path).articles}


@pytest.fixture
def settings(index_settings):
    # A small chunk budget: several chunks per article from short texts, so the tests embed little.
    return index_settings.replace(chunk_tokens=48, chunk_overlap_tokens=12)


@pytest.fixture
def store(settings):
    return ChunkStore(settings)


def expected_chunk_ids(articles, embedder, settings) -> set[str]:
    return {
        chunk_id(a, c.ordinal)
        for a in articles
        for c in chunk_text(a.text, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_tokens)
    }


def stored_ids(store: ChunkStore) -> set[str]:
    return {c.id for c in store.iter_chunks()}
