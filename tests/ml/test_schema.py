import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from ml.schema import (
    Field,
    FieldKind,
    snake_case,
    split_multi,
    validate_frame,
    validate_inputs,
)
from ml.scorecards import SCORECARDS, get_scorecard
from tests.ml.conftest import real_data_path

UCI_HEADERS = (
    ["LIMIT_BAL", "SEX", "EDUCATION", "MARRIAGE", "AGE", "PAY_0"]
    + [f"PAY_{n}" for n in range(2, 7)]
    + [f"BILL_AMT{n}" for n in range(1, 7)]
    + [f"PAY_AMT{n}" for n in range(1, 7)]
)


def valid_card_row(**overrides):
    row = {
        "limit_bal": 20000,
        "sex": "female",
        "education": "university",
        "marriage": "married",
        "age": 24,
        **{name: 0 for name in ("pay_0", "pay_2", "pay_3", "pay_4", "pay_5", "pay_6")},
        **{f"bill_amt{n}": 1000 for n in range(1, 7)},
        **{f"pay_amt{n}": 500 for n in range(1, 7)},
    }
    row.update(overrides)
    return row


# --- declarations --------------------------------------------------------------------------


def test_scorecards_are_listed_by_label():
    assert list(SCORECARDS) == ["german_credit", "card_default", "credit_score"]
    assert get_scorecard("german_credit").key == "german_credit"


def test_unknown_scorecard_raises_key_error_naming_known_keys():
    with pytest.raises(KeyError, match="Unknown scorecard 'nope'.*card_default"):
        get_scorecard("nope")


@pytest.mark.parametrize("scorecard", SCORECARDS.values(), ids=list(SCORECARDS))
def test_field_names_are_snake_case_of_the_public_header(scorecard):
    for field in scorecard.fields:
        assert field.name == snake_case(field.source)
        assert field.label and field.kind in FieldKind
        if field.kind in (FieldKind.CATEGORICAL, FieldKind.MULTI_CATEGORICAL):
            assert field.choices


def test_card_default_fields_follow_the_uci_header(card_default):
    assert [f.source for f in card_default.fields] == UCI_HEADERS
    assert card_default.field("PAY_0").name == "pay_0"
    assert card_default.target == "default_payment_next_month"
    assert card_default.target_source == "default.payment.next.month"


@pytest.mark.parametrize(
    ("key", "protected"),
    [("card_default", {"sex", "marriage"}), ("german_credit", {"personal_status"})],
)
def test_protected_fields_are_not_model_fields(key, protected):
    scorecard = get_scorecard(key)
    assert {f.name for f in scorecard.protected_fields} == protected
    assert not protected & set(scorecard.model_field_names)
    assert len(scorecard.model_fields) + len(protected) == len(scorecard.fields)


def test_credit_score_has_no_identifiers_and_groups_by_customer(credit_score):
    names = set(credit_score.field_names)
    assert not names & {"id", "customer_id", "name", "ssn", "month"}
    assert len(credit_score.fields) == 22
    assert credit_score.grouping_key == "customer_id"
    assert credit_score.field("type_of_loan").kind == FieldKind.MULTI_CATEGORICAL
    assert credit_score.field("credit_history_age").unit == "months"
    assert credit_score.protected_fields == ()


@pytest.mark.parametrize(
    ("key", "classes"),
    [
        ("card_default", ("no_default", "default")),
        ("german_credit", ("good", "bad")),
        ("credit_score", ("Good", "Standard", "Poor")),
    ],
)
def test_classes_go_from_best_to_worst_with_a_square_cost_matrix(key, classes):
    scorecard = get_scorecard(key)
    assert scorecard.classes == classes
    assert set(scorecard.class_labels) == set(classes)
    assert len(scorecard.cost_matrix) == len(classes)
    assert all(scorecard.cost(c, c) == 0 for c in classes)
    assert scorecard.cost(scorecard.worst_class, scorecard.best_class) > 0


def test_german_cost_matrix_is_the_documented_one(german_credit):
    assert german_credit.cost("bad", "good") == 5
    assert german_credit.cost("good", "bad") == 1


def test_declarations_are_frozen_and_hashable(card_default):
    field = card_default.field("limit_bal")
    with pytest.raises(dataclasses.FrozenInstanceError):
        field.label = "x"
    assert {field, card_default.field("age")} and hash(card_default)
    json.dumps(dict(card_default.field("pay_0").value_labels))


def test_field_lookup_accepts_original_header_and_rejects_unknown(credit_score):
    assert credit_score.field("Num_Bank_Accounts").name == "num_bank_accounts"
    with pytest.raises(KeyError, match="no field 'salary'"):
        credit_score.field("salary")


def test_categorical_field_without_choices_is_refused():
    with pytest.raises(ValueError, match="needs choices"):
        Field(name="x", kind=FieldKind.CATEGORICAL, label="X")


def test_data_files_are_relative(credit_score):
    for scorecard in SCORECARDS.values():
        assert all(not path.startswith("/") for path in scorecard.data_files)
    assert credit_score.data_files == (
        "credit_score_classification/customer_snapshot.csv",
        "credit_score_classification/train.csv",
    )


