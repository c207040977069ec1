"""The reader on the query path: an int8 ONNX graph run by onnxruntime, no torch.

The package ships fp16 weights (newsbot_reader/weights); the ONNX graph is derived from them once per
weights file, by `ensure_onnx` (which needs torch, like the embedding model's export), and kept
in a cache folder under a name that carries the weights' hash, so new weights never meet an old
graph.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from newsbot_reader.decoding import SpanGuess
from newsbot_reader.features import load_tokenizer
from newsbot_reader.reading import read_passages

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
WEIGHTS_FILE = "reader.fp16.safetensors"
CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Calibration:
    """How the shipped weights decide "no answer", tuned on held-apart data (calibration.json).

    `score` is the answerability evidence (`signal` minus `threshold`: > 0 answers); `probability`
    maps it to the chance that the answer is right (a monotone curve fitted on held-apart questions,
    newsbot_reader.training.confidence; without one, the sigmoid); `min_confidence` is the probability below
    which the bot refuses."""

    signal: str = "combined"  # margin | has_answer | combined (newsbot_reader.decoding.SpanGuess)
    threshold: float = 0.0
    curve: tuple[tuple[float, float], ...] = ()  # (answerability, probability), increasing
    min_confidence: float | None = None  # None: the answerer's own default

    def score(self, guess: SpanGuess) -> float:
        """The answerability evidence, shifted so that 0 is the threshold (> 0: answer)."""
        if self.signal == "margin":
            value = guess.margin
        elif self.signal == "has_answer":
            value = guess.has_answer_logit
        else:
            value = guess.margin + guess.has_answer_logit
        return value - self.threshold

    def probability(self, answerability: float) -> float:
        """The calibrated chance that an answer with this answerability is right."""
        if not self.curve:
            return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, answerability))))
        xs, ps = zip(*self.curve)
        return float(np.interp(answerability, xs, ps))  # linear between the points, flat outside them


def weights_available(weights_dir: Path = WEIGHTS_DIR) -> bool:
    return (weights_dir / WEIGHTS_FILE).is_file()


def weights_digest(weights_dir: Path = WEIGHTS_DIR) -> str:
    digest = hashlib.sha256()
    with (weights_dir / WEIGHTS_FILE).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def load_calibration(weights_dir: Path = WEIGHTS_DIR) -> Calibration:
    path = weights_dir / CALIBRATION_FILE
    if not path.is_file():
        return Calibration()
    data = json.loads(path.read_text(encoding="utf-8"))
    curve = data.get("curve") or {}
    minimum = data.get("min_confidence")
    return Calibration(
        signal=str(data["signal"]),
        threshold=float(data["threshold"]),
        curve=tuple(zip(map(float, curve.get("answerability", ())), map(float, curve.get("probability", ())))),
        min_confidence=None if minimum is None else float(minimum),
    )


def onnx_path(cache_dir: Path, weights_dir: Path = WEIGHTS_DIR) -> Path:
    return cache_dir / f"reader-{weights_digest(weights_dir)}.int8.onnx"


def ensure_onnx(cache_dir: Path, weights_dir: Path = WEIGHTS_DIR) -> Path:
    """The int8 ONNX graph of these weights, exported now (torch, a few seconds) if not cached yet."""
    path = onnx_path(cache_dir, weights_dir)
    if path.is_file():
        return path
    from newsbot_reader.model import export_onnx, load

    return export_onnx(load(weights_dir), path)


class ReaderSession:
    """Reads (question, passage) pairs with the ONNX graph; thread-safe, `threads` intra-op threads."""

    def __init__(self, onnx_file: Path, tokenizer_json: Path, threads: int = 1, batch_size: int = 16):
        self.onnx_file = onnx_file
        self.tokenizer_json = tokenizer_json
        self.threads = threads
        self.batch_size = batch_size
        self._lock = threading.Lock()

    @cached_property
    def _session(self) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(str(self.onnx_file), options, providers=["CPUExecutionProvider"])

    @cached_property
    def tokenizer(self) -> Any:
        return load_tokenizer(str(self.tokenizer_json))

    def run(self, batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with self._lock:
            start, end, has = self._session.run(None, batch)
        return start, end, has

    def read(self, questions: Sequence[str], passages: Sequence[str]) -> list[SpanGuess | None]:
        return read_passages(self.run, self.tokenizer, questions, passages, self.batch_size)
