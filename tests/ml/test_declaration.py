"""Declarations: the shipped documents round-trip, and every rule refuses a bad document
with an error naming the path and the rule."""

import copy
import json
import pickle
import re

import pandas as pd
import pytest

from ml.declaration import MAX_FIELDS, DeclarationError, load_declaration, to_document
from ml.schema import FieldKind, Scorecard
from ml.scorecards import SHIPPED, get_scorecard, set_resolver


def document() -> dict:
    """A small valid declaration in a lender's own layout (another currency, a history)."""
    return {
        "format": 1,
        "key": "consumer_loan",
        "label": "Consumer loan",
        "description": "Will the loan be repaid.",
        "product": "consumer loan",
        "provenance": "The lender's own book, 2019 to 2023.",
        "currency": "EUR",
        "fields": [
            {
                "name": "loan_amount",
                "source": "LoanAmount",
                "kind": "integer",
                "label": "Loan amount",
                "unit": "money",
                "min": 100,
                "max": 1_000_000,
            },
            {
                "name": "income",
                "source": "Income",
                "kind": "numeric",
                "label": "Income",
                "unit": "money",
                "min": 0,
            },
            {
                "name": "home",
                "source": "Home",
                "kind": "categorical",
                "label": "Home",
                "choices": [
                    {"value": "own", "label": "owns the home"},
                    {"value": "rent", "label": "rents"},
                ],
                "aliases": {"2": "own"},
            },
            {
                "name": "age",
                "kind": "integer",
                "label": "Age",
                "min": 18,
                "max": 100,
                "never_reason": True,
            },
            {
                "name": "gender",
                "kind": "categorical",
                "label": "Gender",
                "protected": True,
                "choices": [{"value": "f"}, {"value": "m"}],
            },
            {
                "name": "late_1",
                "kind": "integer",
                "group": "late",
                "period": 1,
                "min": 0,
                "on_invalid": "refuse",
                "phrase": "{value} late payments",
            },
            {"name": "late_2", "kind": "integer", "group": "late", "period": 2, "min": 0},
            {
                "name": "has_phone",
                "kind": "boolean",
                "label": "Has a phone",
                "aliases": {"none": False},
            },
        ],
        "groups": [{"name": "late", "label": "Late payments", "period_unit": "month"}],
        "target": {
            "name": "outcome",
            "source": "Outcome",
            "classes": [
                {"value": "good", "label": "repaid"},
                {"value": "bad", "label": "defaulted"},
            ],
            "bad": ["bad"],
            "aliases": {"0": "good", "1": "bad"},
        },
        "id_columns": ["LoanId"],
        "grouping": None,
        "costs": {"matrix": [[0, 1], [5, 0]], "rationale": "a default costs five margins"},
        "policy": {"approve_below": 0.2, "decline_at_or_above": 0.5},
        "forest": {
            "max_depth": 12,
            "min_samples_leaf": 4,
            "max_features": 0.5,
            "class_weight": "balanced",
        },
        "quality_bars": {"roc_auc": 0.75},
        "derived": [
            {
                "name": "amount_to_income",
                "label": "Amount as share of income",
                "unit": "percent",
                "recipe": "ratio",
                "numerator": "loan_amount",
                "denominator": "income",
            },
            {
                "name": "late_total",
                "label": "Late payments, 2 months",
                "unit": "count",
                "recipe": "sum",
                "of": {"group": "late"},
            },
        ],
        "synthetic": {
            "class_shares": [0.8, 0.2],
            "numeric_drivers": [["income", -0.5]],
            "category_drivers": [["home", "rent", 0.3]],
        },
        "data_files": ["lender/loans.csv"],
    }


def errors_of(doc) -> list[str]:
    with pytest.raises(DeclarationError) as caught:
        load_declaration(doc)
    assert str(caught.value).startswith("Invalid scorecard declaration")
    return caught.value.errors


