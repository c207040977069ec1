"""The embedding backends: torch (sentence-transformers), onnxruntime fp32 and int8 graphs exported from
the same weights. Batches and single questions of one index come from one graph; an index records what
made its vectors and refuses settings that would embed questions at another precision."""

from __future__ import annotations

import logging
import os
import shutil
import signal
from contextlib import contextmanager

import numpy as np
import pytest
import torch

from indexing import indexer
from indexing.embedding.export import MIN_COSINE, export_graph, graph_path
from indexing.embedding.models import SentenceTransformerEmbedder
from indexing.embedding.onnx import OnnxEmbedder
from indexing.errors import ConfigError, ModelError, StoreError
from indexing.index import WORKER_NICE, NewsIndex
from indexing.settings import IndexSettings, SettingsSource
from indexing.sources.article import Article
from indexing.store.chroma import ChunkStore
from indexing.text.chunking import chunk_text

TEXTS = [
    "NATO talks\nWendy R., Under Secretary of State, led the U.S. delegation to the talks. Russia sent Sergei A.",
    "Budget\nThe council approved the new budget for public schools by 31 votes to 12 on Monday evening.",
    "Who led the US delegation?",
    "A short one.",
]
SPANS = [[(11, 74), (75, 92)], [(7, 92)], [(0, 26)], [(0, 12)]]


@pytest.fixture(scope="module")
def graphs(tmp_path_factory, embedder):
    """Both graphs exported once for the module (each export takes a few seconds)."""
    folder = tmp_path_factory.mktemp("graphs")
    root_level = logging.getLogger().level
    exported = {p: export_graph(embedder, graph_path(folder, embedder.name, p), p) for p in ("fp32", "int8")}
    # The quantizer's chatter is quieted for its own call only: a process's later warnings still show.
    assert logging.getLogger().level == root_level
    return exported


def _onnx(embedder, graph, precision, threads=1, batch_size=32):
    return OnnxEmbedder(embedder.name, embedder.model_dir, graph, precision, threads=threads, batch_size=batch_size)


def _settings(data_dir, **env: str) -> IndexSettings:
    return IndexSettings.from_env(SettingsSource(env={"NEWSBOT_DATA_DIR": str(data_dir), "NEWSBOT_CONFIG": str(data_dir / "none"), **env}))


# ---- the graphs ---------------------------------------------------------------------------------


def test_fp32_graph_gives_torchs_vectors_and_sentence_vectors(embedder, graphs):
    fast = _onnx(embedder, graphs["fp32"], "fp32", threads=2, batch_size=3)  # length-sorted batches of 3, padded
    vectors, spans = fast.embed_with_spans(TEXTS, SPANS)
    ref_vectors, ref_spans = embedder.embed_with_spans(TEXTS, SPANS)
    assert np.all((vectors * ref_vectors).sum(axis=1) > MIN_COSINE["fp32"])
    for ours, theirs in zip(spans, ref_spans):
        assert ours.shape == theirs.shape and np.all((ours * theirs).sum(axis=1) > 0.9999)
    assert np.allclose(fast.embed_documents(TEXTS), vectors, atol=1e-5)  # the same vectors without spans
    assert fast.count_tokens(TEXTS) == embedder.count_tokens(TEXTS)  # chunk budgets do not depend on the backend
    assert fast.embed_documents([]).shape == (0, 384)


def test_int8_graph_is_close_to_fp32_but_not_the_same(embedder, graphs):
    int8 = _onnx(embedder, graphs["int8"], "int8").embed_documents(TEXTS)
    fp32 = embedder.embed_documents(TEXTS)
    cosines = (int8 * fp32).sum(axis=1)
    assert np.all(cosines > MIN_COSINE["int8"])
    assert np.any(cosines < 0.9999)  # quantised: why an index never mixes the two
    assert graphs["int8"].stat().st_size < graphs["fp32"].stat().st_size / 3


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_a_texts_vector_does_not_depend_on_its_batch(embedder, graphs, precision):
    """A question is embedded alone, its chunks in batches: they must get the same vectors. (Batched
    int8 did not: one activation scale per run made a text's vector depend on its neighbours.)"""
    one_by_one = np.stack([_onnx(embedder, graphs[precision], precision).embed_query(t) for t in TEXTS])
    batched = _onnx(embedder, graphs[precision], precision, threads=2, batch_size=4).embed_documents(TEXTS)
    assert np.all((one_by_one * batched).sum(axis=1) > 0.9999)


