"""The embedding model as an onnxruntime graph, exported once from the shipped torch weights.

- fp32: `torch.onnx` export with eager attention (the pattern onnxruntime's BERT fusions recognise),
  then those fusions applied offline (`onnxruntime.transformers.optimizer`, opt_level 0: graph
  rewrites only, nothing tied to this CPU): one Attention op per layer, embeddings fused with their
  layer norm, skip layer norms, bias GELU. The same vectors as torch (cosine >= 0.9999, checked).
- int8: that graph dynamically quantised: weights int8 per output channel in a 7-bit range (AVX2
  CPUs without VNNI multiply u8 x s8 pairs into int16, which full 8-bit weights can overflow),
  activations quantised per batch at run time. Cosine ~0.99 to fp32, so int8 vectors never meet
  fp32 ones: an index records its precision (indexing.store.chroma) and refuses the other.

Every graph is checked against torch on probe texts before it is used, and written atomically.
A graph is exported once per machine, into the cache dir (`shared_graph_path`, named by the model
files, onnxruntime's version and `EXPORT_VERSION`); each data dir keeps its own copy beside its index
(`install_graph`), so its questions always meet the very graph that made its vectors, even after the
cache is cleared or the packages change.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from indexing.embedding.models import TORCH_LOCK, SentenceTransformerEmbedder
from indexing.embedding.onnx import OnnxEmbedder
from indexing.errors import ModelError

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "int8")
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# The lowest cosine to torch's vector that a graph may give on the probes (measured: fp32 1.0000;
# int8 0.98-0.99 on news chunks, mean 0.993).
MIN_COSINE = {"fp32": 0.9999, "int8": 0.95}
_PROBES = [
    "Who led the US delegation to the talks?",
    "NATO talks\nWendy R., Under Secretary of State, led the U.S. delegation to the talks in Geneva on Monday.",
    "The project is expected to cost 450 million euros and to take 7 years, officials in Bergen said. "
    "Critics called it a costly mistake; a final decision is expected in March.",
    "A short one.",
]


# Bump when the export, its fusions or its quantisation change what a graph computes.
EXPORT_VERSION = "1"


def _slug(model: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in model)


def graph_path(models_dir: Path, model: str, precision: str) -> Path:
    return models_dir / f"{_slug(model)}.{precision}.onnx"


def model_fingerprint(model_dir: Path) -> str:
    """What the exported graph depends on, by file names, sizes and times (no hashing of 90 MB per
    process): the model's files, onnxruntime's version (its fusions and quantiser), EXPORT_VERSION."""
    from importlib.metadata import version

    parts = [EXPORT_VERSION, version("onnxruntime")]
    for file in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        stat = file.stat()
        parts.append(f"{file.relative_to(model_dir)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def shared_graph_path(cache_dir: Path, model: str, model_dir: Path, precision: str) -> Path:
    """The machine's graph of this model and precision, in the cache dir: exported once, copied by every data dir."""
    return cache_dir / "embedding" / f"{_slug(model)}-{model_fingerprint(model_dir)}.{precision}.onnx"


def install_graph(embedder: SentenceTransformerEmbedder, path: Path, precision: str, cache_dir: Path) -> Path:
    """The graph at `path` (a data dir's own): a copy of the machine's graph, exported into the cache
    first when the cache has none. ModelError when the export fails."""
    shared = shared_graph_path(cache_dir, embedder.name, embedder.model_dir, precision)
    if not shared.is_file():
        export_graph(embedder, shared, precision)
    partial = path.parent / f".{path.name}.{os.getpid()}.partial"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared, partial)
        os.replace(partial, path)  # a reader sees no graph or the whole graph, never a torn one
    except OSError as exc:
        raise ModelError(
            f"cannot copy the embedding graph into {path.parent} ({exc.strerror or exc}); set NEWSBOT_EMBED_BACKEND=torch"
        ) from exc
    finally:
        if partial.parent.is_dir():
            partial.unlink(missing_ok=True)
    return path


def export_graph(embedder: SentenceTransformerEmbedder, path: Path, precision: str) -> Path:
    """Write the graph for `precision` to `path` from the torch model; ModelError when it cannot."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}")
    work = path.parent / f".export-{path.stem}-{os.getpid()}"  # two processes exporting at once never share one
    try:
        work.mkdir(parents=True, exist_ok=True)
        raw = work / "raw.onnx"
        with TORCH_LOCK:  # the export switches the shared model's attention: no embedding meanwhile
            _export_torch(embedder.model[0].auto_model, raw)
        candidates = [_fused(raw, work / "fused.onnx", embedder.model[0].auto_model.config), raw]
        for fp32 in dict.fromkeys(c for c in candidates if c is not None):
            graph = fp32 if precision == "fp32" else _quantised(fp32, work / f"{fp32.stem}.int8.onnx")
            worst = _worst_cosine(embedder, graph, precision)
            if worst >= MIN_COSINE[precision]:
                os.replace(graph, path)
                return path
            log.warning("the %s graph %s gives cosine %.4f to torch on the probes; not used", precision, graph.name, worst)
        raise ModelError(f"the {precision} ONNX export of {embedder.name} does not match torch; set NEWSBOT_EMBED_BACKEND=torch")
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - any exporter failure is one line for the user
        raise ModelError(
            f"cannot export the embedding model to ONNX ({exc.__class__.__name__}: {str(exc)[:160]}); set NEWSBOT_EMBED_BACKEND=torch"
        ) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _export_torch(transformer_model: Any, path: Path) -> None:
    import torch

    class _Encoder(torch.nn.Module):
        def __init__(self, model: Any):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    example = torch.tensor([[101, 2040, 102]])
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    attention = transformer_model.config._attn_implementation
    try:
        # sdpa exports as a decomposed pattern the fusions miss; eager attention exports as the classic
        # BERT subgraph they turn into one Attention op (the same numbers either way).
        transformer_model.set_attn_implementation("eager")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's warnings concern shapes we export as dynamic
            torch.onnx.export(
                _Encoder(transformer_model).eval(),
                (example, torch.ones_like(example), torch.zeros_like(example)),
                str(path),
                input_names=list(INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
    finally:
        transformer_model.set_attn_implementation(attention)
        # The exporter restores the wrapper's training flag afterwards, recursively: put the shared
        # model back in eval mode, or dropout would make every later embedding random.
        transformer_model.eval()


def _fused(raw: Path, out: Path, config: Any) -> Path | None:
    """onnxruntime's BERT fusions applied to the graph; None when the optimizer fails (the raw graph then serves)."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
        optimized = optimize_model(
            str(raw), model_type="bert", num_heads=int(config.num_attention_heads), hidden_size=int(config.hidden_size), opt_level=0
        )
        optimized.save_model_to_file(str(out))
        return out
    except Exception as exc:  # noqa: BLE001 - fusions only buy speed
        log.warning("onnxruntime's BERT fusions failed (%s); using the plain export", exc)
        return None


def _quantised(fp32: Path, out: Path) -> Path:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantizer logs its advice to pre-process on the root logger at every call: quiet it for this
    # call only (raising the root level for good would silence every later warning of the process).
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            str(fp32),
            str(out),
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            # The fused ops' outputs carry no inferred type; they are float.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)
    return out


def _worst_cosine(embedder: SentenceTransformerEmbedder, graph: Path, precision: str) -> float:
    """The lowest cosine between the graph's vectors and torch's on the probe texts."""
    candidate = OnnxEmbedder(embedder.name, embedder.model_dir, graph, precision, threads=1)
    return float(np.min((candidate.embed_documents(_PROBES) * embedder.embed_documents(_PROBES)).sum(axis=1)))
