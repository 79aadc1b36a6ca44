"""The scorecard builder's profiling and proposal (ml.profiling), on a lender-style file made
here, on the public files (skipped where absent) and on every bad file of issue 14 part 6."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from django.conf import settings

from ml.profiling import (
    MIN_CLASS_ROWS,
    ProfileError,
    check_training_file,
    profile_csv,
    propose,
    propose_declaration,
)

STATUS = [f"Status_M{n}" for n in range(1, 7)]


def lender_frame(rows: int = 800, seed: int = 7) -> pd.DataFrame:
    """A lender's export in a layout of its own: Swiss francs, a date, six months of
    repayment status, dirty values, an id, a leaky column, a protected one."""
    rng = np.random.default_rng(seed)
    status = rng.choice([0, 0, 0, 0, 1, 2, 3], size=(rows, 6))
    income = rng.lognormal(8.6, 0.4, rows).round(2)
    risk = 0.9 * status[:, 0] + 0.5 * status[:, 1] - (income - income.mean()) / income.std()
    defaulted = risk + rng.normal(0, 1.0, rows) > np.quantile(risk, 0.7)
    amount = rng.integers(20, 800, rows) * 100
    frame = pd.DataFrame(
        {
            "LoanRef": [f"LN-{100000 + i}" for i in range(rows)],
            "ApplicationDate": pd.date_range("2022-01-03", periods=rows, freq="D").strftime(
                "%Y-%m-%d"
            ),
            "ApplicantGender": rng.choice(["F", "M"], rows),
            "AgeYears": rng.integers(19, 75, rows).astype(str),
            "LoanAmount": amount.astype(str),
            "MonthlyIncome": income.astype(str),
            "HomeOwnership": rng.choice(["own", "rent", "mortgage"], rows),
            **{name: status[:, i].astype(str) for i, name in enumerate(STATUS)},
            "CollectionsCase": np.where(defaulted, "yes", "no"),
            "BranchCode": "ZRH",
            "OfficerNotes": [
                f"called client on day {i}, {rng.choice(['no answer', 'promised', 'ok'])}"
                for i in range(rows)
            ],
            "Outcome": np.where(defaulted, "Defaulted", "Repaid"),
        }
    )
    # Dirty values, as real exports have them.
    frame.loc[::37, "LoanAmount"] = "5e+04"
    frame.loc[5::41, "LoanAmount"] = "12,500"
    frame.loc[3::29, "MonthlyIncome"] = "N/A"
    frame.loc[7::31, "HomeOwnership"] = "_____"
    frame.loc[11::53, "AgeYears"] = "999"
    frame.loc[13::101, "AgeYears"] = "41_"
    flip = rng.choice(rows, 4, replace=False)  # the leak is almost, not quite, perfect
    frame.loc[flip, "CollectionsCase"] = np.where(
        frame.loc[flip, "CollectionsCase"] == "yes", "no", "yes"
    )
    return frame


def csv_bytes(frame: pd.DataFrame, encoding: str = "utf-8") -> bytes:
    return frame.to_csv(index=False).encode(encoding)


@pytest.fixture(scope="module")
def lender_proposal():
    profile = profile_csv(csv_bytes(lender_frame()), name="zurich_loans_2023.csv")
    return profile, propose(profile)


def test_lender_file_proposes_target_classes_and_costs(lender_proposal):
    _, proposal = lender_proposal
    doc = proposal.declaration
    assert doc["format"] == 1
    assert doc["key"] == "zurich_loans_2023"
    assert doc["target"]["source"] == "Outcome"
    assert [c["value"] for c in doc["target"]["classes"]] == ["Repaid", "Defaulted"]
    assert doc["target"]["bad"] == ["Defaulted"]
    assert doc["costs"]["matrix"] == [[0, 1], [5, 0]]
    assert doc["costs"]["rationale"]
    assert doc["forest"] == {} and doc["derived"] == [] and doc["synthetic"] is None
    assert json.loads(json.dumps(doc)) == doc  # plain JSON


def test_lender_file_roles_and_reasons(lender_proposal):
    _, proposal = lender_proposal
    roles = {header: entry["role"] for header, entry in proposal.roles.items()}
    assert roles["LoanRef"] == "id"
    assert roles["ApplicationDate"] == "ignored"
    assert "date" in proposal.roles["ApplicationDate"]["reason"]
    assert roles["BranchCode"] == "ignored"
    assert "one value only" in proposal.roles["BranchCode"]["reason"]
    assert roles["OfficerNotes"] == "ignored"
    assert "free text" in proposal.roles["OfficerNotes"]["reason"]
    assert roles["ApplicantGender"] == "protected"
    assert roles["Outcome"] == "target"
    assert roles["LoanAmount"] == roles["MonthlyIncome"] == roles["Status_M1"] == "input"
    doc = proposal.declaration
    assert set(doc["id_columns"]) == {
        "LoanRef",
        "ApplicationDate",
        "BranchCode",
        "OfficerNotes",
        "CollectionsCase",
    }


def test_lender_file_flags_the_leaky_column_with_its_figure(lender_proposal):
    _, proposal = lender_proposal
    leak = proposal.roles["CollectionsCase"]
    assert leak["role"] == "ignored"
    assert leak["leakage_roc_auc"] >= 0.98
    assert "leakage suspect" in leak["reason"] and "Outcome" in leak["reason"]
    # Real inputs are predictive, but not suspects.
    assert "leakage_roc_auc" not in proposal.roles["Status_M1"]


def test_lender_file_fields(lender_proposal):
    profile, proposal = lender_proposal
    fields = {f["source"]: f for f in proposal.declaration["fields"]}
    names = [f["name"] for f in fields.values()]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in names)
    amount = fields["LoanAmount"]
    assert (amount["name"], amount["label"], amount["kind"]) == (
        "loan_amount",
        "Loan amount",
        "integer",
    )
    assert amount["unit"] == "money"
    assert amount["min"] == 0 and 80_000 <= amount["max"] <= 200_000
    assert fields["MonthlyIncome"]["kind"] == "numeric"
    assert fields["MonthlyIncome"]["required"] is False  # N/A cells
    age = fields["AgeYears"]
    assert age["never_reason"] is True and age["protected"] is False
    assert age["max"] <= 120  # 999 is a typing error, not an age
    assert profile.column("AgeYears").notes  # ...and the profile says so
    home = fields["HomeOwnership"]
    assert home["kind"] == "categorical" and home["placeholders"] == ["_____"]
    assert {c["value"] for c in home["choices"]} == {"own", "rent", "mortgage"}
    gender = fields["ApplicantGender"]
    assert gender["protected"] is True and gender["kind"] == "categorical"
    assert all(f["on_invalid"] == "missing" for f in fields.values())


def test_lender_file_monthly_history_is_a_group(lender_proposal):
    _, proposal = lender_proposal
    doc = proposal.declaration
    assert doc["groups"] == [{"name": "status", "label": "Status", "period_unit": "month"}]
    fields = {f["source"]: f for f in doc["fields"]}
    assert [(fields[h]["group"], fields[h]["period"]) for h in STATUS] == [
        ("status", n) for n in range(1, 7)
    ]


def test_profile_figures(lender_proposal):
    profile, _ = lender_proposal
    assert profile.rows == 800 and profile.sampled_rows == 800
    assert profile.encoding == "UTF-8"
    income = profile.column("MonthlyIncome")
    assert income.missing == len(range(3, 800, 29))
    assert set(income.quantiles) == {"0.1", "1", "5", "25", "50", "75", "95", "99", "99.9"}
    assert income.quantiles["1"] <= income.quantiles["50"] <= income.quantiles["99"]
    home = profile.column("HomeOwnership")
    assert home.placeholders == {"_____": len(range(7, 800, 31))}
    assert profile.column("LoanRef").unique_per_row
    assert profile.column("BranchCode").constant
    assert profile.column("ApplicationDate").kind == "date"
    assert json.dumps(profile.to_dict())


def test_a_big_file_is_profiled_on_a_seeded_sample_with_exact_counts():
    data = csv_bytes(lender_frame(rows=3000, seed=3))
    whole = profile_csv(data)
    sampled = profile_csv(data, max_rows=500)
    assert sampled.rows == 3000 and sampled.sampled_rows == 500
    assert "seeded sample of 500 rows" in sampled.sampling
    for header in ("MonthlyIncome", "HomeOwnership", "Outcome"):
        assert sampled.column(header).missing == whole.column(header).missing
    assert sampled.column("Outcome").choices == whole.column("Outcome").choices
    assert sampled.column("LoanRef").unique_per_row
    again = profile_csv(data, max_rows=500)
    assert again.column("MonthlyIncome").quantiles == sampled.column("MonthlyIncome").quantiles


def test_a_utf16_file_with_its_byte_order_mark_is_read():
    profile = profile_csv(lender_frame(rows=300).to_csv(index=False).encode("utf-16"))
    assert profile.encoding == "UTF-16"
    assert propose_declaration(profile)["target"]["source"] == "Outcome"


def test_three_classes_are_ordered_and_the_guess_is_said():
    frame = lender_frame(rows=900)
    grade = np.where(frame["Outcome"] == "Defaulted", "Poor", "Good").astype(object)
    grade[::3] = "Standard"
    frame["Outcome"] = grade
    proposal = propose(profile_csv(csv_bytes(frame)), target="Outcome")
    classes = [c["value"] for c in proposal.declaration["target"]["classes"]]
    assert classes == ["Good", "Standard", "Poor"]
    matrix = proposal.declaration["costs"]["matrix"]
    assert matrix[2][0] == 5 and all(matrix[i][i] == 0 for i in range(3))
    assert any("guess" in note for note in proposal.notes)


# --- bad files (issue 14, part 6) -------------------------------------------------------------


def errors_of(call) -> list[str]:
    with pytest.raises(ProfileError) as caught:
        call()
    assert caught.value.errors
    return caught.value.errors


def test_no_target_column():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"Amount": rng.normal(size=200), "Income": rng.normal(size=200)})
    profile = profile_csv(csv_bytes(frame))
    (message,) = errors_of(lambda: propose_declaration(profile))
    assert message.startswith("No target column")


def test_a_named_target_that_is_not_there():
    profile = profile_csv(csv_bytes(lender_frame(rows=200)))
    (message,) = errors_of(lambda: check_training_file(profile, target="Default"))
    assert "no column 'Default'" in message


def test_one_class_only():
    frame = lender_frame(rows=200)
    frame["Outcome"] = "Repaid"
    profile = profile_csv(csv_bytes(frame))
    (message,) = errors_of(lambda: propose_declaration(profile))
    assert "'Outcome'" in message and "one class only ('Repaid')" in message


def test_fewer_than_50_rows_of_a_class():
    frame = lender_frame(rows=400)
    frame["Outcome"] = "Repaid"
    frame.loc[: MIN_CLASS_ROWS - 11, "Outcome"] = "Defaulted"
    profile = profile_csv(csv_bytes(frame))
    (message,) = errors_of(lambda: check_training_file(profile))
    assert "'Outcome'" in message and "'Defaulted' has 40" in message


def test_more_than_300_columns():
    header = ",".join(f"c{i}" for i in range(301)) + ",Outcome\n"
    (message,) = errors_of(lambda: profile_csv(header.encode() + b"1," * 301 + b"Repaid\n"))
    assert "302 columns; the limit is 300" in message
    (message,) = errors_of(lambda: profile_csv(b"a,b,c,Outcome\n1,2,3,x\n", max_columns=3))
    assert "the limit is 3" in message


def test_duplicate_headers_are_named():
    data = b"Age,Income,Age,Outcome,Income\n30,1,31,Repaid,2\n"
    (message,) = errors_of(lambda: profile_csv(data))
    assert "'Age'" in message and "'Income'" in message and "unique" in message


def test_an_undecodable_file_names_its_encoding():
    latin = lender_frame(rows=100).to_csv(index=False).replace("ZRH", "Zürich")
    (message,) = errors_of(lambda: profile_csv(latin.encode("cp1252")))
    assert "not UTF-8" in message and "Windows-1252" in message


def test_binary_and_empty_files():
    assert "binary" in errors_of(lambda: profile_csv(b"\x00\x01\x02PK"))[0]
    assert "empty" in errors_of(lambda: profile_csv(b""))[0]
    assert "no data rows" in errors_of(lambda: profile_csv(b"a,b\n"))[0]


def test_a_file_object_is_read_like_bytes():
    data = csv_bytes(lender_frame(rows=200))
    profile = profile_csv(io.BytesIO(data))
    assert profile.rows == 200 and profile.source_name == "upload.csv"


# --- the public files (skipped where the data directory is absent) ----------------------------


def public_file(relative: str):
    path = settings.CREDITPORTAL_DATA_DIR / relative
    if not path.is_file():
        pytest.skip(f"no {relative} (set CREDITPORTAL_DATA_DIR)")
    return path


def test_uci_card_file():
    proposal = propose(profile_csv(public_file("uci_credit_card_default/UCI_Credit_Card.csv")))
    doc = proposal.declaration
    assert doc["target"]["source"] == "default.payment.next.month"
    assert doc["target"]["aliases"] == {"0": "good", "1": "bad"}
    assert doc["id_columns"] == ["ID"]
    fields = {f["source"]: f for f in doc["fields"]}
    assert fields["SEX"]["protected"] and fields["MARRIAGE"]["protected"]
    assert fields["LIMIT_BAL"]["unit"] == "money" and fields["LIMIT_BAL"]["max"] >= 1_000_000
    assert {g["name"] for g in doc["groups"]} == {"pay", "bill_amt", "pay_amt"}
    assert not [h for h, r in proposal.roles.items() if "leakage_roc_auc" in r]


def test_german_credit_file():
    doc = propose_declaration(profile_csv(public_file("german_credit/german_credit.csv")))
    assert doc["target"]["source"] == "class"
    assert [c["value"] for c in doc["target"]["classes"]] == ["good", "bad"]
    assert doc["id_columns"] == []
    fields = {f["source"]: f for f in doc["fields"]}
    assert len(fields) == 20
    assert fields["personal_status"]["protected"]
    assert fields["checking_status"]["kind"] == "categorical"
    assert fields["credit_amount"]["unit"] == "money"


def test_credit_score_monthly_file():
    proposal = propose(profile_csv(public_file("credit_score_classification/train.csv")))
    doc = proposal.declaration
    assert doc["target"]["source"] == "Credit_Score"
    assert [c["value"] for c in doc["target"]["classes"]] == ["Good", "Standard", "Poor"]
    assert doc["grouping"]["source"] == "Customer_ID"
    assert doc["grouping"]["period_source"] == "Month"
    assert {"ID", "Name", "SSN", "Month"} <= set(doc["id_columns"])
    fields = {f["source"]: f for f in doc["fields"]}
    assert fields["Type_of_Loan"]["kind"] == "multi_categorical"
    assert fields["Credit_Mix"]["placeholders"] == ["_"]
    assert fields["Payment_Behaviour"]["placeholders"] == ["!@9#%8"]
    assert fields["Credit_History_Age"]["display"] == "years_months"
    assert fields["Age"]["max"] <= 120 and fields["Interest_Rate"]["max"] < 5318


def test_credit_score_snapshot_file():
    doc = propose_declaration(
        profile_csv(public_file("credit_score_classification/customer_snapshot.csv"))
    )
    assert doc["target"]["source"] == "Credit_Score"
    assert doc["grouping"] is None
    assert {"Customer_ID", "ID", "Name", "SSN", "Month"} <= set(doc["id_columns"])
