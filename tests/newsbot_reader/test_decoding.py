"""Span decoding over real windows of the shipped tokenizer: the best span, its runners-up, and the
no-answer evidence they share."""

from __future__ import annotations

import numpy as np

from newsbot_reader.decoding import ALTERNATIVES, best_span
from newsbot_reader.features import load_tokenizer, windows_for
from newsbot_reader.training.__main__ import default_base

PASSAGE = "The talks lasted four hours on Monday in Brussels."


def logits_for(window, wanted: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Start/end logits that favour the words in `wanted` (word -> score), by their offsets."""
    n = len(window.input_ids)
    start, end = np.full(n, -10.0, dtype=np.float32), np.full(n, -10.0, dtype=np.float32)
    start[0] = end[0] = -1.0  # the null score
    for word, score in wanted.items():
        first_char = PASSAGE.index(word)
        first, last = window.token_span(first_char, first_char + len(word))
        start[first] = end[last] = score
    return start, end


def test_the_best_span_comes_with_distinct_runners_up_best_first():
    base = default_base()  # the shipped MiniLM folder: the reader's tokenizer is the encoder's
    assert base is not None
    tokenizer = load_tokenizer(str(base / "tokenizer.json"))
    (windows,) = windows_for(tokenizer, ["How long did the talks last?"], [PASSAGE])
    start, end = logits_for(windows[0], {"Monday": 5.0, "four hours": 3.0, "Brussels": 1.0})
    guess = best_span([start], [end], [2.0], windows)
    assert guess is not None and PASSAGE[guess.start : guess.end] == "Monday"
    assert guess.null_score == -2.0 and guess.margin == 12.0
    texts = [PASSAGE[a:b] for a, b, _ in guess.alternatives]
    assert "four hours" in texts and len(set(texts)) == len(texts) <= ALTERNATIVES
    scores = [score for _, _, score in guess.alternatives]
    assert scores == sorted(scores, reverse=True) and scores[0] <= guess.span_score
    a, b, score = next(alt for alt in guess.alternatives if PASSAGE[alt[0] : alt[1]] == "four hours")
    other = guess.instead(a, b, score)
    assert PASSAGE[other.start : other.end] == "four hours" and other.span_score == 6.0
    assert (other.null_score, other.has_answer_logit) == (guess.null_score, guess.has_answer_logit), "the same passage's evidence"