# --- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(SHIPPED))
def test_shipped_documents_round_trip(key):
    scorecard = SHIPPED[key]
    doc = scorecard.to_document()
    assert doc == to_document(scorecard)
    assert json.loads(json.dumps(doc)) == doc
    again = load_declaration(doc)
    assert again.to_document() == doc
    assert again == scorecard


def test_a_lenders_document_round_trips_and_reads_as_declared():
    scorecard = load_declaration(document())
    doc = scorecard.to_document()
    assert load_declaration(json.loads(json.dumps(doc))).to_document() == doc
    late = scorecard.field("late_2")
    assert late.label == "Late payments, 2 months ago"
    assert "label" not in doc["fields"][6]  # derived from the group, not stored twice
    assert scorecard.field("late_1").on_invalid == "refuse"
    assert scorecard.field("age").never_reason
    assert scorecard.field("loan_amount").format_value(25_000) == "25,000 EUR"
    assert scorecard.field("loan_amount").range_text == "between 100 and 1000000 EUR"
    assert scorecard.field("late_1").describe(3) == "3 late payments, last month"
    assert scorecard.field("late_2").describe(None) == "late payments not given, 2 months ago"
    assert scorecard.bad_classes == ("bad",)
    assert scorecard.group_members("late") == ("late_1", "late_2")
    assert scorecard.cost("bad", "good") == 5.0
    assert scorecard.target_aliases == {"0": "good", "1": "bad"}
    assert scorecard.field("LoanAmount").name == "loan_amount"
    assert dict(scorecard.policy) == {"approve_below": 0.2, "decline_at_or_above": 0.5}


def test_defaults_fill_what_a_document_leaves_out():
    doc = {
        "format": 1,
        "key": "tiny",
        "label": "Tiny",
        "fields": [{"name": "x", "kind": "numeric", "label": "X"}],
        "target": {"name": "y", "classes": [{"value": "ok"}, {"value": "late"}]},
    }
    scorecard = load_declaration(doc)
    assert scorecard.bad_classes == ("late",)
    assert scorecard.cost_matrix == ((0.0, 1.0), (1.0, 0.0))
    assert scorecard.synthetic is None
    assert scorecard.training_file == ""
    assert scorecard.product == "tiny"
    assert load_declaration(scorecard.to_document()) == scorecard


def test_resolver_is_asked_first_and_can_be_removed():
    mine = load_declaration(document())
    set_resolver(lambda key: mine if key == "consumer_loan" else None)
    try:
        assert get_scorecard("consumer_loan") is mine
        shipped_key = sorted(SHIPPED)[0]
        assert get_scorecard(shipped_key) is SHIPPED[shipped_key]
    finally:
        set_resolver(None)
    with pytest.raises(KeyError, match="consumer_loan"):
        get_scorecard("consumer_loan")


def test_a_scorecard_built_in_python_has_a_document():
    shipped = SHIPPED[sorted(SHIPPED)[0]]
    assert isinstance(shipped, Scorecard)
    assert all(isinstance(f.kind, FieldKind) for f in shipped.fields)
    assert pickle.loads(pickle.dumps(shipped.to_document())) == shipped.to_document()


# --- every rule --------------------------------------------------------------------------


def broken(change) -> dict:
    doc = copy.deepcopy(document())
    change(doc)
    return doc


def field_named(doc, name):
    return next(f for f in doc["fields"] if f["name"] == name)


