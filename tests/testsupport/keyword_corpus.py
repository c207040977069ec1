"""Three small articles the keyword-index tests index, and the keyword index built from scratch to compare with."""

from __future__ import annotations

import pytest

import indexing.keyword.index as keyword
from indexing.keyword.bm25 import BM25Index
from testsupport.corpora import write_txt_article

ARTICLES = {
    "chess.txt": ("Teenager wins chess title", "Lena Vogel won the national chess championship. She sacrificed her queen on move 31."),
    "bridge.txt": ("Harbour bridge reopens", "The harbour bridge reopened after repairs. Engineers replaced the steel cables."),
    "flood.txt": ("Flood inquiry opens", "An inquiry into the spring flooding opened on Monday. Residents described the damage."),
}


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    for name, (title, body) in ARTICLES.items():
        write_txt_article(folder, name, title, body)
    return folder


def from_scratch(store) -> BM25Index:
    """The keyword index of the store's committed chunks, built from empty."""
    return keyword.reconcile(BM25Index.empty(), store, store.generation())
