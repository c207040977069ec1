"""The visibility gap: a question asked while an article is replaced gets the old or the new version of
that article, never another article. Real Chroma, the real model; the interleavings are forced.

The corpus makes the gap visible: beside the article the question is about ("the Vellmar ferry"),
near-twins tell the same kind of story about other ferries, so whenever the right article is
filtered out or loses its keyword score, a twin answers instead.
"""

from __future__ import annotations

import pytest

import indexing.store.chroma as store_module
from bot.retrieval.search import HybridSearch
from indexing.store.chroma import ChunkStore
from testsupport.corpora import write_txt_article

QUESTION = "Who steered the Vellmar ferry through the storm?"
V1 = (
    "Captain Ingrid Sato steered the Vellmar ferry through the storm on Tuesday night. "
    "All 212 passengers reached the harbour safely, the operator said."
)
V2 = (
    "Captain Ingrid Sato steered the Vellmar ferry through the storm late on Tuesday. "
    "The operator said all 212 passengers and 30 crew reached the harbour safely."
)
TWINS = [
    ("Kestrel", "Ola Berg"),
    ("Marlin", "Dana Cole"),
    ("Osprey", "Yuki Tanaka"),
    ("Heron", "Emil Novak"),
]


@pytest.fixture
def replacing(tmp_path, news_index):
    corpus = tmp_path / "corpus"
    path = write_txt_article(corpus, "vellmar.txt", "Ferry crosses in storm", V1)
    for ship, captain in TWINS:
        write_txt_article(
            corpus,
            f"{ship.lower()}.txt",
            "Ferry crosses in storm",
            f"Captain {captain} steered the {ship} ferry through the storm on Tuesday night. "
            f"All passengers reached the harbour safely, the operator said.",
        )
    news_index.sync([corpus])
    search = HybridSearch(news_index, candidates=4)
    article_id = str(path.resolve())

    def shown() -> tuple[str, str]:
        top = search.search(QUESTION, k=3).passages[0].chunk
        return top.article_id, top.text

    assert shown() == (article_id, V1)
    return {"corpus": corpus, "path": path, "id": article_id, "index": news_index, "search": search, "shown": shown}


def _write_v2(replacing) -> None:
    write_txt_article(replacing["corpus"], "vellmar.txt", "Ferry crosses in storm", V2)


def test_a_question_at_every_step_of_a_replacement_sees_the_old_or_the_new_version(replacing, monkeypatch):
    seen: list[tuple[str, str, str]] = []
    for step in ("_put_records", "_upsert_chunks", "_delete_stale_chunks"):
        original = getattr(ChunkStore, step)

        def asking(self, *args, _original=original, _step=step, **kwargs):
            result = _original(self, *args, **kwargs)
            seen.append((_step, *replacing["shown"]()))
            return result

        monkeypatch.setattr(ChunkStore, step, asking)
    _write_v2(replacing)
    report = replacing["index"].sync([replacing["corpus"]])
    assert report.updated == 1
    assert len(seen) >= 5  # pending, chunks added, committed, old chunks deleted, done
    wrong = [(step, article, text[:40]) for step, article, text in seen if article != replacing["id"] or text not in (V1, V2)]
    assert wrong == []
    assert seen[-1][1:] == (replacing["id"], V2)


@pytest.mark.parametrize("when", ["after the dense read", "before the dense read"])
def test_a_whole_replacement_inside_one_question_is_seen(replacing, monkeypatch, when):
    """The replacement lands between the question's reads: after it read the hits (which hold only the
    old chunks) but before it read the registry (which names only the new version, the old one gone);
    or after it read the generation but before the hits (its cached registry still names the old)."""
    store = replacing["index"].store
    query = store.query
    replaced = []

    def racing_query(vector, k, where=None):
        if when == "before the dense read" and not replaced:
            replaced.append(replacing["index"].sync([replacing["corpus"]]))
        hits = query(vector, k, where)
        if when == "after the dense read" and not replaced:
            replaced.append(replacing["index"].sync([replacing["corpus"]]))
        return hits

    monkeypatch.setattr(store, "query", racing_query)
    _write_v2(replacing)
    article, text = replacing["shown"]()
    assert replaced and replaced[0].updated == 1
    assert (article, text in (V1, V2)) == (replacing["id"], True)
    assert store_module.ChunkStore.committed_versions_of(store, [replacing["id"]])[replacing["id"]][1] == ""  # the replacement finished
