"""Calibrate shipped weights: read the held-apart slice with the int8 graph the bot will run, pick
the no-answer signal and threshold that maximise F1 there, fit the confidence (the probability
that an answer is right, reader.training.confidence) and record them (calibration.json)."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reader.metrics import f1_score
from reader.runtime import CALIBRATION_FILE, ReaderSession
from reader.training.confidence import Platt, calibrate_confidence
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
    values = [signal(guess, chosen.signal) - chosen.threshold for guess in guesses]
    answer_f1 = [f1_score(e.context[g.start : g.end], e.answers) if g and e.answerable else 0.0 for e, g in zip(heldout, guesses)]
    confidence = calibrate_confidence(
        values, answer_f1, [e.answerable for e in heldout], [e.kind == "squad2-unanswerable" for e in heldout]
    )
    platt = Platt(**confidence["platt"])
    refuse = platt(np.array(values)) < confidence["min_confidence"]
    refused: Counter[str] = Counter(e.kind for e, r in zip(heldout, refuse) if r and not e.answerable)
    kinds = Counter(e.kind for e in heldout if not e.answerable)
    answered_f1 = [f for e, f, r in zip(heldout, answer_f1, refuse) if e.answerable and not r]
    return {
        "signal": chosen.signal,
        "threshold": chosen.threshold,
        "heldout": {name: s.as_dict() for name, s in scores.items()},
        **confidence,
        "refusal_recall_by_kind": {kind: refused[kind] / n for kind, n in sorted(kinds.items())},
        "answerable_refused": float(np.mean([r for e, r in zip(heldout, refuse) if e.answerable])),
        "answerable_f1_when_answered": float(np.mean(answered_f1)) if answered_f1 else None,
        "answerable_f1": float(np.mean([f for e, f in zip(heldout, answer_f1) if e.answerable])),
        "heldout_examples": len(heldout),
    }


def write_calibration(destination: Path, calibration: dict[str, Any]) -> Path:
    path = destination / CALIBRATION_FILE
    path.write_text(json.dumps(calibration, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