BAD = [
    ("unknown top-level key", lambda d: d.update(colour="red"), "colour: unknown key"),
    (
        "unknown field key",
        lambda d: d["fields"][0].update(colour="red"),
        "fields[0].colour: unknown key",
    ),
    ("format", lambda d: d.update(format=2), "format: must be 1"),
    ("key pattern", lambda d: d.update(key="Consumer Loan"), "key: must be 2-64 lower-case"),
    ("missing key", lambda d: d.pop("key"), "key: is required"),
    ("kind", lambda d: d["fields"][0].update(kind="money"), "fields[0].kind: must be one of"),
    (
        "choices required",
        lambda d: field_named(d, "home").pop("choices"),
        "fields[2].choices: a categorical field needs choices",
    ),
    (
        "choices on a number",
        lambda d: d["fields"][0].update(choices=[{"value": "a"}]),
        "fields[0].choices: only categorical",
    ),
    (
        "duplicate choice",
        lambda d: field_named(d, "home")["choices"].append({"value": "own"}),
        "fields[2].choices[2].value: 'own' is declared twice",
    ),
    (
        "min < max",
        lambda d: d["fields"][0].update(min=20, max=10),
        "fields[0].max: must be greater than min (got 10 < 20)",
    ),
    (
        "min = max",
        lambda d: d["fields"][0].update(min=10, max=10),
        "fields[0].max: must be greater than min (got 10 = 10)",
    ),
    (
        "range on text",
        lambda d: field_named(d, "home").update(min=1),
        "fields[2].min: only numeric and integer fields have a range",
    ),
    (
        "range not a number",
        lambda d: d["fields"][0].update(max="big"),
        "fields[0].max: must be a number",
    ),
    (
        "infinite number",
        lambda d: d["fields"][0].update(max=10**400),
        "fields[0].max: must be a number",
    ),
    (
        "duplicate name",
        lambda d: d["fields"][1].update(name="loan_amount", source="Other"),
        "fields[1].name: 'loan_amount' is declared twice",
    ),
    (
        "duplicate source",
        lambda d: d["fields"][1].update(source="LOANAMOUNT"),
        "fields[1].source: 'LOANAMOUNT' is already the source of field 'loan_amount'",
    ),
    (
        "name not snake_case",
        lambda d: d["fields"][0].update(name="LoanAmount"),
        "fields[0].name: must be a snake_case identifier",
    ),
    (
        "name with double underscore",
        lambda d: d["fields"][0].update(name="loan__amount"),
        "fields[0].name: must not hold a double underscore",
    ),
    (
        "target classes >= 2",
        lambda d: d["target"].update(classes=[{"value": "good"}], bad=[]),
        "target.classes: must declare at least two classes (got 1)",
    ),
    (
        "classes unique",
        lambda d: d["target"]["classes"].append({"value": "Good"}),
        "target.classes[2].value: 'Good' is declared twice",
    ),
    (
        "bad subset of classes",
        lambda d: d["target"].update(bad=["awful"]),
        "target.bad[0]: names no declared class (got 'awful')",
    ),
    (
        "not every class bad",
        lambda d: d["target"].update(bad=["good", "bad"]),
        "target.bad: at least one class must count as good",
    ),
    (
        "target alias",
        lambda d: d["target"]["aliases"].update({"2": "ugly"}),
        "target.aliases.2: names no declared class",
    ),
    (
        "cost matrix square",
        lambda d: d["costs"].update(matrix=[[0, 1]]),
        "costs.matrix: must be 2x2",
    ),
    (
        "cost row length",
        lambda d: d["costs"].update(matrix=[[0, 1, 2], [5, 0]]),
        "costs.matrix[0]: must hold 2 costs",
    ),
    (
        "cost diagonal",
        lambda d: d["costs"].update(matrix=[[1, 1], [5, 0]]),
        "costs.matrix[0][0]: the diagonal must be 0",
    ),
    (
        "cost negative",
        lambda d: d["costs"].update(matrix=[[0, -1], [5, 0]]),
        "costs.matrix[0][1]: must be between 0 and",
    ),
    (
        "group undeclared",
        lambda d: field_named(d, "late_1").update(group="arrears"),
        "fields[5].group: names no declared group (got 'arrears')",
    ),
    (
        "member without period",
        lambda d: field_named(d, "late_1").pop("period"),
        "fields[5].period: a group member needs a whole period",
    ),
    (
        "period outside a group",
        lambda d: d["fields"][0].update(period=1),
        "fields[0].period: only a group member has a period",
    ),
    (
        "periods unique",
        lambda d: field_named(d, "late_2").update(period=1),
        "fields[6].period: period 1 of group 'late' is already field 'late_1'",
    ),
    (
        "group without members",
        lambda d: d["groups"].append({"name": "x", "label": "X"}),
        "groups.x: has no member field",
    ),
    (
        "period unit",
        lambda d: d["groups"][0].update(period_unit="fortnight"),
        "groups[0].period_unit: must be one of month",
    ),
    (
        "recipe closed set",
        lambda d: d["derived"][0].update(recipe="log"),
        "derived[0].recipe: must be one of ratio",
    ),
    (
        "recipe operand field",
        lambda d: d["derived"][0].update(numerator="salary"),
        "derived[0].numerator: names no declared field (got 'salary')",
    ),
    (
        "recipe operand numeric",
        lambda d: d["derived"][0].update(numerator="home"),
        "derived[0].numerator: 'home' is not a numeric field",
    ),
    (
        "recipe group exists",
        lambda d: d["derived"][1].update(of={"group": "arrears"}),
        "derived[1].of.group: names no declared group",
    ),
    (
        "recipe group as scalar",
        lambda d: d["derived"][0].update(numerator={"group": "late"}),
        "derived[0].numerator: a group gives several values",
    ),
    (
        "recipe bare group name",
        lambda d: d["derived"][0].update(numerator="late"),
        """derived[0].numerator: 'late' is a group: write {"group": "late"}""",
    ),
    (
        "recipe unknown key",
        lambda d: d["derived"][0].update(threshold=1),
        "derived[0].threshold: unknown key for recipe 'ratio'",
    ),
    (
        "recipe nested unknown",
        lambda d: d["derived"][0].update(numerator={"median": ["age"]}),
        "derived[0].numerator: unknown operand 'median'",
    ),
    (
        "recipe difference pair",
        lambda d: d["derived"][0].update(numerator={"difference": ["age"]}),
        "derived[0].numerator.difference: must be a list of two operands",
    ),
    (
        "recipe clip order",
        lambda d: d["derived"][0].update(clip=[5, 0]),
        "derived[0].clip: low must be below high",
    ),
    (
        "recipe name clash",
        lambda d: d["derived"][0].update(name="income"),
        "derived[0].name: 'income' is already a field or group",
    ),
    (
        "recipe names unique",
        lambda d: d["derived"][1].update(name="amount_to_income"),
        "derived[1].name: 'amount_to_income' is declared twice",
    ),
    (
        "recipe unit",
        lambda d: d["derived"][0].update(unit="furlongs"),
        "derived[0].unit: must be one of percent",
    ),
    (
        "trend over a group",
        lambda d: d["derived"][1].update(recipe="trend", of=["late_1"]),
        "derived[1].of: a trend is taken over a group",
    ),
    (
        "count threshold required",
        lambda d: d["derived"][1].update(recipe="count_at_least"),
        "derived[1].threshold: is required",
    ),
    (
        "protected never in a recipe",
        lambda d: d["derived"][0].update(numerator={"sum": ["age", "gender"]}),
        "derived[0].numerator.sum[1]: 'gender' is protected: never used by recipes",
    ),
    (
        "never_reason boolean",
        lambda d: d["fields"][0].update(never_reason="yes"),
        "fields[0].never_reason: must be true or false",
    ),
    (
        "on_invalid",
        lambda d: d["fields"][0].update(on_invalid="ignore"),
        "fields[0].on_invalid: must be missing or refuse (got 'ignore')",
    ),
    ("forest whitelist", lambda d: d["forest"].update(n_jobs=64), "forest.n_jobs: unknown key"),
    (
        "forest types",
        lambda d: d["forest"].update(max_depth="deep"),
        "forest.max_depth: must be null or a whole number",
    ),
    (
        "forest trees bounded",
        lambda d: d["forest"].update(n_estimators=10**6),
        "forest.n_estimators: must be a whole number from 10 to 2000",
    ),
    (
        "forest criterion",
        lambda d: d["forest"].update(criterion="gain"),
        "forest.criterion: must be one of gini",
    ),
    (
        "quality bars whitelist",
        lambda d: d["quality_bars"].update(accuracy=0.9),
        "quality_bars.accuracy: unknown key",
    ),
    (
        "quality bar range",
        lambda d: d["quality_bars"].update(roc_auc=1.5),
        "quality_bars.roc_auc: must be between 0 and 1",
    ),
    (
        "policy order",
        lambda d: d["policy"].update(approve_below=0.6),
        "policy.decline_at_or_above: must not be below approve_below",
    ),
    (
        "policy whitelist",
        lambda d: d["policy"].update(approve_all=True),
        "policy.approve_all: unknown key",
    ),
    (
        "phrase placeholders",
        lambda d: d["fields"][0].update(phrase="{value:>999999999}"),
        "fields[0].phrase: may only use the placeholders",
    ),
    (
        "phrase attribute",
        lambda d: d["fields"][0].update(phrase="{value.__class__}"),
        "fields[0].phrase: may only use the placeholders",
    ),
    (
        "alias to a choice",
        lambda d: field_named(d, "home")["aliases"].update({"3": "castle"}),
        "fields[2].aliases.3: must be one of the field's choice values",
    ),
    (
        "boolean alias",
        lambda d: field_named(d, "has_phone")["aliases"].update({"x": "yes"}),
        "fields[7].aliases.x: must be true or false",
    ),
    (
        "value labels keys",
        lambda d: d["fields"][0].update(value_labels={"one": "a"}),
        "fields[0].value_labels.one: keys must be whole numbers",
    ),
    ("label required", lambda d: d["fields"][0].pop("label"), "fields[0].label: is required"),
    (
        "label length",
        lambda d: d["fields"][0].update(label="x" * 201),
        "fields[0].label: must be at most 200 characters (got 201)",
    ),
    (
        "help length",
        lambda d: d["fields"][0].update(help="x" * 5000),
        "fields[0].help: must be at most 2000 characters",
    ),
    (
        "too many fields",
        lambda d: d.update(
            fields=[
                {"name": f"f{i}", "kind": "numeric", "label": "F"} for i in range(MAX_FIELDS + 1)
            ]
        ),
        f"fields: must hold at most {MAX_FIELDS} items (got {MAX_FIELDS + 1})",
    ),
    (
        "synthetic shares",
        lambda d: d["synthetic"].update(class_shares=[0.5, 0.6]),
        "synthetic.class_shares: must add up to 1",
    ),
    (
        "synthetic driver field",
        lambda d: d["synthetic"].update(numeric_drivers=[["home", 1]]),
        "synthetic.numeric_drivers[0]: must name a numeric or integer field",
    ),
    (
        "synthetic driver choice",
        lambda d: d["synthetic"].update(category_drivers=[["home", "castle", 1]]),
        "synthetic.category_drivers[0]: must name one of the field's choice values",
    ),
    (
        "data file inside the data directory",
        lambda d: d.update(data_files=["../../etc/passwd"]),
        "data_files[0]: must be a path inside the data directory",
    ),
    (
        "grouping repairs",
        lambda d: d.update(grouping={"key": "customer", "repairs": {"age": "average"}}),
        "grouping.repairs.age: must be one of constant, nearest, months_elapsed",
    ),
    ("wrong type of fields", lambda d: d.update(fields={"a": 1}), "fields: must be a list"),
    (
        "field not an object",
        lambda d: d["fields"].append("age"),
        "fields[8]: must be an object (got str)",
    ),
]


