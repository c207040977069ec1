"""The training loop: AdamW with warm-up and linear decay, bf16 autocast, resumable, stops on SIGTERM.

State lives in `run_dir` (outside the repo): `last.pt` (model, optimiser, scheduler, position in
the epoch's batch order), `best/` (fp16 weights of the best held-apart F1 so far) and `log.jsonl`.
A checkpoint is written every `checkpoint_every` steps and when SIGTERM/SIGINT arrives, always
to a temporary file renamed into place, so a kill at any moment leaves the last good one.
"""

from __future__ import annotations

import json
import math
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from newsbot_reader import model as reader_model
from newsbot_reader.reading import read_passages
from newsbot_reader.training.batches import Labelled, batch_plan, tensors
from newsbot_reader.training.data import Example
from newsbot_reader.training.evaluate import SIGNALS, Scores, score


@dataclass(frozen=True)
class TrainConfig:
    epochs: float = 1.0
    batch_size: int = 32
    lr: float = 1e-4
    warmup: float = 0.06
    weight_decay: float = 0.01
    seed: int = 13
    checkpoint_every: int = 100
    eval_every: int = 500
    log_every: int = 25
    max_steps: int | None = None  # stop early (tests, smoke runs); the schedule still spans `epochs`
    # End sooner than `epochs` but with a finished schedule: from the step this is first set at,
    # the learning rate falls linearly to zero at step `finish_at`.
    finish_at: int | None = None
    has_answer_weight: float = 0.5


