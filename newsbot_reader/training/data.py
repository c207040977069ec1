"""Training examples for the reader: SQuAD questions, split by article, plus made unanswerables.

SQuAD 1.1 has no unanswerable questions; the SQuAD 2.0 sample and dev articles bring 1,975 real
ones, so more negatives are made (newsbot_reader.training.negatives, newsbot_reader.training.near_misses): the
question against another paragraph of its article, with its key entity swapped, and near misses
(negated, a changed value or relation, an attribute the passage never gives). The articles of
the SQuAD 2.0 sample and 3 of the dev articles are held apart from training: with their real
unanswerables they are the slice that picks checkpoints and calibrates the confidence.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

SQUAD11 = "squad11_train.jsonl.gz"
SQUAD20_SAMPLE = "squad20_train_sample.jsonl.gz"
SQUAD20_DEVTRAIN = "squad20_devtrain.jsonl.gz"
# Of the 12 SQuAD 2.0 dev articles given for training, these 3 are held apart with the sample's 10:
# the calibration slice then holds real unanswerables written by two sets of crowd workers.
HELDOUT_DEV_TITLES = frozenset({"Black_Death", "Geology", "Private_school"})
PREPARED = "prepared.jsonl.gz"


@dataclass(frozen=True)
class Example:
    """A question on a passage; `answer_start` is None for an unanswerable one."""

    id: str
    title: str
    question: str
    context: str
    answer_start: int | None
    answer_text: str
    answers: tuple[str, ...] = field(default=())  # every accepted answer, for scoring
    kind: str = "squad"  # squad | squad2-unanswerable | other-paragraph | entity-swap
    split: str = "train"  # train | heldout

    @property
    def answerable(self) -> bool:
        return self.answer_start is not None


def unanswerable(example: Example, context: str, question: str, kind: str) -> Example:
    """`example` made unanswerable: `question` on `context`, no answer, labelled with the `kind` that made it."""
    return replace(
        example, id=f"{example.id}-{kind}", context=context, question=question, answer_start=None, answer_text="", answers=(), kind=kind
    )


class DataError(ValueError):
    """The training data is missing or malformed (names the file and line)."""


def read_jsonl_gz(path: Path) -> Iterator[dict]:
    if not path.is_file():
        raise DataError(f"training data {path} not found: pass --data to the folder holding {SQUAD11} and {SQUAD20_SAMPLE}")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}:{number}: not JSON ({exc.msg})") from exc


def squad_examples(path: Path, heldout_titles: frozenset[str], drop_ambiguous: bool) -> list[Example]:
    """The rows of one SQuAD file as examples; rows of held-out articles are marked `heldout`."""
    examples = []
    for row in read_jsonl_gz(path):
        try:
            answers = row["answers"]
            split = "heldout" if row["title"] in heldout_titles else "train"
            if row["is_impossible"] or not answers:
                examples.append(
                    Example(row["id"], row["title"], row["question"], row["context"], None, "", (), "squad2-unanswerable", split)
                )
                continue
            first = answers[0]
            if split == "train" and drop_ambiguous and first.get("ambiguous"):
                continue  # the first of several occurrences, not always the one the annotator meant
            texts = tuple(dict.fromkeys(a["text"] for a in answers))
            examples.append(
                Example(row["id"], row["title"], row["question"], row["context"], first["start"], first["text"], texts, "squad", split)
            )
        except (KeyError, TypeError) as exc:
            raise DataError(f"{path}: row {row.get('id', '?')!r} lacks a field ({exc})") from exc
    return examples


def load_squad(data_dir: Path, drop_ambiguous: bool = True) -> list[Example]:
    """SQuAD 1.1 train (articles of the 2.0 sample held out), the 2.0 sample (all held out) and the
    2.0 dev articles for training (`HELDOUT_DEV_TITLES` held out, the rest trained on)."""
    sample = list(read_jsonl_gz(data_dir / SQUAD20_SAMPLE)) if (data_dir / SQUAD20_SAMPLE).is_file() else []
    heldout = frozenset(row["title"] for row in sample)
    examples = [e for e in squad_examples(data_dir / SQUAD11, heldout, drop_ambiguous) if e.split == "train"]
    if sample:
        examples += squad_examples(data_dir / SQUAD20_SAMPLE, heldout, drop_ambiguous=False)
    if (data_dir / SQUAD20_DEVTRAIN).is_file():
        examples += squad_examples(data_dir / SQUAD20_DEVTRAIN, HELDOUT_DEV_TITLES, drop_ambiguous)
    return examples


def oversampled(examples: Sequence[Example], kind: str, copies: int) -> list[Example]:
    """The examples with each one of `kind` repeated `copies` times in all (ids made distinct)."""
    out = list(examples)
    for example in examples:
        if example.kind == kind:
            out += [replace(example, id=f"{example.id}-copy{n}") for n in range(1, copies)]
    return out


def write_prepared(examples: Iterable[Example], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with gzip.open(partial, "wt", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(asdict(example), ensure_ascii=False) + "\n")
    partial.replace(path)


def read_prepared(path: Path) -> list[Example]:
    examples = []
    for row in read_jsonl_gz(path):
        row["answers"] = tuple(row["answers"])
        examples.append(Example(**row))
    return examples