def test_declared_sources_match_the_real_headers():
    for key in SCORECARDS:
        scorecard = get_scorecard(key)
        header = pd.read_csv(real_data_path(key), nrows=0, quotechar="'").columns
        cleaned = [name.strip('"') for name in header]
        for field in scorecard.fields:
            assert field.source in cleaned, (key, field.source)
        assert scorecard.target_source in cleaned


# --- describe ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "name", "value", "expected"),
    [
        ("card_default", "pay_0", 2, "payment delayed 2 months, last month"),
        ("card_default", "pay_0", 1, "payment delayed 1 month, last month"),
        ("card_default", "pay_6", -1, "bill paid in full, 6 months ago"),
        ("card_default", "pay_2", -2, "no bill, 2 months ago"),
        ("card_default", "limit_bal", 20000, "credit limit of 20,000"),
        ("card_default", "bill_amt1", -1500.5, "bill of -1,500.5, last month"),
        ("card_default", "education", "unknown", "education: unknown"),
        ("german_credit", "checking_status", "<0", "checking account: below 0"),
        ("german_credit", "duration", 24, "duration of 24 months"),
        ("german_credit", "own_telephone", False, "telephone registered: no"),
        ("credit_score", "credit_history_age", 265, "credit history of 22 years and 1 month"),
        ("credit_score", "interest_rate", 12, "credit card interest rate of 12%"),
        ("credit_score", "type_of_loan", [], "loans held: none"),
        (
            "credit_score",
            "type_of_loan",
            "Auto Loan, Auto Loan",
            "loans held: auto loan, auto loan",
        ),
        ("credit_score", "annual_income", None, "annual income not given"),
        ("credit_score", "monthly_balance", 312.494, "monthly balance of 312.49"),
    ],
)
def test_describe_gives_an_officer_readable_phrase(key, name, value, expected):
    assert get_scorecard(key).field(name).describe(value) == expected


# --- validate_inputs -----------------------------------------------------------------------


def test_valid_card_row_passes_with_coerced_types(card_default):
    result = validate_inputs(card_default, valid_card_row(limit_bal="5e+05", age="24"))
    assert result.is_valid, result.errors
    assert result.values["limit_bal"] == 500000 and isinstance(result.values["limit_bal"], int)
    assert result.values["age"] == 24
    assert list(result.values) == list(card_default.field_names)


def test_original_headers_and_codes_are_accepted(card_default):
    row = {card_default.field(name).source: value for name, value in valid_card_row().items()}
    row.update({"SEX": "2", "EDUCATION": 5, "MARRIAGE": "0"})
    result = validate_inputs(card_default, row)
    assert result.is_valid, result.errors
    assert result.values["sex"] == "female"
    assert result.values["education"] == "unknown"
    assert result.values["marriage"] == "other"


def test_snake_case_key_wins_over_the_original_header(card_default):
    result = validate_inputs(card_default, valid_card_row(LIMIT_BAL=90000, limit_bal=30000))
    assert result.values["limit_bal"] == 30000


@pytest.mark.parametrize(
    ("overrides", "name", "message"),
    [
        ({"limit_bal": None}, "limit_bal", "This field is required."),
        ({"limit_bal": ""}, "limit_bal", "This field is required."),
        ({"age": "24.5"}, "age", "Enter a whole number."),
        ({"age": "old"}, "age", "Enter a whole number."),
        ({"limit_bal": 5}, "limit_bal", "Must be between 10000 and 1000000 (got 5)."),
        ({"pay_0": "12"}, "pay_0", "Must be between -2 and 9 months (got 12)."),
        (
            {"education": "x"},
            "education",
            "Must be one of: graduate school, university, high school, others, unknown (got 'x').",
        ),
        ({"age": True}, "age", "Enter a number."),
    ],
)
def test_error_messages_name_the_rule(card_default, overrides, name, message):
    result = validate_inputs(card_default, valid_card_row(**overrides))
    assert not result.is_valid
    assert result.errors == {name: [message]}
    assert result.values[name] is None


def test_number_messages_for_numeric_fields(credit_score):
    result = validate_inputs(credit_score, {"annual_income": "lots"}, partial=True)
    assert result.errors == {"annual_income": ["Enter a number."]}
    result = validate_inputs(credit_score, {"annual_income": "20,000.50"}, partial=True)
    assert result.values["annual_income"] == 20000.5


def test_partial_skips_only_the_required_rule(card_default):
    assert validate_inputs(card_default, {}, partial=True).is_valid
    result = validate_inputs(card_default, {"limit_bal": 5}, partial=True)
    assert list(result.errors) == ["limit_bal"]
    assert len(validate_inputs(card_default, {}).errors) == len(card_default.fields)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("yes", True), ("No", False), ("1", True), ("0", False), ("true", True), (False, False)],
)
def test_booleans_accept_yes_no_true_false_one_zero(german_credit, raw, expected):
    result = validate_inputs(german_credit, {"foreign_worker": raw}, partial=True)
    assert result.values["foreign_worker"] is expected


