"""A light query-time embedder: the same model exported to ONNX, run by onnxruntime + tokenizers.

`newsbot ask` needs one vector per question. Importing sentence-transformers (torch, transformers,
scipy) costs 7-10 s before that; onnxruntime needs well under one. The export is made once, by the
indexer (which has torch loaded anyway), into the data dir; its vectors match torch's to cosine
1.0000 (fp32), so they search the same index.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def export_onnx(transformer_model: Any, path: Path) -> bool:
    """Export a Hugging Face encoder (torch) to ONNX at `path` (atomically); False if it cannot."""
    import torch

    class _Encoder(torch.nn.Module):
        def __init__(self, model: Any):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")  # two processes exporting at once never share one
    example = torch.tensor([[101, 2040, 102]])
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's warnings concern shapes we export as dynamic
            torch.onnx.export(
                _Encoder(transformer_model).eval(),
                (example, torch.ones_like(example), torch.zeros_like(example)),
                str(partial),
                input_names=list(_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
            partial.replace(path)
            return True
    except Exception as exc:  # an exporter failure only costs speed: queries stay on torch
        log.warning("could not export the embedding model to ONNX (%s); queries will use torch", exc)
        partial.unlink(missing_ok=True)
        return False
    finally:
        # The exporter restores the wrapper's training flag afterwards, recursively: put the shared
        # model back in eval mode, or dropout would make every later embedding random.
        transformer_model.eval()


class OnnxQueryEmbedder:
    """embed_query / embed_documents / count_tokens like SentenceTransformerEmbedder, without torch."""

    def __init__(self, name: str, model_dir: Path, onnx_path: Path, threads: int = 1, max_tokens: int = 256):
        self.name = name
        self.model_dir = model_dir
        self.onnx_path = onnx_path
        self.threads = threads
        self.max_tokens = max_tokens
        self._lock = threading.Lock()

    @cached_property
    def _session(self):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])

    @cached_property
    def tokenizer(self):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tokenizer.enable_truncation(self.max_tokens)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        return tokenizer

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [sum(e.attention_mask) - 2 for e in self.tokenizer.encode_batch(list(texts))]

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        with self._lock:
            hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]
