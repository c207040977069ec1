"""The segmented BM25 index on its own (no Chroma): bm25s's scores, exact incremental statistics,
copy-on-write updates, compaction and the folder it is saved in."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

import indexing.keyword.bm25 as bm25
from indexing.keyword.bm25 import BM25Index, Doc, tokenize
from indexing.keyword.files import MANIFEST, load, save
from indexing.keyword.packed import PackedStrings

WORDS = (
    "council budget school teacher strike harbour bridge cable repair flood river inquiry resident "
    "minister election vote court judge appeal storm power outage hospital nurse train station delay "
    "volcano ash airport farmer harvest drought museum painting theft football final goal coach"
).split()
QUERIES = (
    "budget school",
    "bridge cable repair",
    "flood river inquiry residents",
    "volcano ash airport delay",
    "court appeal judge",
    "final goal",
    "storm power outage hospital nurses",
    "museum",
)


def article(a: int, version: int = 0, chunks: int = 3) -> list[Doc]:
    rng = random.Random(f"{a}/{version}")
    return [
        Doc(f"a{a}#{version}#{c}", f"a{a}", f"sha{a}.{version}", " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 30))))
        for c in range(chunks)
    ]


def corpus(articles: range) -> list[Doc]:
    return [d for a in articles for d in article(a)]


def fresh(docs: list[Doc]) -> BM25Index:
    return BM25Index.empty().update(add=docs)


def assert_same_results(got: BM25Index, want: BM25Index) -> None:
    assert sorted(got.ids) == sorted(want.ids)
    assert dict(got.articles) == dict(want.articles)
    for query in QUERIES:
        a, b = got.search(query, 100), want.search(query, 100)
        assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-5), query
        # Equal scores may come in either order: compare the ranking as score -> set of chunks.
        assert _by_score(a) == _by_score(b), query


def _by_score(hits) -> dict[float, set[str]]:
    groups: dict[float, set[str]] = {}
    for h in hits:
        groups.setdefault(round(h.score, 4), set()).add(h.chunk_id)
    return groups


def test_scores_are_bm25s_scores():
    import bm25s

    docs = corpus(range(12))
    reference = bm25s.BM25()  # defaults: lucene, k1 1.5, b 0.75
    reference.index(tokenize([d.text for d in docs]), show_progress=False)
    index = BM25Index.empty().update(add=docs[:21]).update(add=docs[21:])  # two segments
    for query in QUERIES:
        tokens = list(dict.fromkeys(tokenize([query])[0]))
        rows, scores = reference.retrieve([tokens], k=len(docs), show_progress=False, n_threads=1)
        want = {docs[r].chunk_id: float(s) for r, s in zip(rows[0], scores[0]) if s > 0}
        got = {h.chunk_id: h.score for h in index.search(query, len(docs))}
        assert got.keys() == want.keys(), query
        assert got == pytest.approx(want, rel=1e-5), query
        assert [s for s in got.values()] == sorted(got.values(), reverse=True)


def test_search_returns_the_best_k_with_positive_scores_only():
    index = fresh(corpus(range(10)))
    hits = index.search("volcano ash", 3)
    assert len(hits) <= 3 and all(h.score > 0 for h in hits)
    assert hits == index.search("volcano ash", 50)[: len(hits)]
    assert index.search("zeppelin", 5) == [] and index.search("the and of", 5) == [] and index.search("museum", 0) == []
    assert BM25Index.empty().search("museum", 5) == []
    assert index.search("museum museum museum", 5) == index.search("museum", 5)  # query tokens deduplicated


def test_updates_keep_the_statistics_exact():
    index = fresh(corpus(range(8)))
    index = index.update(remove=["a2", "a5"])  # deleted
    index = index.update(remove=["a3"], add=article(3, version=1, chunks=5))  # changed
    index = index.update(add=corpus(range(8, 11)))  # added
    index = index.update(remove=["a9", "not-there"])
    survivors = [d for a in (0, 1, 4, 6, 7, 8, 10) for d in article(a)] + article(3, version=1, chunks=5)
    assert_same_results(index, fresh(survivors))
    assert index.articles["a3"] == ("sha3.1", 5)
    assert not any(h.article_id in {"a2", "a5", "a9"} for q in QUERIES for h in index.search(q, 100))


def test_an_update_leaves_the_index_a_reader_holds_unchanged():
    old = fresh(corpus(range(6)))
    before = {q: old.search(q, 100) for q in QUERIES}
    new = old.update(remove=["a1"], add=corpus(range(6, 9)))
    assert new.segments[0] is old.segments[0], "the unchanged segment is shared, not copied"
    assert {q: old.search(q, 100) for q in QUERIES} == before
    assert sorted(old.ids) == sorted(d.chunk_id for d in corpus(range(6)))


def test_adding_an_article_still_indexed_is_refused():
    with pytest.raises(ValueError, match="remove first"):
        fresh(article(1)).update(add=article(1, version=1))


def test_compaction_keeps_the_results_identical():
    index = BM25Index.empty()
    for a in range(6):
        index = index.update(add=article(a))
    index = index.update(remove=["a1"])
    assert len(index.segments) == 5 and index.dead_rows == 0  # a fully dead segment is dropped
    index = index.update(remove=["a3"], add=article(3, version=1))
    compacted = index.compacted()
    assert len(compacted.segments) == 1 and compacted.dead_rows == 0
    assert_same_results(compacted, index)


def test_compaction_happens_on_its_own(monkeypatch):
    monkeypatch.setattr(bm25, "MAX_SEGMENTS", 4)
    index, expected = BM25Index.empty(), []
    for a in range(12):
        index = index.update(add=article(a))
        expected += article(a)
        assert len(index.segments) <= 4
    assert_same_results(index, fresh(expected))

    big = fresh(corpus(range(10)))
    shrunk = big.update(remove=[f"a{a}" for a in range(4)])  # 40% of the rows dead: compacted
    assert shrunk.dead_rows == 0 and len(shrunk.segments) == 1
    assert_same_results(shrunk, fresh(corpus(range(4, 10))))


def test_save_and_load_round_trip(tmp_path):
    folder = tmp_path / "kw"
    index = fresh(corpus(range(5))).update(add=corpus(range(5, 7)), generation=42).update(remove=["a0"])
    save(index, folder)
    loaded = load(folder)
    assert loaded.generation == 42 and len(loaded.segments) == len(index.segments)
    assert loaded.ids == index.ids
    assert_same_results(loaded, index)

    later = loaded.update(remove=["a1", "a2", "a3"], generation=43)  # compacts: old segment files go
    save(later, folder)
    names = {p.name.split(".")[0] for p in folder.iterdir() if p.name.startswith("seg-")}
    assert names == {s.name for s in later.segments}
    assert_same_results(load(folder), later)


def test_a_loaded_index_maps_its_segment_files_and_reads_no_posting(tmp_path):
    folder = tmp_path / "kw"
    index = fresh(corpus(range(5))).update(add=corpus(range(5, 7)), generation=7)
    save(index, folder)
    loaded = load(folder)
    for segment in loaded.segments:
        for array in (segment.tf.data, segment.tf.indices, segment.row_article, segment.lengths):
            assert not array.flags.writeable and not array.flags.owndata  # a view of the mapped file
    assert_same_results(loaded, index)


def _save_in_format_2(index: BM25Index, folder) -> None:
    """What newsbot wrote before format 3: a CSC npz and the rows as JSON per segment."""
    folder.mkdir()
    for segment in index.segments:
        rows = list(range(segment.n_rows))
        names = {"ids": list(segment.ids), "article_ids": [segment.article_of(r) for r in rows], "shas": [segment.sha_of(r) for r in rows]}
        (folder / f"{segment.name}.json").write_text(json.dumps(names))
        tf = segment.tf
        np.savez(folder / f"{segment.name}.npz", data=tf.data, indices=tf.indices, indptr=tf.indptr, shape=np.asarray(tf.shape))
    vocab = sorted(index.vocab, key=index.vocab.__getitem__)
    dead = [np.flatnonzero(~m).tolist() for m in index.alive]
    segments = [{"name": s.name, "dead": d} for s, d in zip(index.segments, dead)]
    (folder / MANIFEST).write_text(json.dumps({"format": 2, "generation": index.generation, "vocab": vocab, "segments": segments}))


def test_an_index_saved_in_format_2_is_read_once_and_saved_again_in_format_3(tmp_path):
    folder = tmp_path / "kw"
    index = fresh(corpus(range(5))).update(add=corpus(range(5, 7)), generation=9).update(remove=["a1"])
    _save_in_format_2(index, folder)
    assert_same_results(load(folder), index)
    assert json.loads((folder / MANIFEST).read_text())["format"] == 3
    assert not list(folder.glob("*.npz")) and len(list(folder.glob("seg-*.bin"))) == len(index.segments)
    assert_same_results(load(folder), index)


def test_a_format_2_index_that_cannot_be_saved_again_still_loads(tmp_path, monkeypatch):
    import indexing.keyword.files as files

    folder = tmp_path / "kw"
    index = fresh(corpus(range(4))).update(generation=5)
    _save_in_format_2(index, folder)

    def read_only(*_args):  # a data dir this process may not write (root ignores chmod, so it is simulated)
        raise PermissionError("read-only file system")

    monkeypatch.setattr(files, "save", read_only)
    assert_same_results(load(folder), index)
    assert json.loads((folder / MANIFEST).read_text())["format"] == 2


def test_packed_strings_keep_every_string_through_take_and_concat():
    words = ["a", "", "ünïcode", "chunk#1", "x" * 300]
    packed = PackedStrings.of(words)
    assert list(packed) == words and packed[2] == "ünïcode" and packed[-1] == "x" * 300 and len(packed) == 5
    assert list(packed.take(np.asarray([4, 0, 2]))) == ["x" * 300, "a", "ünïcode"]
    assert list(PackedStrings.concat([packed, PackedStrings.of(["z"]), PackedStrings.of([])])) == [*words, "z"]
    with pytest.raises(IndexError):
        packed[5]


DAMAGES = ["no folder", "no manifest", "bad manifest", "missing segment", "truncated segment", "bad dead row"]


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_missing_or_damaged_folder_loads_as_none(tmp_path, damage):
    folder = tmp_path / "kw"
    save(fresh(corpus(range(4))).update(add=corpus(range(4, 6))), folder)
    segment = sorted(folder.glob("seg-*.bin"))[0]
    manifest = json.loads((folder / MANIFEST).read_text())
    if damage == "no folder":
        folder = tmp_path / "elsewhere"
    elif damage == "no manifest":
        (folder / MANIFEST).unlink()
    elif damage == "bad manifest":
        (folder / MANIFEST).write_text("{not json")
    elif damage == "missing segment":
        segment.unlink()
    elif damage == "truncated segment":
        segment.write_bytes(segment.read_bytes()[:100])
    else:
        manifest["segments"][0]["dead"] = [10**6]
        (folder / MANIFEST).write_text(json.dumps(manifest))
    assert load(folder) is None


def test_a_search_limited_to_articles_ranks_their_rows_with_the_whole_index_scores():
    index = BM25Index.empty().update(add=corpus(range(0, 20))).update(add=corpus(range(20, 40)))
    wanted = {f"a{a}" for a in range(0, 40, 3)} | {"not-indexed"}
    query = " ".join(WORDS[:6])
    everything = index.search(query, 10_000)
    limited = index.search(query, 5, articles=wanted)
    # The same scores as without the limit (global statistics), the best five of the wanted articles only.
    assert limited == [h for h in everything if h.article_id in wanted][:5]
    assert index.search(query, 5, articles=set()) == []
