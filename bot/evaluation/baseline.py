"""The naive-RAG baseline: LangChain's textbook pipeline, run beside newsbot on the same corpus.

- `RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)` over each article's text;
- the same embedding model (all-MiniLM-L6-v2, same local weights), through LangChain's
  `Embeddings` interface;
- `langchain_chroma.Chroma` (its default L2 space; the vectors are unit length, so the ranking
  is the cosine ranking), dense top-4, in its own temporary folder, telemetry off;
- the answer is the sentence of the top chunk most similar to the question;
- it never refuses.

The embeddings go through a small `Embeddings` adapter over newsbot's embedder rather than
`langchain_huggingface.HuggingFaceEmbeddings`: that package (1.2.3) pins huggingface-hub < 2 and
sentence-transformers < 6 (extra "full"), so installing it would downgrade huggingface-hub under
transformers 5 / sentence-transformers 6. The adapter loads the same folder with the same library
(sentence-transformers, normalised vectors), so the vectors are the ones HuggingFaceEmbeddings
would give.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from bot.evaluation.metrics import distinct
from bot.evaluation.systems import RANK_CHUNKS, Quote, SystemAnswer
from indexing import Article, SentenceTransformerEmbedder, split_sentences

CHUNK_SIZE, CHUNK_OVERLAP, TOP_K = 1000, 200, 4
_ADD_BATCH = 256


class LocalEmbeddings(Embeddings):
    """LangChain `Embeddings` over newsbot's local sentence-transformers model."""

    def __init__(self, embedder: SentenceTransformerEmbedder):
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_documents(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()


class NaiveRag:
    name = "baseline"

    def __init__(self, embedder: SentenceTransformerEmbedder, workdir: Path):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma

        self.embeddings = LocalEmbeddings(embedder)
        client = chromadb.PersistentClient(path=str(workdir), settings=ChromaSettings(anonymized_telemetry=False))
        self.store = Chroma(collection_name="baseline", embedding_function=self.embeddings, client=client)
        self.chunks = 0

    def build(self, articles: Iterable[Article], progress: Callable[[int, int], None] | None = None) -> int:
        """Split and embed the articles; returns the number of chunks."""
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True)
        documents = [Document(page_content=a.text, metadata={"article_id": a.id, "title": a.title}) for a in articles]
        chunks = splitter.split_documents(documents)
        for lo in range(0, len(chunks), _ADD_BATCH):
            batch = chunks[lo : lo + _ADD_BATCH]
            self.store.add_documents(batch, ids=[f"c{lo + i}" for i in range(len(batch))])
            if progress:
                progress(lo + len(batch), len(chunks))
        self.chunks = len(chunks)
        return self.chunks

    # The textbook chain has no notion of time: `as_of` is accepted and ignored.
    def answer(self, question: str, as_of: date | None = None) -> SystemAnswer:
        began = time.perf_counter()
        hits = self.store.similarity_search_with_score(question, k=TOP_K)
        if not hits:
            return SystemAnswer("", False, (), time.perf_counter() - began)
        top = hits[0][0]
        quote = self._best_sentence(question, top)
        return SystemAnswer(quote.text, True, (quote,), time.perf_counter() - began)

    def _best_sentence(self, question: str, chunk: Document) -> Quote:
        text = chunk.page_content
        spans = split_sentences(text) or [(0, len(text))]
        vectors = np.asarray(self.embeddings.embed_documents([question, *[text[s:e] for s, e in spans]]))
        s, e = spans[int(np.argmax(vectors[1:] @ vectors[0]))]
        offset = int(chunk.metadata["start_index"])
        return Quote(str(chunk.metadata["article_id"]), offset + s, offset + e, text[s:e])

    def rank_articles(self, question: str, k: int = 10, as_of: date | None = None) -> list[str]:
        hits = self.store.similarity_search_with_score(question, k=RANK_CHUNKS)
        return distinct([str(doc.metadata["article_id"]) for doc, _ in hits])[:k]
