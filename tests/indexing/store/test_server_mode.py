"""The same index code against a real Chroma server (`chroma run`, started and stopped by PID)."""

from __future__ import annotations

import pytest

from indexing.errors import StoreError
from indexing.index import NewsIndex
from indexing.store.chroma import ChunkStore
from testsupport.corpora import write_txt_article
from testsupport.servers import ChromaServer

CHESS = (
    "The national chess championship ended on Sunday with a surprise winner. "
    "Seventeen-year-old Lena Vogel beat the defending champion in a tense final game that lasted six hours. "
    "Vogel sacrificed her queen on move 31 and forced checkmate nine moves later.\n\n"
    "The organisers said a record 412 players had entered the tournament this year."
)
BRIDGE = (
    "The harbour bridge reopened to traffic on Tuesday after eight months of repairs. "
    "Engineers replaced the worn steel cables and resurfaced the deck at a cost of 42 million dollars.\n\n"
    "Commuters had faced detours of up to forty minutes while the bridge was closed."
)


def server_settings(index_settings, server: ChromaServer):
    # embed_backend torch: no query-time ONNX export per data dir; these tests are about the server.
    return index_settings.replace(chroma_host="127.0.0.1", chroma_port=server.port, embed_backend="torch")


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    write_txt_article(folder, "chess.txt", "Teenager wins chess title", CHESS)
    write_txt_article(folder, "bridge.txt", "Harbour bridge reopens", BRIDGE)
    return folder


def test_sync_query_resync_and_restart(chroma_server, index_settings, embedder, corpus, tmp_path):
    settings = server_settings(index_settings, chroma_server)
    index = NewsIndex(settings)
    report = index.sync([corpus])
    assert (report.added, report.failed) == (2, [])
    assert not (index_settings.data_dir / "chroma").exists(), "server mode keeps no local Chroma files"

    status = index.status()
    assert (status.mode, status.location) == ("server", f"http://127.0.0.1:{chroma_server.port}")
    assert (status.articles, status.chunks) == (2, report.chunks)

    hits = index.store.query(embedder.embed_query("who won the chess championship?"), 3)
    assert hits[0][0].article_id == str((corpus / "chess.txt").resolve())
    assert hits[0][0].text in CHESS
    keyword_hits = index.keywords.current().search("checkmate queen sacrificed", 3)
    assert keyword_hits and keyword_hits[0].article_id == str((corpus / "chess.txt").resolve())

    again = index.sync([corpus])
    assert (again.unchanged, again.embedded_chunks, again.added) == (2, 0, 0)
    committed = index.store.committed_hashes()
    chunk_ids = {c.id for c in index.store.iter_chunks()}

    # Stop the server and start a new one on the same folder: the index is all still there.
    chroma_server.stop()
    restarted = ChromaServer(chroma_server.path).start()
    try:
        after = NewsIndex(server_settings(index_settings, restarted))
        assert after.store.committed_hashes() == committed
        assert {c.id for c in after.store.iter_chunks()} == chunk_ids
        report = after.sync([corpus])
        assert (report.unchanged, report.embedded_chunks) == (2, 0)
        hits = after.store.query(embedder.embed_query("bridge repairs and detours"), 1)
        assert hits[0][0].article_id == str((corpus / "bridge.txt").resolve())
    finally:
        restarted.stop()


def test_two_handles_share_one_server_and_keyword_caches_follow(chroma_server, index_settings, embedder, corpus, tmp_path):
    """Two bot processes on one server: what one syncs, the other's keyword index notices."""
    writer = NewsIndex(server_settings(index_settings, chroma_server).replace(data_dir=tmp_path / "writer"))
    reader = NewsIndex(server_settings(index_settings, chroma_server).replace(data_dir=tmp_path / "reader"))
    writer.sync([corpus])
    assert len(reader.store.committed_hashes()) == 2
    assert reader.keywords.current().search("checkmate", 3)
    assert not reader.keywords.current().search("volcano", 3)

    write_txt_article(corpus, "volcano.txt", "Volcano erupts", "A volcano erupted near the village on Friday. Ash fell for hours.")
    writer.sync([corpus])
    hits = reader.keywords.current().search("volcano", 3)
    assert [h.article_id for h in hits][:1] == [str((corpus / "volcano.txt").resolve())]


def test_server_going_away_is_a_store_error(chroma_server, index_settings):
    settings = server_settings(index_settings, chroma_server)
    ChunkStore(settings)
    chroma_server.stop()
    with pytest.raises(StoreError, match="cannot reach the Chroma server"):
        ChunkStore(settings)
