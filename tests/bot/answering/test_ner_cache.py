"""The NER cache returns what spaCy returns, for repeated and new sentences alike, and stays bounded."""

from __future__ import annotations

import bot.answering.entities as ner


def test_cached_entities_equal_fresh_ones(monkeypatch):
    texts = ["Wendy Sherman led the US delegation in Geneva.", "NATO has 30 members.", "Wendy Sherman led the US delegation in Geneva."]
    ner.clear_cache()
    fresh = ner.entities(texts)
    assert fresh[0] == fresh[2] and any(label == "PERSON" for _, _, label in fresh[0])
    calls = []
    pipeline = ner._pipeline()

    class Counting:
        def pipe(self, batch):
            calls.append(list(batch))
            return pipeline.pipe(batch)

    monkeypatch.setattr(ner, "_pipeline", lambda: Counting())
    assert ner.entities([texts[1], "Talks resumed on Monday in Brussels."]) == [
        fresh[1],
        ner.entities(["Talks resumed on Monday in Brussels."])[0],
    ]
    assert calls[0] == ["Talks resumed on Monday in Brussels."]  # only the sentence not seen before


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(ner, "_CACHE_SIZE", 3)
    ner.clear_cache()
    ner.entities([f"Sentence number {i} mentions Paris." for i in range(5)])
    assert len(ner._CACHE) == 3
