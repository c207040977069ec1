"""MinHash signatures of articles: a wire copy is found, another story on the topic is not."""

from __future__ import annotations

from indexing.text.minhash import BANDS, COPY_JACCARD, band_keys, copy_fields, decode, encode, shingles, signature, similarity
from testsupport.corpora import SEED_TEXT


def test_a_wire_copy_with_its_own_dateline_and_credit_is_a_copy():
    copy = "BRUSSELS (Wire) - " + SEED_TEXT.replace("\n\n", "\n") + "\nReporting by a correspondent; editing by a desk."
    a, b = signature(SEED_TEXT), signature(copy)
    assert similarity(a, b) >= COPY_JACCARD
    assert set(band_keys(a)) & set(band_keys(b)), "a copy must share a band: that is how the store finds it"


def test_another_story_on_the_same_topic_is_not_a_copy():
    half = SEED_TEXT[: len(SEED_TEXT) // 3]
    other = half + " Meanwhile, officials in Kyiv said the talks had changed nothing on the ground, and markets fell."
    assert similarity(signature(SEED_TEXT), signature(other)) < COPY_JACCARD


def test_shingles_ignore_case_and_punctuation_and_a_short_text_is_one_shingle():
    assert shingles("Talks END; in Brussels.") == {b"talks end in brussels"}
    assert shingles("") == set()
    assert len(shingles("one two three four five six")) == 2


def test_the_record_fields_round_trip():
    fields = copy_fields(SEED_TEXT)
    assert len([k for k in fields if k.startswith("copy_band_")]) == BANDS
    sig = decode(str(fields["minhash"]))
    assert sig is not None and (sig == signature(SEED_TEXT)).all() and encode(sig) == fields["minhash"]
    assert all(0 <= int(v) < 2**63 for k, v in fields.items() if k.startswith("copy_band_"))  # Chroma's int64
    assert decode("") is None and decode("not base64!") is None
