"""Flags in words: for an officer, for a cell of the bulk result, for a job's summary."""

from ml.flags import flag_counts_add, flag_sentence, flag_sentences, flag_summary, flags_cell
from ml.scorecards import get_scorecard

CREDIT_SCORE = get_scorecard("credit_score")
INCOME = {"field": "annual_income", "rule": "out_of_range", "value": "5700000_"}
AGE = {"field": "age", "rule": "out_of_range", "value": "-500"}
LOANS = {"field": "num_of_loan", "rule": "out_of_range", "value": "-100"}
OCCUPATION = {"field": "occupation", "rule": "unknown_choice", "value": "Pilot"}


def test_an_officer_reads_the_value_the_bound_it_broke_and_what_was_scored():
    assert flag_sentence(CREDIT_SCORE, INCOME) == (
        "Annual income 5,700,000 is outside the usual range (up to 1,000,000) and was scored "
        "as not given."
    )
    assert flag_sentence(CREDIT_SCORE, AGE).startswith(
        "Age -500 years is outside the usual range (at least 14 years)"
    )
    assert flag_sentence(CREDIT_SCORE, OCCUPATION) == (
        "Occupation “Pilot” is not one of the known choices and was scored as not given."
    )


def test_a_value_worked_out_from_the_rest_of_the_row_is_said_to_have_replaced_it():
    """-100 loans with three loan types listed: the count scored is 3, not missing."""
    sentences = flag_sentences(CREDIT_SCORE, [LOANS, AGE], {"num_of_loan": 3, "age": None})
    assert sentences[0].endswith("was replaced by 3, worked out from the rest of the record.")
    assert sentences[1].endswith("was scored as not given.")


def test_a_flag_of_a_field_the_declaration_no_longer_has_is_still_said():
    sentence = flag_sentence(CREDIT_SCORE, {"field": "gone", "rule": "out_of_range", "value": "7"})
    assert sentence == "gone “7” is outside the usual range and was scored as not given."


def test_a_result_cell_and_a_job_summary():
    assert flags_cell([INCOME, OCCUPATION]) == (
        "annual_income out of range: 5700000_; occupation unknown choice: Pilot"
    )
    assert flags_cell([]) == ""
    counts: dict = {}
    for flags in ([INCOME, OCCUPATION], [INCOME], [AGE]):
        flag_counts_add(counts, flags)
    assert counts == {
        "annual_income": {"out_of_range": 2},
        "occupation": {"unknown_choice": 1},
        "age": {"out_of_range": 1},
    }
    assert flag_summary(3, counts) == (
        "3 rows scored with 1 or more values set missing: annual_income out of range 2, "
        "age out of range 1, occupation unknown choice 1"
    )
    assert flag_summary(0, {}) == ""
