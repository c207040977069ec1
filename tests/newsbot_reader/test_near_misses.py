"""Near-miss unanswerables: each kind changes the question so that the passage no longer answers it,
and none is made where the passage would still answer."""

from __future__ import annotations

import random

from newsbot_reader.training.data import Example
from newsbot_reader.training.near_misses import antonym, attribute, changed_relation, changed_value, near_misses, negation

PASSAGE = (
    "Rui Carvalho of the Civic Alliance was elected mayor of Porto on Sunday, defeating the incumbent, Teresa Moura. "
    "Carvalho won 52 percent of the vote in the city's largest turnout since 1998."
)


def example(question: str, answer: str, context: str = PASSAGE) -> Example:
    return Example("q1", "Porto", question, context, context.index(answer), answer, (answer,))


def test_negation_negates_a_participle_and_leaves_other_questions_alone():
    rng = random.Random(0)
    made = negation(example("Who was elected mayor of Porto?", "Rui Carvalho"), rng)
    assert made in ("Who was not elected mayor of Porto?", "Who was never elected mayor of Porto?")
    assert negation(example("What share of the vote did Carvalho win?", "52 percent"), rng) is None


def test_a_changed_value_is_one_the_passage_never_gives():
    rng = random.Random(1)
    made = changed_value(example("What was the largest turnout since 1998?", "largest turnout"), rng)
    assert made is not None and "1998" not in made
    year = int(made.split("since ")[1].rstrip("?"))
    assert 1986 <= year <= 2010 and str(year) not in PASSAGE


def test_an_antonym_is_used_only_where_the_passage_lacks_it():
    rng = random.Random(2)
    assert antonym(example("When was the city's largest turnout?", "since 1998"), rng) == "When was the city's smallest turnout?"
    both = PASSAGE + " It was also the smallest margin."
    assert antonym(example("When was the city's largest turnout?", "since 1998", both), rng) is None


def test_an_antonym_never_turns_the_winner_into_the_loser():
    # "A defeated B" answers "Who lost?" without the word "lost": such a question is not unanswerable.
    rng = random.Random(2)
    assert antonym(example("Who won the Porto election?", "Rui Carvalho"), rng) is None
    assert antonym(example("Who was mayor before Rui Carvalho?", "Teresa Moura"), rng) is None


def test_a_changed_relation_asks_for_the_predecessor_or_the_runner_up_the_passage_does_not_name():
    rng = random.Random(3)
    made = changed_relation(example("Who is the mayor of Porto?", "Rui Carvalho"), rng)
    assert made is not None and made.startswith("Who was the ") and "mayor of Porto" in made
    won = "Ana Lopes won the Porto marathon on Sunday in record time."
    made = changed_relation(example("Who won the Porto marathon?", "Ana Lopes", won), rng)
    assert made is not None and not made.startswith("Who won")
    with_loser = won + " Maria Dias finished second."
    assert changed_relation(example("Who won the Porto marathon?", "Ana Lopes", with_loser), rng) is None


def test_an_attribute_question_is_made_only_when_the_passage_never_gives_it():
    rng = random.Random(4)
    made = attribute(example("Who was elected mayor of Porto?", "Rui Carvalho"), rng)
    assert made in ("How old is Rui Carvalho?", "How old was Rui Carvalho at the time?", "When was Rui Carvalho born?")
    aged = PASSAGE.replace("Rui Carvalho of", "Rui Carvalho, 48, born in Braga, of")
    assert attribute(example("Who was elected mayor of Porto?", "Rui Carvalho", aged), rng) is None


def test_near_misses_are_unanswerable_on_the_same_passage_with_their_kind():
    rng = random.Random(5)
    examples = [
        example("Who was elected mayor of Porto?", "Rui Carvalho"),
        example("Who did Carvalho defeat?", "Teresa Moura"),
        example("What share of the vote did Carvalho win in 1998?", "52 percent"),
    ]
    made = near_misses(examples, 1.0, rng)
    assert made, "every example can be turned into at least one kind"
    for item in made:
        assert not item.answerable and item.context == PASSAGE and item.answers == ()
        assert item.kind in {"negation", "changed-value", "antonym", "changed-relation", "attribute"}
        assert item.question not in {e.question for e in examples}
