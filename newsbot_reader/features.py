"""Question + passage -> model windows of at most `max_tokens` word-pieces, with character offsets.

One function serves training (labels come from the offsets) and answering (spans map back to the
passage through the same offsets), so the two can never disagree on where a token sits.
Layout of a window: [CLS] question [SEP] passage slice [SEP]; a passage longer than one window is
cut into overlapping slices (`stride` word-pieces shared between neighbours).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

CLS_ID, SEP_ID, PAD_ID = 101, 102, 0
MAX_TOKENS = 256
STRIDE = 96
MAX_QUESTION_TOKENS = 64


@dataclass(frozen=True)
class Window:
    """One model input. Token i of the passage slice covers passage[offsets[i][0]:offsets[i][1]]."""

    input_ids: np.ndarray  # int64, [CLS] q [SEP] slice [SEP]
    token_type_ids: np.ndarray
    context_start: int  # index of the first passage token in input_ids
    offsets: np.ndarray  # (n_passage_tokens, 2) character offsets into the passage

    @property
    def context_end(self) -> int:
        """Index one past the last passage token."""
        return self.context_start + len(self.offsets)

    def token_span(self, char_start: int, char_end: int) -> tuple[int, int] | None:
        """Input positions (first, last) of the tokens covering [char_start, char_end), or None when the
        answer is not wholly inside this window."""
        if not len(self.offsets) or char_start < self.offsets[0, 0] or char_end > self.offsets[-1, 1]:
            return None
        first = int(np.searchsorted(self.offsets[:, 1], char_start, side="right"))
        last = int(np.searchsorted(self.offsets[:, 0], char_end, side="left")) - 1
        if last < first:
            return None
        return self.context_start + first, self.context_start + last

    def char_span(self, first: int, last: int) -> tuple[int, int]:
        """The passage characters from input position `first` to `last` (inclusive)."""
        return int(self.offsets[first - self.context_start, 0]), int(self.offsets[last - self.context_start, 1])


def load_tokenizer(tokenizer_json: str) -> Any:
    """The model's word-piece tokenizer (tokenizers.Tokenizer) with truncation and padding off."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(tokenizer_json)
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def windows_for(
    tokenizer: Any,
    questions: Sequence[str],
    passages: Sequence[str],
    max_tokens: int = MAX_TOKENS,
    stride: int = STRIDE,
) -> list[list[Window]]:
    """The windows of each (question, passage) pair; batched tokenisation, one list per pair."""
    q_enc = tokenizer.encode_batch(list(questions), add_special_tokens=False)
    p_enc = tokenizer.encode_batch(list(passages), add_special_tokens=False)
    return [_windows(q.ids, p.ids, p.offsets, max_tokens, stride) for q, p in zip(q_enc, p_enc)]


def _windows(q_ids: list[int], p_ids: list[int], p_offsets: list[tuple[int, int]], max_tokens: int, stride: int) -> list[Window]:
    q_ids = q_ids[:MAX_QUESTION_TOKENS]
    budget = max_tokens - len(q_ids) - 3
    step = max(budget - stride, 1)
    prefix = [CLS_ID, *q_ids, SEP_ID]
    offsets = np.asarray(p_offsets, dtype=np.int64).reshape(-1, 2)
    windows = []
    begin = 0
    while True:
        piece = p_ids[begin : begin + budget]
        ids = np.asarray([*prefix, *piece, SEP_ID], dtype=np.int64)
        types = np.zeros_like(ids)
        types[len(prefix) :] = 1
        windows.append(Window(ids, types, len(prefix), offsets[begin : begin + len(piece)]))
        if begin + budget >= len(p_ids):
            return windows
        begin += step


def pad_batch(windows: Sequence[Window]) -> dict[str, np.ndarray]:
    """Model inputs for a batch, padded to its longest window (batches by length keep this small)."""
    width = max(len(w.input_ids) for w in windows)
    ids = np.full((len(windows), width), PAD_ID, dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for row, window in enumerate(windows):
        n = len(window.input_ids)
        ids[row, :n] = window.input_ids
        types[row, :n] = window.token_type_ids
        mask[row, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