def test_exporting_leaves_the_shared_model_as_it_was(embedder, graphs):
    """The exporter flips the model's training flag and attention implementation while it traces; the
    shared model must come back in eval mode (no dropout) with its own attention, so vectors stay put."""
    model = embedder.model[0].auto_model
    assert not model.training and model.config._attn_implementation != "eager"
    before, _ = embedder.embed_with_spans(TEXTS[:1], SPANS[:1])
    again, _ = embedder.embed_with_spans(TEXTS[:1], SPANS[:1])
    assert np.allclose(before, again, atol=1e-6)


# ---- what an index records and refuses ------------------------------------------------------------


def test_a_new_index_is_int8_on_onnx_and_its_questions_use_the_same_graph(seed_index):
    index, settings = seed_index, seed_index.settings
    assert (index.store.precision, index.store.built_by) == ("int8", "onnx")
    assert (index.store.meta()["embed_precision"], index.store.meta()["embed_backend"]) == ("int8", "onnx")
    batch, query = index.batch_embedder, index.query_embedder
    assert isinstance(batch, OnnxEmbedder) and isinstance(query, OnnxEmbedder)
    assert batch.graph == query.graph == graph_path(settings.data_dir / "models", settings.embed_model, "int8")
    assert batch.graph.is_file()  # installed by the sync, once
    # A question embedded alone finds the chunk the batch embedded, with the stored vector's own score.
    chunk = next(iter(index.store.iter_chunks()))
    (hit, score), *_ = index.store.query(query.embed_query(f"{chunk.title}\n{chunk.text}"), 1)
    assert hit.id == chunk.id and score > 0.999


def test_fp32_asked_for_by_name_is_what_a_new_index_gets(tmp_path):
    from testsupport.corpora import write_txt_article

    corpus = tmp_path / "corpus"
    write_txt_article(corpus, "one.txt", "Budget", TEXTS[1])
    index = NewsIndex(_settings(tmp_path, NEWSBOT_EMBED_PRECISION="fp32"))
    assert index.sync([corpus]).embedded_chunks > 0
    assert (index.store.meta()["embed_precision"], index.store.meta()["embed_backend"]) == ("fp32", "onnx")
    assert index.query_embedder.graph == graph_path(tmp_path / "models", index.settings.embed_model, "fp32")


def test_an_int8_index_refuses_fp32_and_torch_questions(tmp_path, embedder, graphs):
    settings = _settings(tmp_path, NEWSBOT_EMBED_PRECISION="int8")
    exported = graph_path(settings.data_dir / "models", settings.embed_model, "int8")
    exported.parent.mkdir(parents=True)
    shutil.copy(graphs["int8"], exported)  # what the sync would export first, already in place
    index = NewsIndex(settings)
    assert index.sync().embedded_chunks > 0
    assert index.store.meta()["embed_precision"] == "int8"
    query = index.query_embedder
    assert isinstance(query, OnnxEmbedder) and (query.graph, query.precision) == (exported, "int8")
    chunk = next(iter(index.store.iter_chunks()))
    (hit, score), *_ = index.store.query(query.embed_query(f"{chunk.title}\n{chunk.text}"), 1)
    assert hit.id == chunk.id and score > 0.999
    # `auto` adopts the index's int8; settings that would embed questions otherwise are refused in one line.
    assert ChunkStore(_settings(tmp_path)).precision == "int8"
    for env, fix in (
        ({"NEWSBOT_EMBED_PRECISION": "fp32"}, "NEWSBOT_EMBED_PRECISION=int8"),
        ({"NEWSBOT_EMBED_BACKEND": "torch"}, "NEWSBOT_EMBED_BACKEND=onnx"),
    ):
        with pytest.raises(StoreError, match="holds int8 vectors \\(made by onnx\\)") as refused:
            ChunkStore(_settings(tmp_path, **env))
        assert fix in str(refused.value) and "\n" not in str(refused.value)


