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
from typing import IO, Any

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
        if "to" not in anneal:
            return planned(step)
        # Bend the decay from the later of the step it was asked at and the warmup's end: inside the
        # warmup the planned factor is still tiny.
        end = anneal["to"]
        pivot = max(anneal["from"], min(warmup, end - 1))
        if step < pivot:
            return planned(step)
        return planned(pivot) * max(0.0, (end - step) / max(1, end - pivot))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    partial.replace(path)


@dataclass
class _Run:
    """One training run's moving parts: what a checkpoint holds, the log, and the held-apart evaluation."""

    model: reader_model.ReaderModel
    config: TrainConfig
    device: torch.device
    run_dir: Path
    optimizer: torch.optim.Optimizer
    scheduler: Any
    anneal: dict[str, int]
    total_steps: int
    heldout: Sequence[Example]
    tokenizer: Any
    on_progress: Callable[[int, int, dict[str, float]], None]
    step: int = 0
    best_f1: float = -1.0
    log: IO[str] | None = None

    @property
    def last(self) -> Path:
        return self.run_dir / "last.pt"

    def resume(self) -> None:
        """Continue from `last.pt` when it is there (made with the same schedule settings)."""
        if not self.last.is_file():
            return
        state = torch.load(self.last, map_location=self.device, weights_only=False)
        config = asdict(self.config)
        changed = {k: (state["config"].get(k), v) for k, v in config.items() if k in SCHEDULE_KEYS and state["config"].get(k) != v}
        if changed:
            raise ValueError(f"{self.last} was made with other settings (was, now: {changed}); use another --run-dir or the same settings")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step, self.best_f1 = state["step"], state["best_f1"]
        torch.set_rng_state(state["torch_rng"])
        self.anneal.update(state.get("anneal", {}))

    def finish_at(self) -> None:
        """With `finish_at` newly set, the decay bends from this step to reach zero there."""
        finish_at = self.config.finish_at
        if finish_at is not None and self.anneal.get("to") != finish_at:
            if finish_at <= self.step:
                raise ValueError(f"--finish-at {finish_at} is not after the current step {self.step}")
            self.anneal.update({"from": self.step, "to": finish_at})
        # The bent schedule applies from the resumed step on.
        self.scheduler._last_lr = [base * self.scheduler.lr_lambdas[0](self.step) for base in self.scheduler.base_lrs]
        for group, lr in zip(self.optimizer.param_groups, self.scheduler._last_lr, strict=True):
            group["lr"] = lr

    def write_log(self, record: dict[str, Any]) -> None:
        assert self.log is not None
        self.log.write(json.dumps(record) + "\n")
        self.log.flush()

    def checkpoint(self) -> None:
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "step": self.step,
            "best_f1": self.best_f1,
            "torch_rng": torch.get_rng_state(),
            "config": asdict(self.config),
            "anneal": dict(self.anneal),
        }
        _save_checkpoint(self.last, state)

    def evaluate(self) -> None:
        """Score the held-apart slice; a better F1 than any before saves the weights as `best/`."""
        if not self.heldout:
            return
        scores = evaluate(self.model, self.device, self.tokenizer, self.heldout)
        best_signal = max(scores.values(), key=lambda s: s.f1)
        self.write_log({"step": self.step, "eval": {k: v.as_dict() for k, v in scores.items()}, "time": time.time()})
        if best_signal.f1 > self.best_f1:
            self.best_f1 = best_signal.f1
            card = {"step": str(self.step), "heldout_f1": f"{self.best_f1:.4f}", "signal": best_signal.signal}
            reader_model.save(self.model, self.run_dir / "best", {**card, "threshold": f"{best_signal.threshold:.4f}"})
        self.on_progress(self.step, self.total_steps, {"heldout_f1": best_signal.f1})

    def train_step(self, labelled: list[Labelled]) -> float:
        """One optimiser step on one batch; its loss."""
        batch = {k: torch.from_numpy(v).to(self.device) for k, v in tensors(labelled).items()}
        with autocast(self.device):
            loss = _loss(self.model, batch, self.config.has_answer_weight)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.scheduler.step()
        self.step += 1
        return loss.item()


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
    run = _Run(model, config, device, run_dir, optimizer, scheduler, anneal, total_steps, heldout, tokenizer, on_progress)
    run.resume()
    run.finish_at()
    run.log = (run_dir / "log.jsonl").open("a", encoding="utf-8")
    run.write_log({"start": run.step, "total_steps": total_steps, "windows": len(items), "device": str(device), "time": time.time()})
    stop = StopRequested()
    limit = min(total_steps, config.max_steps or total_steps, anneal.get("to", total_steps))
    try:
        _epochs(run, items, lengths, steps_per_epoch, limit, stop)
        run.checkpoint()
        if run.step >= limit and run.step % config.eval_every:
            run.evaluate()
    finally:
        stop.restore()
        run.log.close()
    return {"step": run.step, "total_steps": total_steps, "best_heldout_f1": run.best_f1, "stopped": stop.requested}


def _epochs(run: _Run, items: Sequence[Labelled], lengths: np.ndarray, steps_per_epoch: int, limit: int, stop: StopRequested) -> None:
    """Steps in each epoch's batch order (from where a resumed run stopped) up to `limit` or a stop,
    logging, checkpointing and evaluating at their cadences."""
    config = run.config
    running: list[float] = []
    started = time.time()
    while run.step < limit and not stop.requested:
        epoch, offset = divmod(run.step, steps_per_epoch)
        plan = batch_plan(lengths, config.batch_size, config.seed, epoch)
        for indices in plan[offset:]:
            if run.step >= limit or stop.requested:
                break
            running.append(run.train_step([items[i] for i in indices]))
            if run.step % config.log_every == 0:
                rate = len(running) * config.batch_size / max(time.time() - started, 1e-9)
                info = {"loss": float(np.mean(running)), "lr": run.scheduler.get_last_lr()[0], "windows_per_s": rate}
                run.write_log({"step": run.step, **info, "time": time.time()})
                run.on_progress(run.step, run.total_steps, info)
                running, started = [], time.time()
            if run.step % config.checkpoint_every == 0:
                run.checkpoint()
            if run.step % config.eval_every == 0:
                run.evaluate()
