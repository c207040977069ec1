"""What a question asks for: answer types, place kinds, key terms; and the echo filter."""

from __future__ import annotations

import pytest

from bot.answering.answer_kinds import LOOSER_CHECKS, answer_form, cuts_a_name, is_title
from bot.answering.heuristic import _restates
from bot.answering.places import is_country, place_fit
from bot.answering.question import analyse, expected_types, is_elliptical, last_full_question, place_kind


@pytest.mark.parametrize(
    "question, first_label",
    [
        ("Who led the US delegation?", "PERSON"),
        ("Who was the chief executive when the service began?", "PERSON"),  # the earliest wh-word decides
        ("When did the talks start?", "DATE"),
        ("How many troops are near the border?", "CARDINAL"),
        ("How much did the painting sell for?", "MONEY"),
        ("How long did the talks last?", "TIME"),
        ("In which city were the talks held?", "GPE"),
        ("Which country won the vote?", "GPE"),
        ("Which company recalled the cars?", "ORG"),
        ("What percentage of voters agreed?", "PERCENT"),
    ],
)
def test_expected_types(question, first_label):
    assert expected_types(question)[0] == first_label


def test_words_between_which_and_country_still_ask_for_a_country():
    assert place_kind("The prime minister of which European nation stepped down?") == "country"
    assert expected_types("Which two countries were invited to join?") == expected_types("Which country won the vote?")
    assert place_kind("What did the country's president announce?") is None  # "did": it asks what was announced


def test_open_questions_have_no_type():
    assert expected_types("Why did the talks fail?") == ()
    assert not analyse("What did the council decide about parks?").typed


def test_place_kind_and_countries():
    assert analyse("In which city were the talks held?").place == "city"
    assert analyse("Which country won?").place == "country"
    assert analyse("Who won?").place is None
    assert is_country("the United States") and is_country("New Zealand") and not is_country("Brussels")
    assert "ORG" not in expected_types("Which country declared victory?")
    assert analyse("Primary voters in which state rejected the amendment?").place == "state"
    assert analyse("Which US state banned the toys?").place == "state"


def test_which_place_names_fit_which_kind_of_question():
    assert place_fit("Idaho", "state") > place_fit("Bavaria", "state") > place_fit("the US", "state") == 0.0
    assert 0.0 == place_fit("Idaho", "city") < place_fit("Coeur d'Alene", "city")
    assert place_fit("France", "city") == 0.0 and place_fit("New York", "city") > 0.0
    assert place_fit("Georgia", "country") == place_fit("Georgia", "state") == 1.0
    assert place_fit("Brussels", "country") == 0.0


def test_key_terms_are_stemmed_content_words():
    analysis = analyse("How many Russian troops are concentrated near the border?")
    assert {"russian", "troop", "concentr", "border"} <= analysis.terms
    assert "how" not in analysis.terms and "the" not in analysis.terms


def test_a_sentence_that_restates_the_question_is_recognised():
    question = analyse("Which major US retailer announced this week it is slashing prices on clothing?").terms
    echo = analyse("Which major US retailer announced this week it is slashing prices on clothing and toys?").terms
    answer = analyse("Walmart said on Tuesday it is slashing prices on clothing to clear stock.").terms
    assert _restates(set(echo), question)
    assert not _restates(set(answer), question)


def test_how_long_wants_an_amount_of_time():
    from bot.answering.answer_kinds import is_amount_of_time

    assert analyse("How long did the talks last?").duration
    assert is_amount_of_time("four hours") and is_amount_of_time("3 months") and is_amount_of_time("a decade")
    assert not is_amount_of_time("the end of September") and not is_amount_of_time("Wednesday")


def test_role_nouns_after_which_ask_for_a_person():
    assert expected_types("Which Under Secretary of State headed the delegation?")[0] == "PERSON"
    assert expected_types("Which NFL quarterback was suspended?")[0] == "PERSON"


def test_elliptical_follow_ups_name_only_a_new_subject():
    assert is_elliptical("and the Russian side?") and is_elliptical("What about Spain?") and is_elliptical("and in Belarus?")
    assert not is_elliptical("and who led the Russian side?") and not is_elliptical("when was that?")
    questions = ["How many troops are there?", "and in Belarus?", "what about Poland?"]
    assert last_full_question(questions) == "How many troops are there?"
    assert last_full_question(["and in Belarus?"]) is None


def test_each_thread_gets_its_own_stemmer():
    import threading

    from indexing.text.stemming import english_stemmer

    mine = english_stemmer()
    assert english_stemmer() is mine and mine.stemWord("repairs") == "repair"
    theirs = []
    thread = threading.Thread(target=lambda: theirs.append(english_stemmer()))
    thread.start()
    thread.join()
    assert theirs[0] is not mine  # PyStemmer instances must not be called concurrently


def test_the_answer_form_is_checked_only_where_the_question_leaves_no_doubt():
    how_long = answer_form("For how long did the meeting go on?")
    assert how_long is not None and how_long("four hours") and how_long("1.2 km") and not how_long("Monday")
    how_many = answer_form("How many aircraft will the combined group operate?")
    assert how_many is not None and how_many("210") and how_many("about two dozen") and not how_many("Northwind")
    how_old = answer_form("How old is Aditya Rao?")
    assert how_old is not None and how_old("12") and not how_old("Ohio")
    cost = answer_form("How much did Harbor City's new stadium cost?")
    assert cost is not None and cost("$1.2 billion") and cost("45 million euros") and not cost("55,000")
    assert answer_form("Why did the board choose Marta Silva?") is None
    said = answer_form("What did the board say?")  # open: only a nationality word on its own is ruled out
    assert said is not None and said("that the plant would close") and said("1,400 jobs") and not said("South Korean")