def test_an_index_from_before_precisions_were_recorded_is_torch_fp32(index_settings, embedder):
    """Such an index holds torch's fp32 vectors: `auto` keeps it fp32, ONNX fp32 questions may meet
    them (the same vectors), int8 is refused; an index without vectors takes the settings'."""
    store = ChunkStore(index_settings)
    article = Article.create(id="a1", title="Budget", published=None, url=None, origin="/news/a1.txt", text=TEXTS[1])
    chunks = chunk_text(article.text, embedder.count_tokens)
    store.add_chunks(article, chunks, embedder.embed_documents([c.text for c in chunks]))  # vectors, no record of their maker
    assert "embed_precision" not in store.meta()
    reopened = ChunkStore(index_settings.replace(embed_backend="onnx"))
    assert (reopened.precision, reopened.built_by) == ("fp32", "torch")
    with pytest.raises(StoreError, match="holds fp32 vectors"):
        ChunkStore(index_settings.replace(embed_backend="onnx", embed_precision="int8"))
    empty = index_settings.replace(collection_prefix="another", embed_backend="onnx", embed_precision="int8")
    assert ChunkStore(empty).precision == "int8"  # nothing written: any settings may open it


def test_a_new_index_whose_graphs_cannot_be_exported_is_built_by_torch_in_fp32_and_says_so(tmp_path, caplog):
    settings = _settings(tmp_path, NEWSBOT_CACHE_DIR=str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "embedding").write_text("a file where the machine's graphs would go")  # the export cannot write
    index = NewsIndex(settings)
    with caplog.at_level(logging.WARNING, logger="indexing.index"):
        assert index.sync().embedded_chunks > 0
    assert "cannot export the embedding model to ONNX" in caplog.text
    assert "this new index gets fp32 vectors instead" in caplog.text and "indexing with torch instead" in caplog.text
    assert isinstance(index.batch_embedder, SentenceTransformerEmbedder)
    assert isinstance(index.query_embedder, SentenceTransformerEmbedder)  # no graph: torch, the same vectors
    assert (index.store.meta()["embed_precision"], index.store.meta()["embed_backend"]) == ("fp32", "torch")


def test_an_embedder_of_another_precision_cannot_write_into_an_index(tmp_path, embedder, graphs):
    from indexing.indexer import sync
    from testsupport.corpora import write_txt_article

    settings = _settings(tmp_path, NEWSBOT_EMBED_PRECISION="int8")
    corpus = tmp_path / "corpus"
    write_txt_article(corpus, "one.txt", "Budget", TEXTS[1])
    store = ChunkStore(settings)
    with pytest.raises(StoreError, match="holds int8 vectors; fp32 ones cannot join them"):
        sync([corpus], store, embedder, settings)  # torch's fp32 vectors into an int8 index
    assert store.chunk_count() == 0
    assert sync([corpus], store, _onnx(embedder, graphs["int8"], "int8"), settings).embedded_chunks > 0


def test_int8_with_torch_is_a_config_error(isolated_env):
    with pytest.raises(ConfigError, match="needs NEWSBOT_EMBED_BACKEND=onnx"):
        IndexSettings.from_env(isolated_env, embed_backend="torch", embed_precision="int8")


# ---- threads: batches use the machine, one question stays lean -------------------------------------


def test_batch_work_uses_the_batch_threads_and_questions_newsbot_threads(tmp_path, embedder):
    """torch backend: the thread count torch runs each forward pass with, seen from inside the model."""
    settings = _settings(tmp_path, NEWSBOT_EMBED_BACKEND="torch", NEWSBOT_BATCH_THREADS="2", NEWSBOT_THREADS="1")
    index = NewsIndex(settings)
    before = torch.get_num_threads()
    seen: list[int] = []
    # The indexer runs the transformer itself (sentence vectors); encode() goes through the module around it.
    hooks = [
        m.register_forward_hook(lambda *_: seen.append(torch.get_num_threads())) for m in (embedder.model[0], embedder.model[0].auto_model)
    ]
    try:
        assert index.sync().embedded_chunks > 0
        during_sync, seen[:] = list(seen), []
        index.query_embedder.embed_query("Who led the US delegation?")
    finally:
        for hook in hooks:
            hook.remove()
    assert during_sync and set(during_sync) == {2}
    assert seen and set(seen) == {1}
    assert torch.get_num_threads() == before  # each call puts the process's count back
    assert index.batch_embedder.model is index.query_embedder.model  # two thread counts, one copy of the weights


