"""The reader network (torch): a BERT encoder with a span head and a has-answer head.

Used to train (newsbot_reader.training) and, once per weights file, to export the ONNX graph that answers
queries without torch (newsbot_reader.runtime). Weights are stored as one fp16 safetensors file plus the
encoder's config.json, small enough to commit and enough to resume training from.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAMES = ("start_logits", "end_logits", "has_answer_logit")
WEIGHTS_FILE = "reader.fp16.safetensors"
CONFIG_FILE = "config.json"


class ReaderModel(nn.Module):
    """Start/end logits per token (padding at -1e4) and one has-answer logit per window ([CLS])."""

    def __init__(self, encoder: Any):
        super().__init__()
        self.encoder = encoder
        hidden = int(encoder.config.hidden_size)
        self.span = nn.Linear(hidden, 2)
        self.has_answer = nn.Linear(hidden, 1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
        start, end = self.span(hidden).float().unbind(dim=-1)
        padding = (attention_mask == 0).float() * -1e4
        has_answer = self.has_answer(hidden[:, 0]).float().squeeze(-1)
        return start + padding, end + padding, has_answer


def from_base(base_dir: Path) -> ReaderModel:
    """A fresh reader on a pretrained encoder folder (config.json + model.safetensors), heads untrained."""
    from transformers import BertModel

    encoder = BertModel.from_pretrained(str(base_dir), add_pooling_layer=False)
    return ReaderModel(encoder)


def load(weights_dir: Path) -> ReaderModel:
    """A trained reader from `save`'s folder, in fp32."""
    from safetensors.torch import load_file
    from transformers import BertConfig, BertModel

    config = BertConfig.from_dict(json.loads((weights_dir / CONFIG_FILE).read_text()))
    model = ReaderModel(BertModel(config, add_pooling_layer=False))
    state = {k: v.float() for k, v in load_file(str(weights_dir / WEIGHTS_FILE)).items()}
    model.load_state_dict(state)
    return model.eval()


def save(model: ReaderModel, weights_dir: Path, metadata: dict[str, str] | None = None) -> Path:
    """Write fp16 weights + config atomically into `weights_dir`; returns the weights file."""
    from safetensors.torch import save_file

    weights_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in model.state_dict().items()}
    partial = weights_dir / (WEIGHTS_FILE + ".partial")
    save_file(state, str(partial), metadata=metadata or {})
    encoder: Any = model.encoder
    config = dict(encoder.config.to_dict())
    for volatile in ("transformers_version", "_name_or_path", "architectures"):
        config.pop(volatile, None)
    (weights_dir / (CONFIG_FILE + ".partial")).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    (weights_dir / (CONFIG_FILE + ".partial")).replace(weights_dir / CONFIG_FILE)
    partial.replace(weights_dir / WEIGHTS_FILE)
    return weights_dir / WEIGHTS_FILE


def export_onnx(model: ReaderModel, path: Path, quantize: bool = True) -> Path:
    """Export to ONNX (dynamic batch and length), then dynamically quantise to int8; atomic."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fp32 = path.with_name(f"{path.name}.{os.getpid()}.fp32.partial")  # per process: two may export at once
    example = torch.tensor([[101, 2040, 102, 2003, 102]])
    axes: dict[str, Any] = {name: {0: "batch", 1: "tokens"} for name in INPUT_NAMES}
    axes.update({"start_logits": {0: "batch", 1: "tokens"}, "end_logits": {0: "batch", 1: "tokens"}, "has_answer_logit": {0: "batch"}})
    was_training = model.training
    model.eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings concern shapes exported as dynamic
            torch.onnx.export(
                model,
                (example, torch.ones_like(example), torch.zeros_like(example)),
                str(fp32),
                input_names=list(INPUT_NAMES),
                output_names=list(OUTPUT_NAMES),
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            # The quantizer's advice to pre-process goes to the root logger on every call, onto a new
            # user's terminal at the first question: quieted for this call only.
            root = logging.getLogger()
            level = root.level
            root.setLevel(logging.ERROR)
            try:
                quantize_dynamic(str(fp32), str(partial), weight_type=QuantType.QInt8)
            finally:
                root.setLevel(level)
            fp32.unlink()
        else:
            fp32.replace(partial)
        partial.replace(path)
        return path
    finally:
        fp32.unlink(missing_ok=True)
        model.train(was_training)
