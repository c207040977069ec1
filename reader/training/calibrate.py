"""Calibrate shipped weights: read the held-apart slice with the int8 graph the bot will run, pick
the no-answer signal and threshold that maximise F1 there, and record them (calibration.json)."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reader.runtime import CALIBRATION_FILE, ReaderSession
from reader.training.data import Example
from reader.training.evaluate import SIGNALS, score, signal


def calibrate(weights_dir: Path, heldout: Sequence[Example], tokenizer_json: Path, threads: int = 1) -> dict[str, Any]:
    """Scores per signal on `heldout` (int8 ONNX), the chosen one, and refusal recall per kind of unanswerable."""
    from reader.model import export_onnx, load

    with tempfile.TemporaryDirectory(prefix="newsbot-reader-") as tmp:
        graph = export_onnx(load(weights_dir), Path(tmp) / "reader.int8.onnx")
        session = ReaderSession(graph, tokenizer_json, threads=threads, batch_size=32)
        guesses = session.read([e.question for e in heldout], [e.context for e in heldout])
    scores = {name: score(heldout, guesses, name) for name in SIGNALS}
    chosen = max(scores.values(), key=lambda s: s.f1)
    refused: Counter[str] = Counter()
    for example, guess in zip(heldout, guesses):
        if not example.answerable and signal(guess, chosen.signal) < chosen.threshold:
            refused[example.kind] += 1
    kinds = Counter(e.kind for e in heldout if not e.answerable)
    return {
        "signal": chosen.signal,
        "threshold": chosen.threshold,
        "heldout": {name: s.as_dict() for name, s in scores.items()},
        "refusal_recall_by_kind": {kind: refused[kind] / n for kind, n in sorted(kinds.items())},
        "heldout_examples": len(heldout),
    }


def write_calibration(destination: Path, calibration: dict[str, Any]) -> Path:
    path = destination / CALIBRATION_FILE
    path.write_text(json.dumps(calibration, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