def test_batches_get_a_single_threaded_session_per_core_and_questions_one_of_newsbot_threads(seed_index):
    batch, query = seed_index.batch_embedder, seed_index.query_embedder
    assert isinstance(batch, OnnxEmbedder) and isinstance(query, OnnxEmbedder)
    batch.embed_documents(TEXTS)
    assert len(batch._opened) == seed_index.settings.batch_thread_count
    assert {s.get_session_options().intra_op_num_threads for s in batch._opened} == {1}
    query.embed_query(TEXTS[2])
    assert len(query._opened) == 1
    assert query._session.get_session_options().intra_op_num_threads == seed_index.settings.threads == 1


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_sessions_running_batches_at_once_give_each_text_its_own_vector(embedder, graphs, precision):
    texts = [f"{t} ({n})" for n in range(12) for t in TEXTS]  # more batches than sessions
    alone = OnnxEmbedder(embedder.name, embedder.model_dir, graphs[precision], precision, batch_size=4)
    together = OnnxEmbedder(embedder.name, embedder.model_dir, graphs[precision], precision, batch_size=4, workers=3)
    spans = [SPANS[i % len(SPANS)] for i in range(len(texts))]
    (v1, s1), (v3, s3) = alone.embed_with_spans(texts, spans), together.embed_with_spans(texts, spans)
    assert len(together._opened) == 3
    assert np.array_equal(v1, v3)
    assert all(np.array_equal(a, b) for a, b in zip(s1, s3))


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_worker_processes_give_each_text_the_vector_this_process_gives_it(embedder, graphs, precision):
    texts = [f"{t} ({n})" for n in range(12) for t in TEXTS]  # tasks for both workers
    spans = [SPANS[i % len(SPANS)] for i in range(len(texts))]
    here = OnnxEmbedder(embedder.name, embedder.model_dir, graphs[precision], precision, batch_size=4)
    apart = OnnxEmbedder(embedder.name, embedder.model_dir, graphs[precision], precision, batch_size=4, workers=2)
    (v1, s1) = here.embed_with_spans(texts, spans)
    with apart.worker_processes():
        workers = apart._processes
        assert workers is not None
        v2, s2 = apart.embed_with_spans(texts, spans)
        plain = apart.embed_documents(texts)
        pids = set(workers.pids)
    assert apart._opened == []  # no session was opened in this process
    assert np.array_equal(v1, v2) and np.array_equal(v1, plain)
    assert all(np.array_equal(a, b) for a, b in zip(s1, s2))
    assert len(pids) == 2 and os.getpid() not in pids
    assert apart._processes is None and not any(_alive(pid) for pid in pids)  # stopped on leaving


def test_a_worker_process_that_dies_is_a_model_error_and_the_next_call_embeds_here(embedder, graphs):
    apart = OnnxEmbedder(embedder.name, embedder.model_dir, graphs["int8"], "int8", workers=2)
    with apart.worker_processes():
        assert apart._processes is not None
        apart.embed_documents(TEXTS)  # the workers are up
        os.kill(apart._processes.pids[0], signal.SIGKILL)
        with pytest.raises(ModelError, match="embedding worker process stopped .killed by signal 9"):
            apart.embed_documents(TEXTS * 8)
    assert np.array_equal(apart.embed_documents(TEXTS), _onnx(embedder, graphs["int8"], "int8").embed_documents(TEXTS))


