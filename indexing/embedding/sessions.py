"""One onnxruntime session of the embedding graph: how it is opened and run, in this process or a worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def open_session(graph: Path, threads: int) -> Any:  # onnxruntime.InferenceSession
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle pool threads spin by default, taking cycles from whatever else runs on the cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])


def session_inputs(session: Any) -> frozenset[str]:
    """The inputs the graph takes (the fused graph may drop token_type_ids, which are all zero here)."""
    return frozenset(i.name for i in session.get_inputs())


def run_session(session: Any, inputs: frozenset[str], ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(batch, tokens) ids and mask -> (batch, tokens, dim) token vectors."""
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    return session.run(None, {k: v for k, v in feed.items() if k in inputs})[0]
