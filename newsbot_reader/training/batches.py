"""Examples -> labelled windows -> batches of similar length, in an order fixed by (seed, epoch).

The order is a pure function of the seed and the epoch, so a resumed run skips the batches it
has done and sees exactly the rest: resuming gives the same run as never stopping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from newsbot_reader.features import Window, pad_batch, windows_for
from newsbot_reader.training.data import Example

TOKENIZE_BATCH = 2048


@dataclass(frozen=True)
class Labelled:
    window: Window
    start: int  # input position of the answer's first token; 0 ([CLS]) when not in this window
    end: int
    has_answer: float


def labelled_windows(tokenizer: Any, examples: Sequence[Example], max_tokens: int, stride: int) -> list[Labelled]:
    """Every window of every example with its labels. A window that does not hold the whole answer
    is labelled "no answer here", as the SQuAD 2.0 readers train."""
    out: list[Labelled] = []
    for lo in range(0, len(examples), TOKENIZE_BATCH):
        part = examples[lo : lo + TOKENIZE_BATCH]
        for example, windows in zip(
            part, windows_for(tokenizer, [e.question for e in part], [e.context for e in part], max_tokens, stride)
        ):
            for window in windows:
                span = None
                if example.answer_start is not None:
                    span = window.token_span(example.answer_start, example.answer_start + len(example.answer_text))
                out.append(Labelled(window, span[0], span[1], 1.0) if span else Labelled(window, 0, 0, 0.0))
    return out


def batch_plan(lengths: np.ndarray, batch_size: int, seed: int, epoch: int, pool_batches: int = 50) -> list[np.ndarray]:
    """Indices of each batch for one epoch: shuffled, then sorted by length within pools of
    `pool_batches` batches (little padding), and the batches shuffled again."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    pool = batch_size * pool_batches
    batches = []
    for lo in range(0, len(order), pool):
        chunk = order[lo : lo + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def tensors(items: Sequence[Labelled]) -> dict[str, np.ndarray]:
    """Padded inputs plus labels for one batch."""
    batch = pad_batch([item.window for item in items])
    batch["start"] = np.array([item.start for item in items], dtype=np.int64)
    batch["end"] = np.array([item.end for item in items], dtype=np.int64)
    batch["has_answer"] = np.array([item.has_answer for item in items], dtype=np.float32)
    return batch