@pytest.mark.parametrize(("rule", "change", "expected"), BAD, ids=[b[0] for b in BAD])
def test_each_rule_refuses_a_bad_document_naming_the_path(rule, change, expected):
    errors = errors_of(broken(change))
    assert any(error.startswith(expected) for error in errors), errors


def test_every_error_is_collected_at_once():
    def many(doc):
        doc.update(colour="red", key="X")
        doc["fields"][0].update(min=20, max=10)
        doc["costs"]["matrix"] = [[1, 0], [0, 0]]

    errors = errors_of(broken(many))
    assert len(errors) == 4, errors
    paths = [error.split(":")[0] for error in errors]
    assert paths == ["colour", "key", "fields[0].max", "costs.matrix[0][0]"]


@pytest.mark.parametrize("value", [None, [], "text", 3])
def test_a_document_that_is_not_an_object_is_refused(value):
    assert errors_of(value) == [f"document: must be an object (got {type(value).__name__})"]


def test_declaration_error_is_a_value_error():
    with pytest.raises(ValueError, match="key: is required"):
        load_declaration(broken(lambda d: d.pop("key")))


# --- officer wording of the shipped documents ----------------------------------------------

PROVENANCE_WORDS = re.compile(
    r"September|2005|NT\$|NT dollar|\bDM\b|Deutsche|UCI|Taiwan|Kaggle|Statlog|"
    r"dataset's|public 'NM'|public \"NM\"",
)


