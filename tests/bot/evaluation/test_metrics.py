"""The eval metrics on hand-computed cases (SQuAD normalisation, retrieval, refusal, latency)."""

from __future__ import annotations

import pytest

from bot.answer import strip_citation_marks
from bot.evaluation.metrics import (
    QuestionResult,
    contains_answer,
    distinct,
    exact_match,
    f1_score,
    gold_rank,
    mean_reciprocal_rank,
    misses,
    normalize_answer,
    percentile,
    recall_at_k,
    refusal_scores,
    score_answer,
    summarise,
)


def test_normalize_answer_follows_squad():
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    assert normalize_answer("an apple, a pear") == "apple pear"
    assert normalize_answer("U.S.") == "us"
    assert normalize_answer("Theory") == "theory"  # "the" only as a word


def test_exact_match_is_the_max_over_answers():
    assert exact_match("the Denver Broncos", ["Broncos", "Denver Broncos"]) == 1.0
    assert exact_match("Denver", ["Broncos", "Denver Broncos"]) == 0.0


def test_f1_counts_shared_tokens():
    # prediction 3 tokens, gold 2, 2 shared: p=2/3, r=1 -> f1=0.8
    assert f1_score("Wendy R. Sherman", ["Sherman R"]) == pytest.approx(0.8)
    assert f1_score("Brussels", ["Geneva", "in Brussels"]) == pytest.approx(2 * 1 * 0.5 / 1.5)
    assert f1_score("nothing alike", ["Brussels"]) == 0.0


def test_unanswerable_questions_score_the_empty_prediction():
    assert exact_match("", []) == 1.0 and f1_score("", []) == 1.0
    assert exact_match("Paris", []) == 0.0 and f1_score("Paris", []) == 0.0
    assert exact_match("", ["Paris"]) == 0.0


def test_containment_matches_whole_words_only():
    assert contains_answer("About 100,000 Russian troops", ["100,000"])
    assert contains_answer("“Squid Game” returns", ["Squid Game"])
    assert not contains_answer("NATO has 300 members", ["30"])
    assert not contains_answer("anything", [])


def test_citation_marks_are_not_scored():
    assert strip_citation_marks("Wendy R. [1]") == "Wendy R."
    assert strip_citation_marks("Brussels [1][2] and Geneva [3]") == "Brussels and Geneva"


def test_ranks_recall_and_mrr():
    ranking = distinct(["a", "a", "b", "c", "b", "d"])
    assert ranking == ["a", "b", "c", "d"]
    assert gold_rank(ranking, ["c", "x"]) == 3
    assert gold_rank(ranking, ["x"]) is None
    ranks = [1, 3, None, 12]
    assert recall_at_k(ranks, 1) == 0.25
    assert recall_at_k(ranks, 5) == 0.5
    assert recall_at_k(ranks, 10) == 0.5
    assert mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 / 3) / 4)  # rank 12 is past the cutoff
    assert recall_at_k([], 5) is None


def test_refusal_precision_and_recall():
    refused = [True, True, False, False, True]
    unanswerable = [True, False, True, False, True]
    precision, recall = refusal_scores(refused, unanswerable)
    assert precision == pytest.approx(2 / 3) and recall == pytest.approx(2 / 3)
    assert refusal_scores([False, False], [True, False]) == (None, 0.0)
    assert refusal_scores([True, False], [False, False]) == (None, None)  # nothing to refuse


def test_percentiles():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile([], 50) is None


def result(qid: str, answers: list[str], prediction: str, answered: bool = True, **extra) -> QuestionResult:
    r = QuestionResult(qid, "q?", answers, extra.pop("gold", ["doc"]), prediction, answered, extra.pop("seconds", 0.01), **extra)
    score_answer(r)
    return r


def test_summarise_and_misses():
    results = [
        result("right", ["Brussels"], "Brussels", gold_rank=1, citations=1, verbatim=1),
        result("sentence", ["30"], "NATO has 30 members.", gold_rank=2, citations=2, verbatim=2),
        result("wrong", ["Geneva"], "Brussels", gold_rank=None, citations=1, verbatim=0),
        result("refused-ok", [], "", answered=False, gold=[], retrieval_scored=False),
        result("refused-bad", ["Sherman"], "", answered=False, gold_rank=7),
    ]
    s = summarise(results)
    assert s["questions"] == 5 and s["retrieval_questions"] == 4 and s["unanswerable"] == 1
    assert s["recall@1"] == 0.25 and s["recall@5"] == 0.5 and s["recall@10"] == 0.75
    assert s["mrr"] == pytest.approx((1 + 0.5 + 1 / 7) / 4)
    assert s["exact_match"] == pytest.approx(2 / 5)  # "right" and the correct refusal
    assert s["containment"] == pytest.approx(2 / 4)
    assert s["correct"] == pytest.approx(3 / 5)
    assert s["refusal_precision"] == 0.5 and s["refusal_recall"] == 1.0
    assert s["refused_answerable"] == 0.25
    assert s["answer_absent"] == 0 and s["refused_absent"] is None  # no question says whether its answer is in the corpus
    assert s["verbatim_citations"] == pytest.approx(3 / 4)
    assert s["latency_p50_ms"] == pytest.approx(10.0)
    m = misses(results)
    assert m["answer"] == ["wrong", "refused-bad"]
    assert m["retrieval@5"] == ["wrong", "refused-bad"]
    assert m["not_verbatim"] == ["wrong"]


def test_unscored_answers_are_left_out():
    r = QuestionResult("choice", "q?", ["Europe"], [], "Asia", True, 0.01, answer_scored=False, retrieval_scored=False)
    s = summarise([r, result("ok", ["Europe"], "Europe", gold=[], retrieval_scored=False)])
    assert s["answer_questions"] == 1 and s["exact_match"] == 1.0
    assert s["recall@5"] is None and s["mrr"] is None
    assert s["refusal_precision"] is None and s["refusal_recall"] is None


def test_refusal_recall_at_precision_sweeps_every_threshold():
    from bot.evaluation.metrics import refusal_recall_at_precision

    confidences = [0.1, 0.2, 0.3, 0.4, 0.5, 0.9]
    unanswerable = [True, True, False, True, False, False]
    # Refusing the 2 least confident: precision 1.0, recall 2/3; the 4 least: precision 0.75 (< 0.8).
    assert refusal_recall_at_precision(confidences, unanswerable) == pytest.approx(2 / 3)
    assert refusal_recall_at_precision(confidences, unanswerable, floor=0.75) == 1.0
    assert refusal_recall_at_precision(confidences, [False] * 6) is None
    assert refusal_recall_at_precision([None, 0.5], [True, False]) is None


def test_questions_whose_answer_no_article_holds_count_their_refusals_apart():
    results = [
        result("absent-refused", ["Geneva"], "", answered=False, answer_in_corpus=False),
        result("absent-answered", ["Sherman"], "Brussels", answer_in_corpus=False),
        result("present-refused", ["Brussels"], "", answered=False, answer_in_corpus=True),
        result("unknown", ["Brussels"], "Brussels"),
    ]
    s = summarise(results)
    assert s["answer_absent"] == 2 and s["refused_absent"] == 0.5
    assert s["refused_answerable"] == 0.5  # all four count as answerable, as before
