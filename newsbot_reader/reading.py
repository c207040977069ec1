"""Read passages with any backend: windows in, batched by length, logits out, best span per passage.

`run` is the backend: model inputs (numpy) -> (start_logits, end_logits, has_answer_logit). The
ONNX session that answers queries and the torch model being trained both plug in here, so the
checkpoint picked during training is scored exactly as the bot will use it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from newsbot_reader.decoding import SpanGuess, best_span
from newsbot_reader.features import MAX_TOKENS, STRIDE, Window, pad_batch, windows_for

Backend = Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray, np.ndarray]]


def read_passages(
    run: Backend,
    tokenizer: Any,
    questions: Sequence[str],
    passages: Sequence[str],
    batch_size: int = 32,
    max_tokens: int = MAX_TOKENS,
    stride: int = STRIDE,
) -> list[SpanGuess | None]:
    """The best span of each (question, passage) pair; None for a passage with no tokens."""
    per_pair = windows_for(tokenizer, questions, passages, max_tokens, stride)
    flat: list[Window] = [w for windows in per_pair for w in windows]
    owner = [i for i, windows in enumerate(per_pair) for _ in windows]
    starts: list[np.ndarray] = [np.empty(0)] * len(flat)
    ends: list[np.ndarray] = [np.empty(0)] * len(flat)
    has = np.zeros(len(flat), dtype=np.float32)
    order = sorted(range(len(flat)), key=lambda i: len(flat[i].input_ids))
    for lo in range(0, len(order), batch_size):
        rows = order[lo : lo + batch_size]
        start_logits, end_logits, has_answer = run(pad_batch([flat[i] for i in rows]))
        for row, i in enumerate(rows):
            n = len(flat[i].input_ids)
            starts[i], ends[i], has[i] = start_logits[row, :n], end_logits[row, :n], has_answer[row]
    groups: list[list[int]] = [[] for _ in per_pair]
    for i, pair in enumerate(owner):
        groups[pair].append(i)
    return [
        best_span([starts[i] for i in g], [ends[i] for i in g], [has[i] for i in g], [flat[i] for i in g]) if g else None for g in groups
    ]