def test_boolean_alias_and_error(german_credit):
    assert (
        validate_inputs(german_credit, {"own_telephone": "none"}, partial=True).values[
            "own_telephone"
        ]
        is False
    )
    result = validate_inputs(german_credit, {"own_telephone": "maybe"}, partial=True)
    assert result.errors == {"own_telephone": ["Enter yes or no."]}


def test_german_opaque_category_values(german_credit):
    result = validate_inputs(
        german_credit, {"checking_status": "0<=X<200", "employment": ">=7"}, partial=True
    )
    assert result.values["checking_status"] == "0<=X<200"
    assert result.values["employment"] == ">=7"
    labelled = validate_inputs(german_credit, {"checking_status": "below 0 DM"}, partial=True)
    assert labelled.values["checking_status"] == "<0"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "Auto Loan, Credit-Builder Loan, and Personal Loan",
            ["Auto Loan", "Credit-Builder Loan", "Personal Loan"],
        ),
        ("Credit-Builder Loan, and Mortgage Loan", ["Credit-Builder Loan", "Mortgage Loan"]),
        ("Auto Loan, Auto Loan, and Not Specified", ["Auto Loan", "Auto Loan", "Not Specified"]),
        (["payday loan", "Student Loan"], ["Payday Loan", "Student Loan"]),
        ("", []),
        ([], []),
        (None, None),
    ],
)
def test_loan_types_accept_prose_or_lists(credit_score, raw, expected):
    result = validate_inputs(credit_score, {"Type_of_Loan": raw}, partial=True)
    assert result.values["type_of_loan"] == expected
    assert "type_of_loan" not in result.errors


def test_unknown_loan_type_is_an_error(credit_score):
    result = validate_inputs(credit_score, {"type_of_loan": "Auto Loan, Boat Loan"}, partial=True)
    assert result.errors["type_of_loan"][0].endswith("(got 'Boat Loan').")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("22 Years and 1 Months", 265), ("1 Year and 0 Months", 12), ("265", 265), (265.0, 265)],
)
def test_credit_history_age_accepts_prose(credit_score, raw, expected):
    result = validate_inputs(credit_score, {"credit_history_age": raw}, partial=True)
    assert result.values["credit_history_age"] == expected


def test_public_placeholders_mean_not_given_for_optional_fields(credit_score):
    raw = {
        "Occupation": "_______",
        "Credit_Mix": "_",
        "Payment_of_Min_Amount": "NM",
        "Payment_Behaviour": "!@9#%8",
        "Amount_invested_monthly": "__10000__",
        "Monthly_Balance": "__-333333333333333333333333333__",
        "Annual_Income": "52312.68_",
    }
    result = validate_inputs(credit_score, raw, partial=True)
    assert result.is_valid, result.errors
    assert result.values["annual_income"] == 52312.68
    for name in ("occupation", "credit_mix", "payment_of_min_amount", "payment_behaviour"):
        assert result.values[name] is None


def test_required_field_with_placeholder_is_required(credit_score):
    result = validate_inputs(credit_score, {"Num_Bank_Accounts": "_"})
    assert result.errors["num_bank_accounts"] == ["This field is required."]


def test_split_multi_round_trips_the_canonical_string():
    assert split_multi("A, B, and C") == ["A", "B", "C"]
    assert split_multi(", ".join(["A", "B"])) == ["A", "B"]
    assert split_multi(float("nan")) is None


# --- validate_frame agrees with validate_inputs --------------------------------------------

ROWS = [
    valid_card_row(),
    valid_card_row(limit_bal="5e+05", education="5", sex="2"),
    valid_card_row(limit_bal=5),
    valid_card_row(age="24.5", pay_0="x"),
    valid_card_row(education="nope", marriage=""),
    valid_card_row(bill_amt1="-339603", pay_amt1="1e+05"),
]


# Row number -> fields whose value is read but implausible: one applicant's inputs refuse it
# (a person can correct it), many rows score it as missing.
IMPLAUSIBLE = {3: {"limit_bal"}, 5: {"education"}}


def test_validate_frame_matches_validate_inputs_row_by_row(card_default):
    frame = pd.DataFrame([{k: "" if v is None else str(v) for k, v in r.items()} for r in ROWS])
    clean, errors = validate_frame(card_default, frame)
    for row_number, row in enumerate(ROWS, start=1):
        single = validate_inputs(card_default, row)
        implausible = IMPLAUSIBLE.get(row_number, set())
        assert implausible <= set(single.errors), row_number
        expected = {name: e for name, e in single.errors.items() if name not in implausible}
        assert errors.get(row_number, {}) == expected, row_number
    assert list(clean["row_number"]) == [1, 2, 3, 6]
    assert np.isnan(clean.loc[2, "limit_bal"])
    assert clean.loc[1, "limit_bal"] == 500000
    assert clean.loc[3, "pay_amt1"] == 100000
