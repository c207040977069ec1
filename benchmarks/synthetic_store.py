"""A synthetic store of any size from a few thousand real embeddings (benchmarks/query_latency.py).

A few thousand distinct news-like paragraphs are embedded for real; every stored chunk is one of them
with its numbers and names varied, and its vector is the paragraph's vector plus a small random
perturbation (renormalised), written straight into the store with the sentence vectors the indexer
stores for the answerer.
"""

from __future__ import annotations

import random
import re
import time
from datetime import date, timedelta

import numpy as np

from indexing.index import NewsIndex
from indexing.sources.article import Article
from indexing.store.records import PreparedArticle
from indexing.text.chunking import Chunk
from indexing.text.sentences import split_sentences

CHUNKS_PER_ARTICLE = 10
NOISE = 0.012  # per dimension: |noise| ~0.24 on a unit vector, cosine ~0.97 before renormalising

_NAMES = [
    "Alma Ruiz",
    "Tobias Weller",
    "Nadia Farouk",
    "Kenji Sato",
    "Ruth Okonjo",
    "Pavel Dvorak",
    "Ines Moreau",
    "Sam Whitfield",
    "Leila Haddad",
    "Jonas Berg",
    "Chiara Conti",
    "Victor Mensah",
]
_PLACES = ["Valparaiso", "Gdansk", "Mombasa", "Halifax", "Bergen", "Cebu", "Tartu", "Mendoza", "Aarhus", "Darwin"]
_BODIES = [
    "the regional council",
    "the port authority",
    "the water board",
    "the nurses' union",
    "the rail operator",
    "the school board",
    "the fisheries agency",
    "the housing ministry",
    "the audit office",
    "the city assembly",
]
_ISSUES = [
    "a new desalination plant",
    "the night train to the capital",
    "cuts to rural bus routes",
    "a bridge toll",
    "the expansion of the container terminal",
    "a four-day school week",
    "a cap on holiday rentals",
    "the sale of the old shipyard",
    "a ban on bottom trawling",
    "a rent freeze",
]
_TEMPLATES = [
    "{name} of {body} said on {day} that {issue} in {place} would go ahead.",
    "About {n} people marched through {place} to protest against {issue}.",
    "The project is expected to cost {n} million euros and to take {k} years.",
    "{body_cap} approved {issue} by {n} votes to {k} after a debate that lasted {k} hours.",
    'Critics, led by {name}, called {issue} "a costly mistake" for {place}.',
    "A final decision on {issue} is expected in {month}, officials in {place} said.",
    "Since {year}, {body} has spent more than {n} million euros on {issue}.",
    "Residents of {place} first raised concerns about {issue} {k} years ago.",
]
_QUESTIONS = [
    "How many people protested against {issue} in {place}?",
    "Who criticised {issue}?",
    "When is a decision on {issue} expected?",
    "How much will {issue} cost?",
    "Where did residents raise concerns about {issue}?",
    "What did {body} decide about {issue}?",
]
_MONTHS = ["January", "March", "May", "July", "September", "November"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def _fill(template: str, rng: random.Random) -> str:
    body = rng.choice(_BODIES)
    return template.format(
        name=rng.choice(_NAMES),
        place=rng.choice(_PLACES),
        body=body,
        body_cap=body[0].upper() + body[1:],
        issue=rng.choice(_ISSUES),
        n=rng.randint(12, 990),
        k=rng.randint(2, 19),
        month=rng.choice(_MONTHS),
        day=rng.choice(_DAYS),
        year=rng.randint(1995, 2021),
    )


def base_paragraphs(count: int, rng: random.Random) -> list[str]:
    """Distinct news-like paragraphs of 3 to 5 sentences (these are embedded for real)."""
    return [" ".join(_fill(t, rng) for t in rng.sample(_TEMPLATES, rng.randint(3, 5))) for _ in range(count)]


def vary(text: str, rng: random.Random) -> str:
    """The same paragraph with other numbers and another name: a different text, nearly the same meaning."""
    text = re.sub(r"\d+", lambda m: str(rng.randint(2, 990)), text)
    old, new = rng.sample(_NAMES, 2)
    return text.replace(old, new)


def perturb(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noisy = vectors + rng.normal(0.0, NOISE, size=vectors.shape).astype(np.float32)
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


def synthetic_article(number: int, texts: list[str], origin: str, published: date) -> tuple[Article, list[Chunk]]:
    """An article whose text is the paragraphs joined; one chunk per paragraph with exact offsets."""
    body = "\n\n".join(texts)
    article = Article.create(
        id=f"{origin}#{number}", title=f"Regional news {number}", published=published, url=None, origin=origin, text=body
    )
    chunks, cursor = [], 0
    for ordinal, text in enumerate(texts):
        start, end = cursor, cursor + len(text)
        chunks.append(Chunk(ordinal, start, end, text, tuple(split_sentences(body, start, end))))
        cursor = end + 2
    return article, chunks


class SyntheticCorpus:
    """Grows one store to each requested size, reusing a few thousand real embeddings."""

    def __init__(self, index: NewsIndex, distinct: int, seed: int = 7):
        self.index = index
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.paragraphs = base_paragraphs(distinct, self.rng)
        began = time.perf_counter()
        embedder = index.batch_embedder  # the vectors a sync would store: the index's backend and precision
        embed_with_spans = getattr(embedder, "embed_with_spans", None)
        self.sentence_vectors: list[np.ndarray] | None = None
        if embed_with_spans is None:
            self.vectors = embedder.embed_documents(self.paragraphs)
        else:  # as the indexer does: chunk vectors plus one vector per sentence, stored for the answerer
            self.vectors, self.sentence_vectors = embed_with_spans(self.paragraphs, [split_sentences(p) for p in self.paragraphs])
        self.embed_seconds = time.perf_counter() - began
        index.ensure_graph()  # as a real sync does: questions then take the ONNX graph of the index's precision
        # A store kept from an earlier run (--data-dir) grows on from where it stopped.
        self.articles = index.store.chunk_count() // CHUNKS_PER_ARTICLE
        self.origin = str(index.settings.data_dir / "synthetic-corpus.jsonl")

    @property
    def chunks(self) -> int:
        return self.articles * CHUNKS_PER_ARTICLE

    def grow_to(self, chunks: int, batch_articles: int = 100) -> float:
        began = time.perf_counter()
        while self.chunks < chunks:
            batch = []
            for _ in range(min(batch_articles, -(-(chunks - self.chunks) // CHUNKS_PER_ARTICLE))):
                picks = [self.rng.randrange(len(self.paragraphs)) for _ in range(CHUNKS_PER_ARTICLE)]
                texts = [vary(self.paragraphs[p], self.rng) for p in picks]
                published = date(2022, 1, 1) + timedelta(days=self.rng.randrange(365))
                article, article_chunks = synthetic_article(self.articles, texts, self.origin, published)
                vectors = perturb(self.vectors[picks], self.np_rng)
                batch.append(
                    PreparedArticle(article, article_chunks, vectors, sentence_vectors=self._sentence_vectors(picks, article_chunks))
                )
                self.articles += 1
            self.index.store.write_articles(batch)
        return time.perf_counter() - began

    def _sentence_vectors(self, picks: list[int], chunks: list[Chunk]) -> list[np.ndarray | None] | None:
        """Each chunk's stored sentence vectors, perturbed like its chunk vector (None where the varied text split differently)."""
        if self.sentence_vectors is None:
            return None
        return [
            perturb(self.sentence_vectors[p], self.np_rng) if len(self.sentence_vectors[p]) == len(c.sentences) else None
            for p, c in zip(picks, chunks)
        ]

    def questions(self, count: int) -> list[str]:
        return synthetic_questions(count)


def synthetic_questions(count: int) -> list[str]:
    """Questions about the synthetic corpus (the same ones every run)."""
    rng = random.Random(11)
    return [_fill(rng.choice(_QUESTIONS), rng) for _ in range(count)]