def officer_texts(scorecard):
    """Every text of a scorecard that an officer's page or a reason may show."""
    yield scorecard.label
    yield scorecard.description
    yield from scorecard.class_labels.values()
    for field in scorecard.fields:
        yield field.label
        yield field.help_text
        yield field.phrase
        yield from field.value_labels.values()
        yield from (label for _, label in field.choices)
    for recipe in scorecard.derived:
        yield recipe["label"]


@pytest.mark.parametrize("key", sorted(SHIPPED))
def test_shipped_wording_has_no_data_set_artefact(key):
    scorecard = SHIPPED[key]
    found = [text for text in officer_texts(scorecard) if PROVENANCE_WORDS.search(text)]
    assert found == []
    assert scorecard.provenance  # said once, where it belongs
    assert scorecard.currency == ""


def test_a_monthly_history_reads_in_periods():
    card = SHIPPED["card_default"]
    members = [card.field(name) for name in card.group_members(card.groups[0].name)]
    assert [f.label for f in members[:2]] == [
        "Repayment status, last month",
        "Repayment status, 2 months ago",
    ]
    assert members[1].reason_phrase(2) == "payment delayed 2 months, 2 months ago,"
    money = [f for f in card.fields if f.unit == "money"]
    assert money and all(f.format_value(1234567) == "1,234,567" for f in money)