def test_a_long_sync_embeds_in_worker_processes_and_a_short_one_here(tmp_path, monkeypatch):
    index = NewsIndex(_settings(tmp_path / "data"))
    batch = index.batch_embedder
    assert isinstance(batch, OnnxEmbedder) and batch.workers == index.settings.batch_thread_count
    entered = []
    real = batch.worker_processes

    @contextmanager
    def watched():
        with real():
            entered.append(batch._processes is not None)
            yield

    monkeypatch.setattr(batch, "worker_processes", watched)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(indexer.PROCESSES_FROM_ARTICLES - 1):
        (corpus / f"a{n}.txt").write_text(f"2024-05-0{1 + n % 9}\nArticle {n}\nThe council met on day {n} and voted {n} to {n + 1}.\n")
    index.sync([corpus])
    assert entered == [] and len(batch._opened) == batch.workers  # short: embedded here
    (corpus / "last.txt").write_text("2024-05-10\nThe last one\nIt tips the sync over into worker processes.\n")
    (corpus / "a0.txt").write_text("2024-05-11\nArticle 0 again\nChanged, so the sync writes it once more.\n")
    monkeypatch.setattr(indexer, "PROCESSES_FROM_ARTICLES", 2)
    report = index.sync([corpus])
    assert report.added == 1 and report.updated == 1
    assert entered == [batch.workers > 1]
    found = index.store.query(index.query_embedder.embed_query("tips the sync over"), 1)
    assert found and "tips the sync" in found[0][0].text


def test_a_serving_index_runs_its_sync_workers_at_a_lower_priority(tmp_path):
    index = NewsIndex(_settings(tmp_path / "data", NEWSBOT_BATCH_THREADS="2"))
    batch = index.batch_embedder
    assert isinstance(batch, OnnxEmbedder)
    mine = os.getpriority(os.PRIO_PROCESS, 0)

    def worker_priorities() -> set[int]:
        with batch.worker_processes():
            assert batch._processes is not None
            batch.embed_documents(TEXTS)  # the workers are up, and have set their own priority
            return {os.getpriority(os.PRIO_PROCESS, pid) for pid in batch._processes.pids}

    index.serving(True)  # after the embedder was made: the change must still reach its workers
    assert worker_priorities() == {min(mine + WORKER_NICE, 19)}
    index.serving(False)
    assert worker_priorities() == {mine}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_graph_is_exported_once_per_machine_and_each_index_keeps_its_own_copy(tmp_path, monkeypatch):
    from indexing.embedding import export
    from testsupport.corpora import write_txt_article

    cache = tmp_path / "cache"
    corpus = tmp_path / "corpus"
    write_txt_article(corpus, "one.txt", "Budget", TEXTS[1])
    first = NewsIndex(_settings(tmp_path / "first", NEWSBOT_CACHE_DIR=str(cache)))
    assert first.sync([corpus]).embedded_chunks > 0
    (shared,) = (cache / "embedding").glob("*.int8.onnx")  # the default for a new index
    assert first.graph_path().read_bytes() == shared.read_bytes()

    def no_export(*_args, **_kwargs):
        raise AssertionError("the machine's graph should have been copied, not exported again")

    monkeypatch.setattr(export, "export_graph", no_export)
    second = NewsIndex(_settings(tmp_path / "second", NEWSBOT_CACHE_DIR=str(cache)))
    assert second.sync([corpus]).embedded_chunks > 0
    assert second.graph_path().read_bytes() == shared.read_bytes()

    shutil.rmtree(cache)  # the cache cleared: each index still asks with the graph that made its vectors
    again = NewsIndex(first.settings)
    chunk = next(iter(again.store.iter_chunks()))
    query = again.query_embedder
    assert isinstance(query, OnnxEmbedder) and query.graph == first.graph_path()
    (hit, score), *_ = again.store.query(query.embed_query(f"{chunk.title}\n{chunk.text}"), 1)
    assert hit.id == chunk.id and score > 0.999


def test_batch_threads_default_to_every_core_this_process_may_use(isolated_env):
    import os

    assert IndexSettings.from_env(isolated_env).batch_thread_count == len(os.sched_getaffinity(0))
    assert IndexSettings.from_env(isolated_env, batch_threads=3).batch_thread_count == 3
