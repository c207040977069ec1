"""The reader's training data: the SQuAD 2.0 dev articles given for training are split by article
(three held apart with the sample's, for calibration), and real unanswerables are oversampled."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from newsbot_reader.training.data import HELDOUT_DEV_TITLES, SQUAD11, SQUAD20_DEVTRAIN, SQUAD20_SAMPLE, load_squad, oversampled


def row(id_: str, title: str, impossible: bool) -> dict:
    context = f"{title} has a harbour that opened in 1901."
    answers = [] if impossible else [{"text": "1901", "start": context.index("1901"), "ambiguous": False}]
    question = "When did the airport open?" if impossible else "When did the harbour open?"
    return {
        "id": id_,
        "source": "test",
        "title": title,
        "context": context,
        "question": question,
        "is_impossible": impossible,
        "answers": answers,
    }


def write(folder: Path, name: str, rows: list[dict]) -> None:
    with gzip.open(folder / name, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in rows)


def test_dev_articles_split_by_title_and_real_unanswerables_oversampled(tmp_path):
    held_title = sorted(HELDOUT_DEV_TITLES)[0]
    write(tmp_path, SQUAD11, [row("a1", "Trained_town", False), row("a2", "Sample_town", False)])
    write(tmp_path, SQUAD20_SAMPLE, [row("s1", "Sample_town", False), row("s2", "Sample_town", True)])
    write(tmp_path, SQUAD20_DEVTRAIN, [row("d1", "Dev_town", True), row("d2", "Dev_town", False), row("d3", held_title, True)])
    examples = {e.id: e for e in load_squad(tmp_path)}
    assert "a2" not in examples, "SQuAD 1.1 questions on a held-apart article are left out"
    assert {i: examples[i].split for i in ("a1", "s1", "s2", "d1", "d2", "d3")} == {
        "a1": "train", "s1": "heldout", "s2": "heldout", "d1": "train", "d2": "train", "d3": "heldout",
    }  # fmt: skip
    assert examples["d1"].kind == "squad2-unanswerable" and not examples["d1"].answerable
    train = [e for e in examples.values() if e.split == "train"]
    tripled = oversampled(train, "squad2-unanswerable", 3)
    assert [e.id for e in tripled if e.kind == "squad2-unanswerable"] == ["d1", "d1-copy1", "d1-copy2"]
    assert len(tripled) == len(train) + 2