def test_the_kind_of_question_rules_out_spans_of_another_kind():
    how_old = answer_form("How old is Acme's chief executive?")
    assert how_old is not None and how_old("52") and how_old("a 48-year-old") and how_old("aged 61")
    assert not how_old("March 3") and not how_old("in 2019") and not how_old("12 percent")
    price = answer_form("What will the new tablet sell for?")
    assert price is not None and price("$499") and not price("24 percent") and not price("2,000 units")
    share = answer_form("What percentage of the vote did Teresa Moura get?")
    assert share is not None and share("41 percent") and share("41%") and not share("$41 million")
    count = answer_form("How many people were injured?")
    assert count is not None and count("about 40") and not count("12 percent") and not count("March 2026")
    assert not count("two weeks") and not count("six years")  # how long, not how many
    times = answer_form("How many times has the ferry run aground?")
    assert times is not None and times("three times") and not times("six years")
    years = answer_form("How many years was the former guard sentenced to?")  # a count of years is an amount of time
    assert years is not None and years("five years") and years("5")
    when = answer_form("When will the factory close?")
    assert when is not None and when("March 2026") and when("next week") and when("in 1998") and not when("Karen Holm")
    year = answer_form("In what year was the council set up?")
    assert year is not None and year("2002") and year("in 1998") and not year("2012 to 2018") and not year("March")
    who = answer_form("Who was elected mayor of Porto?")
    assert who is not None and who("Rui Carvalho") and who("the electoral commission")
    assert not who("52 percent") and not who("1,400") and not who("Sunday") and not who("$3 million")
    where = answer_form("Where did the ferry run aground?")
    assert where is not None and where("off Skye") and not where("October 20")


def test_a_nationality_word_alone_answers_no_which_question():
    prize = answer_form("Which prize did the film win?")
    assert prize is not None and prize("the Golden Bear") and prize("a jury prize")
    assert not prize("South Korean") and not prize("Chinese")
    show = answer_form("Which hugely popular show will return for a second season?")
    assert show is not None and not show("South Korean") and not show("Norwegian")
    country = answer_form("In which country will the championship be held?")
    assert country is not None and country("Norway") and country("China's") and country("South Korea")
    assert not country("Saudi Arabian") and not country("Norwegian") and not country("2027")
    assert country("Sweden and Finland") and country("Sweden, Finland and Norway")
    assert not country("Shinzo Abe") and not country("Kagoshima City") and not country("Sweden and Stockholm")  # wished away
    assert LOOSER_CHECKS[country]("Kagoshima City") and not LOOSER_CHECKS[country]("Norwegian")  # with no country among the spans
    where = answer_form("Where will the championship be held?")
    assert where is not None and where("in Bergen") and not where("Norwegian")
    assert answer_form("What language do the cast speak?") is None  # "Korean" may be right
    assert answer_form("What kind of food does the restaurant serve?") is None  # "Italian" may be right


def test_a_who_question_is_not_answered_by_the_person_it_names():
    before = answer_form("Who led the union before Farida Nasser?")
    assert before is not None and before("Kofi Mensah") and before("the former rail secretary")
    assert not before("Farida Nasser") and not before("Nasser, who has led the rail branch")
    led = answer_form("Who led the US delegation?")  # no name of two words: nothing more to rule out
    assert led is not None and led("the U.S. ambassador")


def test_a_which_show_question_wants_a_title_and_settles_for_a_noun_phrase():
    for question in (
        "Which hugely popular show will return for a second season?",
        "What soap opera was her breakthrough role?",
        "Which of these films topped the box office?",
        "The festival opened at which prestigious awards show?",
    ):
        assert answer_form(question) is is_title, question
    for question in ("What did the images show?", "Which artist has a song on the list?"):  # "show" and "song" are not asked for
        assert answer_form(question) is not is_title, question
    assert LOOSER_CHECKS[is_title]("the hugely popular South Korean series")  # when no title is among the spans


@pytest.mark.parametrize(
    "title", ["Harbor Lights", "Leave it to Beaver", "Thor: Love and Thunder", "The Bold and the Beautiful", "“Grease”"]
)
def test_titles_are_written_as_titles(title):
    assert is_title(title)


@pytest.mark.parametrize(
    "span", ["the hugely popular South Korean series", "South Korean", 'Harbor Lights" is officially coming back', "Monday", "streaming"]
)
def test_a_description_a_nationality_or_a_run_past_the_quote_is_no_title(span):
    assert not is_title(span)


def test_a_span_cut_from_a_longer_name_is_not_a_whole_name():
    text = '"Harbor Lights" is back. Streamly said the South Korean series returns, and Netflix’s Squid Game too.'

    def cut(span: str) -> bool:
        start = text.index(span)
        return cuts_a_name(text, start, start + len(span))

    assert cut("South") and cut("Korean") and cut("Squid")
    assert not cut("Harbor Lights") and not cut("South Korean") and not cut("Streamly") and not cut("Squid Game")