# What a resumed run must share with the one it continues (cadences and max_steps may change).
SCHEDULE_KEYS = frozenset({"epochs", "batch_size", "lr", "warmup", "weight_decay", "seed", "has_answer_weight"})


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def autocast(device: torch.device) -> Any:
    """bf16 autocast where the hardware has it (CUDA, or a CPU with AVX-512 BF16 / AMX), else none."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    if device.type == "cpu" and torch.backends.mkldnn.is_available() and _cpu_has_bf16():
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return torch.autocast(device.type, enabled=False)


def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class StopRequested:
    """Set by SIGTERM/SIGINT; the loop finishes its step, checkpoints and returns."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGTERM, signal.SIGINT)}

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def torch_backend(
    model: reader_model.ReaderModel, device: torch.device
) -> Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The model as a `newsbot_reader.reading` backend (no gradients, eval mode, same autocast as training)."""

    def run(batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        inputs = {k: torch.from_numpy(batch[k]).to(device) for k in reader_model.INPUT_NAMES}
        with torch.no_grad(), autocast(device):
            start, end, has = model(**inputs)
        return start.float().cpu().numpy(), end.float().cpu().numpy(), has.float().cpu().numpy()

    return run


def evaluate(model: reader_model.ReaderModel, device: torch.device, tokenizer: Any, examples: Sequence[Example]) -> dict[str, Scores]:
    was_training = model.training
    model.eval()
    try:
        guesses = read_passages(
            torch_backend(model, device), tokenizer, [e.question for e in examples], [e.context for e in examples], batch_size=64
        )
    finally:
        model.train(was_training)
    return {name: score(examples, guesses, name) for name in SIGNALS}


def _loss(model: reader_model.ReaderModel, batch: dict[str, torch.Tensor], has_answer_weight: float) -> torch.Tensor:
    start, end, has = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    ce = torch.nn.functional.cross_entropy
    span = (ce(start, batch["start"]) + ce(end, batch["end"])) / 2
    return span + has_answer_weight * torch.nn.functional.binary_cross_entropy_with_logits(has, batch["has_answer"])


def _optimizer(model: torch.nn.Module, config: TrainConfig, total_steps: int, anneal: dict[str, int]) -> tuple[torch.optim.Optimizer, Any]:
    """AdamW with linear warmup and decay; `anneal` ({"from": step, "to": step}, filled once the
    checkpoint is read) bends the decay so that it reaches zero at anneal["to"]."""
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for parameter in model.parameters():
        (no_decay if parameter.ndim == 1 else decay).append(parameter)  # no decay on biases and norms
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=config.lr
    )
    warmup = max(1, int(total_steps * config.warmup))

    def planned(step: int) -> float:
        return min((step + 1) / warmup, max(0.0, (total_steps - step) / max(1, total_steps - warmup)))

    def factor(step: int) -> float:
        if "to" not in anneal or step < anneal["from"]:
            return planned(step)
        start, end = anneal["from"], anneal["to"]
        return planned(start) * max(0.0, (end - step) / max(1, end - start))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    partial.replace(path)


def train(
    model: reader_model.ReaderModel,
    items: Sequence[Labelled],
    heldout: Sequence[Example],
    tokenizer: Any,
    run_dir: Path,
    config: TrainConfig,
    device: torch.device,
    on_progress: Callable[[int, int, dict[str, float]], None] = lambda step, total, info: None,
) -> dict[str, Any]:
    """Train until `epochs` (or `max_steps`) are done or a stop is requested; resume from
    `run_dir/last.pt` when it is there. Returns the final state summary."""
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    lengths = np.array([len(item.window.input_ids) for item in items])
    steps_per_epoch = math.ceil(len(items) / config.batch_size)
    total_steps = max(1, int(steps_per_epoch * config.epochs))
    model.to(device).train()
    anneal: dict[str, int] = {}
    optimizer, scheduler = _optimizer(model, config, total_steps, anneal)
    step, best_f1 = 0, -1.0
    last = run_dir / "last.pt"
    if last.is_file():
        state = torch.load(last, map_location=device, weights_only=False)
        changed = {k: (state["config"].get(k), v) for k, v in asdict(config).items() if k in SCHEDULE_KEYS and state["config"].get(k) != v}
        if changed:
            raise ValueError(f"{last} was made with other settings (was, now: {changed}); use another --run-dir or the same settings")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, best_f1 = state["step"], state["best_f1"]
        torch.set_rng_state(state["torch_rng"])
        anneal.update(state.get("anneal", {}))
    if config.finish_at is not None and anneal.get("to") != config.finish_at:
        if config.finish_at <= step:
            raise ValueError(f"--finish-at {config.finish_at} is not after the current step {step}")
        anneal.update({"from": step, "to": config.finish_at})
    # The bent schedule applies from the resumed step on.
    scheduler._last_lr = [base * scheduler.lr_lambdas[0](step) for base in scheduler.base_lrs]
    for group, lr in zip(optimizer.param_groups, scheduler._last_lr, strict=True):
        group["lr"] = lr
    log = (run_dir / "log.jsonl").open("a", encoding="utf-8")

    def write_log(record: dict[str, Any]) -> None:
        log.write(json.dumps(record) + "\n")
        log.flush()

    def checkpoint() -> None:
        _save_checkpoint(
            last,
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "step": step,
                "best_f1": best_f1,
                "torch_rng": torch.get_rng_state(),
                "config": asdict(config),
                "anneal": dict(anneal),
            },
        )

    def run_eval() -> None:
        nonlocal best_f1
        if not heldout:
            return
        scores = evaluate(model, device, tokenizer, heldout)
        best_signal = max(scores.values(), key=lambda s: s.f1)
        write_log({"step": step, "eval": {k: v.as_dict() for k, v in scores.items()}, "time": time.time()})
        if best_signal.f1 > best_f1:
            best_f1 = best_signal.f1
            reader_model.save(
                model,
                run_dir / "best",
                {
                    "step": str(step),
                    "heldout_f1": f"{best_f1:.4f}",
                    "signal": best_signal.signal,
                    "threshold": f"{best_signal.threshold:.4f}",
                },
            )
        on_progress(step, total_steps, {"heldout_f1": best_signal.f1})

    write_log({"start": step, "total_steps": total_steps, "windows": len(items), "device": str(device), "time": time.time()})
    stop = StopRequested()
    limit = min(total_steps, config.max_steps or total_steps, anneal.get("to", total_steps))
    running, started = [], time.time()
    try:
        while step < limit and not stop.requested:
            epoch, offset = divmod(step, steps_per_epoch)
            plan = batch_plan(lengths, config.batch_size, config.seed, epoch)
            for indices in plan[offset:]:
                if step >= limit or stop.requested:
                    break
                arrays = tensors([items[i] for i in indices])
                batch = {k: torch.from_numpy(v).to(device) for k, v in arrays.items()}
                with autocast(device):
                    loss = _loss(model, batch, config.has_answer_weight)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                step += 1
                running.append(loss.item())
                if step % config.log_every == 0:
                    rate = len(running) * config.batch_size / max(time.time() - started, 1e-9)
                    info = {"loss": float(np.mean(running)), "lr": scheduler.get_last_lr()[0], "windows_per_s": rate}
                    write_log({"step": step, **info, "time": time.time()})
                    on_progress(step, total_steps, info)
                    running, started = [], time.time()
                if step % config.checkpoint_every == 0:
                    checkpoint()
                if step % config.eval_every == 0:
                    run_eval()
        checkpoint()
        if step >= limit and step % config.eval_every:
            run_eval()
    finally:
        stop.restore()
        log.close()
    return {"step": step, "total_steps": total_steps, "best_heldout_f1": best_f1, "stopped": stop.requested}