def test_a_never_reason_field_is_never_named_as_a_reason():
    from ml.train import train_scorecard
    from tests.ml.modelkit import TINY_FOREST, make_frame

    doc = SHIPPED["card_default"].to_document()
    frame = make_frame("card_default", 400)
    plain = train_scorecard(
        SHIPPED["card_default"], frame, search=False, params=TINY_FOREST, permutation=False
    ).model
    named = {r["field"] for _, row in frame.head(60).iterrows() for r in _reasons(plain, row)}
    hidden = sorted(named)[:2]
    for field in doc["fields"]:
        if field["name"] in hidden:
            field["never_reason"] = True
    scorecard = load_declaration(doc)
    model = train_scorecard(
        scorecard, frame, search=False, params=TINY_FOREST, permutation=False
    ).model
    rows = frame.head(60)
    single = {r["field"] for _, row in rows.iterrows() for r in _reasons(model, row)}
    assert single and not single & set(hidden)
    codes = model.predict_frame(rows, reasons=True)["reason_codes"]
    assert not any(code.rstrip("+-") in hidden for cell in codes for code in cell.split(";"))
    assert any(cell for cell in codes)
    # They still move the risk: the model reads them.
    assert set(hidden) <= set(model.input_fields)


def _reasons(model, row):
    values = {
        name: (None if pd.isna(v) else v) for name, v in row.items() if name in model.input_fields
    }
    return model.predict_one(values, validated=True).reasons
