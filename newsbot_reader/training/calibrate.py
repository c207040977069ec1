"""Calibrate shipped weights: read the held-apart slice with the int8 graph the bot will run, pick
the no-answer signal and threshold that maximise F1 there, fit the confidence (the probability
that an answer is right, newsbot_reader.training.confidence) and record them (calibration.json)."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from newsbot_reader.decoding import SpanGuess
from newsbot_reader.metrics import f1_score
from newsbot_reader.runtime import CALIBRATION_FILE, ReaderSession, weights_digest
from newsbot_reader.training.confidence import UNANSWERABLE_SHARE, Curve, calibrate_confidence
from newsbot_reader.training.data import Example
from newsbot_reader.training.evaluate import SIGNALS, score, signal


def read_heldout(weights_dir: Path, heldout: Sequence[Example], tokenizer_json: Path, threads: int = 1) -> list[SpanGuess | None]:
    """The held-apart slice read by the int8 graph the bot will run."""
    from newsbot_reader.model import export_onnx, load

    with tempfile.TemporaryDirectory(prefix="newsbot-reader-") as tmp:
        graph = export_onnx(load(weights_dir), Path(tmp) / "reader.int8.onnx")
        session = ReaderSession(graph, tokenizer_json, threads=threads, batch_size=32)
        return session.read([e.question for e in heldout], [e.context for e in heldout])


def cached_readings(
    cache: Path, weights_dir: Path, heldout: Sequence[Example], tokenizer_json: Path, threads: int
) -> list[SpanGuess | None]:
    """`read_heldout`, kept in `cache` (JSON, keyed by the weights' digest and the slice) so a re-fit skips the reading."""
    key = f"{weights_digest(weights_dir)}:{len(heldout)}:{heldout[0].id if heldout else ''}"
    if cache.is_file():
        stored = json.loads(cache.read_text(encoding="utf-8"))
        if stored.get("key") == key:
            return [SpanGuess(int(g[0]), int(g[1]), float(g[2]), float(g[3]), float(g[4])) if g else None for g in stored["guesses"]]
    guesses = read_heldout(weights_dir, heldout, tokenizer_json, threads)
    rows: list[tuple[int, int, float, float, float] | None] = [
        (g.start, g.end, g.span_score, g.null_score, g.has_answer_logit) if g else None for g in guesses
    ]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"key": key, "guesses": rows}), encoding="utf-8")
    return [SpanGuess(*g) if g else None for g in rows]


def calibrate(
    weights_dir: Path,
    heldout: Sequence[Example],
    tokenizer_json: Path,
    threads: int = 1,
    cache: Path | None = None,
    unanswerable_share: float | None = None,
) -> dict[str, Any]:
    """Scores per signal on `heldout` (int8 ONNX), the chosen one, the confidence fit, and refusal
    recall per kind of unanswerable; `cache` keeps the readings for a later re-fit."""
    if cache is None:
        guesses = read_heldout(weights_dir, heldout, tokenizer_json, threads)
    else:
        guesses = cached_readings(cache, weights_dir, heldout, tokenizer_json, threads)
    scores = {name: score(heldout, guesses, name) for name in SIGNALS}
    chosen = max(scores.values(), key=lambda s: s.f1)
    values = [signal(guess, chosen.signal) - chosen.threshold for guess in guesses]
    answer_f1 = [f1_score(e.context[g.start : g.end], e.answers) if g and e.answerable else 0.0 for e, g in zip(heldout, guesses)]
    confidence = calibrate_confidence(
        values,
        answer_f1,
        [e.answerable for e in heldout],
        [e.kind == "squad2-unanswerable" for e in heldout],
        UNANSWERABLE_SHARE if unanswerable_share is None else unanswerable_share,
    )
    curve = Curve(tuple(confidence["curve"]["answerability"]), tuple(confidence["curve"]["probability"]))
    refuse = curve(np.array(values)) < confidence["min_confidence"]
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
