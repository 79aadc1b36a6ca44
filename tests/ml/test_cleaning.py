import codecs
import dataclasses
import functools
import io
import json
import re

import numpy as np
import pandas as pd
import pytest

from ml.cleaning import (
    MAX_FIELD_CHARS,
    ROW_NUMBER,
    CleaningError,
    CleaningReport,
    clean_frame,
    count_csv_rows,
    csv_text_check,
    iter_clean_chunks,
    load_raw,
    protected_frame,
    read_csv,
    read_csv_chunks,
    split_xy,
)
from ml.schema import split_multi
from tests.ml.conftest import CREDIT_SCORE_CSV, GERMAN_CSV, UCI_CSV, real_data_path


def merged_chunks(scorecard, source, chunksize, **kwargs):
    results = list(iter_clean_chunks(scorecard, source, chunksize=chunksize, **kwargs))
    report = results[0].report
    for result in results[1:]:
        report = report.merge(result.report)
    frame = pd.concat([r.frame for r in results], ignore_index=True)
    extra = pd.concat([r.extra_frame for r in results], ignore_index=True)
    errors = {k: v for r in results for k, v in r.row_errors.items()}
    return frame, extra, report, errors


# --- UCI -----------------------------------------------------------------------------------


def test_uci_quoted_header_scientific_notation_and_codes(card_default, uci_csv_bytes):
    result = load_raw(card_default, io.BytesIO(uci_csv_bytes), require_target=True)
    frame = result.frame
    assert result.has_target
    assert list(frame["row_number"]) == [1, 2, 3, 4, 5]
    assert frame.loc[1, "limit_bal"] == 500000
    assert frame.loc[1, "pay_amt1"] == 100000
    assert frame.loc[1, "bill_amt1"] == -1500
    assert list(frame["education"]) == [
        "university",
        "unknown",
        "graduate_school",
        "unknown",
        "unknown",
    ]
    assert list(frame["marriage"]) == ["married", "other", "single", "other", "married"]
    assert list(frame["default_payment_next_month"]) == [
        "default",
        "no_default",
        "no_default",
        "no_default",
        "default",
    ]
    coerced = result.report.coerced
    assert coerced["limit_bal"] == {"read scientific notation (e.g. 5e+05)": 1}
    assert coerced["education"] == {
        "undocumented code '5' read as 'unknown'": 1,
        "undocumented code '6' read as 'unknown'": 1,
        "undocumented code '0' read as 'unknown'": 1,
    }
    assert coerced["marriage"] == {"undocumented code '0' read as 'other'": 1}
    assert result.report.ignored_columns == ["ID"]
    assert list(result.extra_frame["ID"]) == ["1", "2", "3", "4", "5"]


def test_cleaned_dtypes(card_default, german_credit, credit_score):
    uci = load_raw(card_default, UCI_CSV.encode()).frame
    assert uci["limit_bal"].dtype == "float64"
    assert uci["education"].dtype == object
    assert uci[ROW_NUMBER].dtype == "int64"
    german = load_raw(german_credit, GERMAN_CSV.encode()).frame
    assert german["own_telephone"].dtype == "boolean"
    score = load_raw(credit_score, CREDIT_SCORE_CSV.encode()).frame
    assert score["type_of_loan"].dtype == object
    assert score["credit_history_age"].dtype == "float64"


def test_split_xy_drops_protected_fields_and_groups_by_row(card_default, uci_csv_bytes):
    frame = load_raw(card_default, uci_csv_bytes).frame
    X, y, groups = split_xy(card_default, frame)
    assert list(X.columns) == list(card_default.model_field_names)
    assert "sex" not in X and "marriage" not in X
    assert list(y) == list(frame["default_payment_next_month"])
    assert list(groups) == [1, 2, 3, 4, 5]


# --- German --------------------------------------------------------------------------------


def test_german_arff_quotes_are_stripped(german_credit, german_csv_bytes):
    result = load_raw(german_credit, io.BytesIO(german_csv_bytes), require_target=True)
    frame = result.frame
    assert list(frame["checking_status"]) == ["<0", "0<=X<200", "no checking"]
    assert list(frame["employment"]) == [">=7", "1<=X<4", "4<=X<7"]
    assert list(frame["class"]) == ["good", "bad", "good"]
    assert list(frame["own_telephone"]) == [True, False, False]
    assert list(frame["foreign_worker"]) == [True, True, False]
    assert result.report.coerced == {}
    assert result.row_errors == {}


def test_german_with_double_quotes_and_snake_case_header(german_credit):
    text = GERMAN_CSV.replace("'", '"')
    frame = load_raw(german_credit, text.encode(), require_target=True).frame
    assert list(frame["savings_status"]) == ["no known savings", "<100", "<100"]


# --- credit_score --------------------------------------------------------------------------


def test_credit_score_quirks_are_parsed_and_reported(credit_score, credit_score_csv_bytes):
    result = load_raw(
        credit_score, credit_score_csv_bytes, require_target=True, repair_groups=False
    )
    frame, coerced = result.frame, result.report.coerced
    assert frame.loc[1, "annual_income"] == 52312.68
    assert coerced["annual_income"]["stripped underscores"] == 1
    assert np.isnan(frame.loc[1, "age"])  # -500
    assert coerced["age"]["out of range (must be between 14 and 100 years), set missing"] == 1
    assert frame.loc[2, "age"] == 30  # 30_
    assert pd.isna(frame.loc[1, "occupation"])
    assert coerced["occupation"] == {"placeholder '_______' read as missing": 1}
    assert coerced["payment_of_min_amount"] == {"placeholder 'NM' read as missing": 1}
    assert coerced["payment_behaviour"] == {"placeholder '!@9#%8' read as missing": 1}
    assert coerced["amount_invested_monthly"] == {"placeholder '__10000__' read as missing": 1}
    assert pd.isna(frame.loc[2, "monthly_balance"])
    assert pd.isna(frame.loc[0, "credit_mix"]) and pd.isna(frame.loc[1, "changed_credit_limit"])
    assert frame.loc[0, "credit_history_age"] == 22 * 12 + 1
    assert frame.loc[0, "type_of_loan"] == "Auto Loan, Credit-Builder Loan, Personal Loan"
    assert split_multi(frame.loc[0, "type_of_loan"]) == [
        "Auto Loan",
        "Credit-Builder Loan",
        "Personal Loan",
    ]
    assert frame.loc[5, "type_of_loan"] == ""  # blank = no loan
    assert frame.loc[[0, 4], "payment_of_min_amount"].tolist() == [False, True]
    for name in ("num_credit_card", "interest_rate", "num_credit_inquiries"):
        assert frame[name].isna().sum() == 1, name
    # 967 loans is out of range; the row lists three loan types.
    assert frame.loc[2, "num_of_loan"] == 3
    assert result.report.repaired == {
        "num_of_loan": {"set to the number of items of type_of_loan": 1}
    }
    assert list(frame["customer_id"]) == ["CUS_0xa1"] * 4 + ["CUS_0xb2"] * 2
    assert set(result.report.ignored_columns) == {"ID", "Month", "Name", "SSN"}
    # Implausible values are read, then set missing and flagged: no row is an error.
    assert result.row_errors == {}
    assert result.row_flags[2] == [
        {"field": "age", "rule": "out_of_range", "value": "-500"},
        {"field": "num_credit_card", "rule": "out_of_range", "value": "1385"},
    ]
    assert {"field": "interest_rate", "rule": "out_of_range", "value": "5318"} in (
        result.row_flags[3]
    )
    assert result.report.rows_with_flags == 2 and result.report.rows_with_errors == 0


def test_credit_score_repair_from_the_customers_other_months(credit_score, credit_score_csv_bytes):
    result = load_raw(credit_score, credit_score_csv_bytes, require_target=True)
    first = result.frame[result.frame["customer_id"] == "CUS_0xa1"]
    assert list(first["age"]) == [30, 30, 30, 30]
    assert list(first["occupation"]) == ["Engineer"] * 4
    assert list(first["annual_income"]) == [52312.68] * 4
    assert list(first["num_credit_card"]) == [4] * 4
    assert list(first["interest_rate"]) == [12] * 4
    assert list(first["total_emi_per_month"]) == [49.57] * 4  # the 15015.0 spike
    assert list(first["credit_history_age"]) == [265, 266, 267, 268]
    assert list(first["payment_of_min_amount"]) == [False] * 4
    assert list(first["num_of_delayed_payment"]) == [7, 7, 7, 8]
    repaired = result.report.repaired
    assert repaired["age"] == {"filled from the customer's other months": 1}
    assert repaired["total_emi_per_month"] == {
        "replaced by the value of most of the customer's months": 1
    }
    # Values that vary month to month are never invented.
    assert pd.isna(first.iloc[2]["monthly_balance"])
    assert pd.isna(first.iloc[1]["payment_behaviour"])


def test_repair_leaves_the_other_customer_untouched(credit_score, credit_score_csv_bytes):
    frame = load_raw(credit_score, credit_score_csv_bytes).frame
    second = frame[frame["customer_id"] == "CUS_0xb2"]
    assert list(second["num_of_loan"]) == [1, 0]
    assert list(second["credit_history_age"]) == [127, 128]


def test_snake_case_headers_are_accepted(credit_score, credit_score_csv_bytes):
    original = load_raw(credit_score, credit_score_csv_bytes).frame
    header, rows = CREDIT_SCORE_CSV.split("\n", 1)
    snake = ",".join(name.lower() for name in header.split(",")) + "\n" + rows
    result = load_raw(credit_score, snake.encode())
    pd.testing.assert_frame_equal(result.frame, original)
    assert result.report.renamed_columns == {}


# --- columns and files ---------------------------------------------------------------------


def test_missing_required_columns_are_named(card_default):
    text = UCI_CSV.replace('"LIMIT_BAL"', '"CREDIT"').replace('"AGE"', '"YEARS"')
    with pytest.raises(
        CleaningError, match=r"lacks required columns.*LIMIT_BAL \(limit_bal\), AGE"
    ):
        load_raw(card_default, text.encode())


def test_missing_target_is_an_error_only_for_training(card_default):
    lines = UCI_CSV.splitlines()
    without_target = "\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n"
    result = load_raw(card_default, without_target.encode())
    assert not result.has_target
    assert "default_payment_next_month" not in result.frame
    with pytest.raises(CleaningError, match=r"default\.payment\.next\.month"):
        load_raw(card_default, without_target.encode(), require_target=True)


def test_optional_columns_may_be_missing(credit_score):
    frame = pd.read_csv(io.StringIO(CREDIT_SCORE_CSV), dtype=str, keep_default_na=False)
    result = clean_frame(credit_score, frame.drop(columns=["Monthly_Balance", "Customer_ID"]))
    assert "monthly_balance" in result.report.missing_columns
    assert "customer_id" in result.report.missing_columns
    assert result.frame["monthly_balance"].isna().all()
    assert list(result.frame["customer_id"]) == [f"row-{n}" for n in range(1, 7)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b'{"LIMIT_BAL": 20000}', "lacks required columns"),
    ],
)
def test_unusable_files_raise_cleaning_error(card_default, content, message):
    with pytest.raises(CleaningError, match=message):
        load_raw(card_default, io.BytesIO(content))


def test_missing_path_raises_cleaning_error(card_default, tmp_path):
    with pytest.raises(CleaningError, match="No such file"):
        load_raw(card_default, tmp_path / "absent.csv")


def test_rows_with_bad_target_are_dropped_with_reasons(card_default):
    lines = UCI_CSV.splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0] + ",7"
    lines[3] = lines[3].rsplit(",", 1)[0] + ","
    lines.append(",".join([""] * 25))
    result = load_raw(card_default, ("\n".join(lines) + "\n").encode(), require_target=True)
    report = result.report
    assert report.rows_read == 6 and report.rows_kept == 3 and report.rows_dropped == 3
    assert report.dropped_reasons == {
        "empty row": 1,
        "target missing": 1,
        "target not one of no_default, default": 1,
    }
    assert report.dropped_examples["target missing"] == [3]
    assert list(result.frame["row_number"]) == [1, 4, 5]
    assert list(result.extra_frame["ID"]) == ["1", "4", "5"]


def test_bad_values_are_missing_in_training_and_row_errors_for_scoring(card_default):
    text = UCI_CSV.replace("\n1,20000,2,2,1,24,", "\n1,abc,2,2,1,24.5,")
    result = load_raw(card_default, text.encode(), require_target=True)
    assert result.report.rows_kept == 5
    assert result.row_errors == {
        1: {"limit_bal": ["Enter a whole number."], "age": ["Enter a whole number."]}
    }
    assert result.report.coerced["age"] == {"not a whole number, set missing": 1}
    assert list(result.valid_frame["row_number"]) == [2, 3, 4, 5]


def test_extra_columns_are_reported_and_carried(card_default):
    lines = UCI_CSV.splitlines()
    lines = [lines[0] + ',"branch"'] + [line + f",B{n}" for n, line in enumerate(lines[1:])]
    result = load_raw(card_default, ("\n".join(lines) + "\n").encode())
    assert result.report.extra_columns == ["branch"]
    assert list(result.extra_frame.columns) == ["ID", "branch"]
    assert list(result.extra_frame["branch"]) == ["B0", "B1", "B2", "B3", "B4"]


def test_text_and_binary_file_objects(card_default, uci_csv_bytes):
    from_bytes = load_raw(card_default, io.BytesIO(uci_csv_bytes)).frame
    from_text = load_raw(card_default, io.StringIO(UCI_CSV)).frame
    with_bom = load_raw(card_default, b"\xef\xbb\xbf" + uci_csv_bytes).frame
    pd.testing.assert_frame_equal(from_bytes, from_text)
    pd.testing.assert_frame_equal(from_bytes, with_bom)


def test_report_is_json_able(credit_score, credit_score_csv_bytes):
    report = load_raw(credit_score, credit_score_csv_bytes, require_target=True).report
    data = json.loads(json.dumps(report.to_dict()))
    assert data["rows_read"] == 6 and data["rows_dropped"] == 0
    assert data["coerced"]["age"]["stripped underscores"] == 1
    assert report.summary_lines()[0].startswith("credit_score: read 6 rows, kept 6")


# --- chunks --------------------------------------------------------------------------------


@pytest.mark.parametrize("chunksize", [1, 2, 4])
def test_chunked_cleaning_equals_whole_file_cleaning(credit_score, chunksize):
    whole = load_raw(credit_score, CREDIT_SCORE_CSV.encode(), repair_groups=False)
    frame, extra, report, errors = merged_chunks(credit_score, CREDIT_SCORE_CSV.encode(), chunksize)
    pd.testing.assert_frame_equal(frame, whole.frame)
    pd.testing.assert_frame_equal(extra, whole.extra_frame)
    assert errors == whole.row_errors
    assert report.to_dict() == whole.report.to_dict()


def test_read_csv_in_chunks_keeps_the_header(card_default):
    chunks = list(read_csv(UCI_CSV.encode(), chunksize=2))
    assert [len(chunk) for chunk in chunks] == [2, 2, 1]
    assert all(chunk.columns[1] == "LIMIT_BAL" for chunk in chunks)


def test_merge_caps_examples():
    first, second = CleaningReport("x"), CleaningReport("x")
    first.drop("target missing", pd.Series(range(1, 5)))
    second.drop("target missing", pd.Series(range(10, 15)))
    merged = first.merge(second)
    assert merged.dropped_reasons == {"target missing": 9}
    assert merged.dropped_examples["target missing"] == [1, 2, 3, 4, 10]


# --- the real extracts (skipped when ../shared/data is absent) ------------------------------


def test_real_uci_file(card_default):
    result = load_raw(card_default, real_data_path("card_default"), require_target=True)
    report = result.report
    assert report.rows_read == report.rows_kept == 24_033
    assert result.frame["default_payment_next_month"].value_counts().to_dict() == {
        "no_default": 18_692,
        "default": 5_341,
    }
    assert report.coerced["limit_bal"] == {"read scientific notation (e.g. 5e+05)": 3_331}
    assert report.coerced["education"] == {
        "undocumented code '0' read as 'unknown'": 11,
        "undocumented code '5' read as 'unknown'": 219,
        "undocumented code '6' read as 'unknown'": 44,
    }
    assert report.coerced["marriage"] == {"undocumented code '0' read as 'other'": 42}
    assert result.row_errors == {}
    assert result.frame["bill_amt6"].min() == -339_603
    assert (result.frame[[f"bill_amt{n}" for n in range(1, 7)]] < 0).any(axis=1).sum() == 1_571
    assert (result.frame["pay_0"] == 0).sum() == 11_857


def test_real_uci_file_in_chunks_equals_whole(card_default):
    path = real_data_path("card_default")
    whole = load_raw(card_default, path, require_target=True)
    frame, _, report, _ = merged_chunks(card_default, path, 5_000, require_target=True)
    pd.testing.assert_frame_equal(frame, whole.frame)
    assert report.to_dict() == whole.report.to_dict()


def test_real_german_file(german_credit):
    result = load_raw(german_credit, real_data_path("german_credit"), require_target=True)
    assert result.report.rows_kept == 800
    assert result.frame["class"].value_counts().to_dict() == {"good": 565, "bad": 235}
    assert result.row_errors == {} and result.report.coerced == {}
    assert result.frame["foreign_worker"].sum() == 769
    assert (result.frame["other_parties"] == "none").sum() == 722
    assert result.frame["duration"].between(4, 60).all()


def test_real_credit_score_snapshot(credit_score):
    result = load_raw(credit_score, real_data_path("credit_score"), require_target=True)
    frame, report = result.frame, result.report
    assert report.rows_kept == 10_017
    assert frame["customer_id"].nunique() == 10_017
    assert frame["credit_score"].value_counts().to_dict() == {
        "Standard": 5_178,
        "Poor": 2_907,
        "Good": 1_932,
    }
    assert report.coerced["type_of_loan"] == {"blank read as none": 1_151}
    # One row per customer: no per-customer repair, only the count of listed loan types.
    assert report.repaired == {"num_of_loan": {"set to the number of items of type_of_loan": 467}}
    assert frame["num_of_loan"].notna().all()
    assert frame["age"].dropna().between(14, 100).all()
    assert frame["num_bank_accounts"].dropna().max() <= 20


def test_real_credit_score_train_file_is_repaired_per_customer(credit_score):
    path = real_data_path("credit_score", "credit_score_classification/train.csv")
    result = load_raw(credit_score, path, require_target=True)
    frame, report = result.frame, result.report
    assert report.rows_kept == 784
    assert frame["customer_id"].nunique() == 98
    assert frame["credit_score"].value_counts().to_dict() == {
        "Standard": 407,
        "Poor": 199,
        "Good": 178,
    }
    coerced = report.coerced
    assert coerced["occupation"] == {"placeholder '_______' read as missing": 68}
    assert coerced["credit_mix"] == {"placeholder '_' read as missing": 158}
    assert coerced["changed_credit_limit"] == {"placeholder '_' read as missing": 17}
    assert coerced["payment_behaviour"] == {"placeholder '!@9#%8' read as missing": 61}
    assert coerced["amount_invested_monthly"] == {"placeholder '__10000__' read as missing": 35}
    assert coerced["payment_of_min_amount"] == {"placeholder 'NM' read as missing": 84}
    # 55 incomes carry a trailing "_"; two of them (6515990.0_, 8908998.0_) are also absurd.
    assert coerced["annual_income"]["stripped underscores"] == 53
    assert (
        coerced["annual_income"]["out of range (must be between 0 and 1000000), set missing"] == 11
    )
    assert coerced["type_of_loan"] == {"blank read as none": 128}
    for name in ("age", "occupation", "annual_income", "num_bank_accounts", "num_credit_card"):
        assert frame[name].notna().all(), name
    assert frame.groupby("customer_id")["occupation"].nunique().max() == 1
    first = frame[frame["customer_id"] == "CUS_0xd40"]
    assert list(first["age"]) == [23] * 8
    assert list(first["credit_history_age"]) == list(range(265, 273))
    assert first["credit_mix"].tolist() == ["Good"] * 8


def test_a_row_with_too_many_fields_is_a_cleaning_error_for_a_whole_file(card_default):
    broken = UCI_CSV + "6,20000,2,2,1,24,2,2,-1,-1,-2,-2,3913,3102,689,0,0,0,0,689,0,0,0,0,1,9,9\n"
    with pytest.raises(CleaningError, match="not a readable CSV"):
        load_raw(card_default, broken.encode())


def test_chunks_report_rows_with_a_wrong_number_of_values_and_go_on(card_default):
    lines = UCI_CSV.strip().splitlines()
    header, rows = lines[0], lines[1:]
    width = len(header.split(","))
    content = "\n".join(
        [header, rows[0], rows[1] + ",9,9", "", rows[2], rows[3].rsplit(",", 1)[0], *rows[4:]]
    )
    chunks = list(read_csv_chunks(content.encode(), rows=2))
    # Blank lines are not rows; a chunk spans its malformed rows too.
    assert [(c.first_row, c.last_row) for c in chunks] == [(1, 2), (3, 4), (5, len(rows))]
    assert chunks[0].malformed == {2: f"{width + 2} values where the header has {width} columns."}
    assert chunks[1].malformed == {4: f"{width - 1} values where the header has {width} columns."}
    assert chunks[0].row_numbers.tolist() == [1] and chunks[1].row_numbers.tolist() == [3]
    assert chunks[1].frame.iloc[0].tolist() == rows[2].split(",")
    assert count_csv_rows(content.encode()) == len(rows)

    results = list(iter_clean_chunks(card_default, content.encode(), chunksize=2))
    errors = {n: e for result in results for n, e in result.row_errors.items()}
    assert errors[2] == {"__all__": [f"Not read: {chunks[0].malformed[2]}"]}
    assert 4 in errors
    kept = [n for result in results for n in result.frame["row_number"]]
    assert kept == [1, 3, *range(5, len(rows) + 1)]
    report = functools.reduce(CleaningReport.merge, [result.report for result in results])
    assert report.rows_read == len(rows)
    assert report.dropped_reasons["wrong number of values"] == 2


@pytest.mark.parametrize("content", [UCI_CSV, GERMAN_CSV, CREDIT_SCORE_CSV])
def test_read_csv_chunks_reads_what_read_csv_reads(content):
    """The public layouts, double- and single-quoted: same columns, same text values."""
    chunks = list(read_csv_chunks(content.encode(), rows=2))
    assert not any(chunk.malformed for chunk in chunks)
    frame = pd.concat([chunk.frame for chunk in chunks], ignore_index=True)
    pd.testing.assert_frame_equal(frame, read_csv(content.encode()))
    assert count_csv_rows(content.encode()) == len(frame)


def test_read_csv_chunks_makes_repeated_column_names_unique_as_pandas_does():
    chunk = next(read_csv_chunks(b"a,b,a,a\n1,2,3,4\n", rows=10))
    assert list(chunk.frame.columns) == ["a", "b", "a.1", "a.2"]
    assert list(pd.read_csv(io.BytesIO(b"a,b,a,a\n1,2,3,4\n")).columns) == ["a", "b", "a.1", "a.2"]


def test_read_csv_chunks_names_the_line_of_a_value_over_the_csv_modules_limit():
    content = b"a,b\n1,2\n3,4\n" + b"5," + b"x" * 200_000 + b"\n"  # over csv's field limit
    with pytest.raises(CleaningError, match="Line 4 has a value longer than 100,000"):
        list(read_csv_chunks(content, rows=10))


def test_protected_frame_holds_protected_fields_and_age(card_default, credit_score):
    frame = load_raw(card_default, UCI_CSV.encode()).frame
    assert list(protected_frame(card_default, frame).columns) == ["sex", "marriage", "age"]
    score = load_raw(credit_score, CREDIT_SCORE_CSV.encode()).frame
    assert list(protected_frame(credit_score, score).columns) == ["age"]


# --- one reading rule: encodings, NUL characters, the longest value, chunk size ---------------


@pytest.mark.parametrize(
    ("codec", "name"),
    [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8"), ("utf-16", "UTF-16"), ("utf-16-be", None)],
)
def test_encodings_are_detected_by_their_byte_order_mark(codec, name):
    text = "id,name\n1,Zoë\n2,Ærø\n"
    content = text.encode(codec)
    if codec == "utf-16-be":  # with its BOM written by hand
        content = codecs.BOM_UTF16_BE + content
        name = "UTF-16"
    assert csv_text_check(content) == name
    chunk = next(read_csv_chunks(content, rows=10))
    assert list(chunk.frame.columns) == ["id", "name"]
    assert chunk.frame["name"].tolist() == ["Zoë", "Ærø"]
    assert read_csv(content)["name"].tolist() == ["Zoë", "Ærø"]  # training's reader too


def test_latin1_is_refused_by_name_never_replaced():
    content = "id,name\n1,Zoe\n2,Zoë\n".encode("latin-1")
    for read in (csv_text_check, read_csv, lambda c: list(read_csv_chunks(c, rows=10))):
        with pytest.raises(CleaningError, match=r"line 3 has the byte 0xEB \('ë' in Windows"):
            read(content)


def test_a_nul_anywhere_is_refused_with_its_line_by_both_readers():
    content = b"id,name\n" + b"1,a\n" * 50_000 + b"2,b\x00c\n" + b"3,d\n"
    assert content.index(b"\x00") > 65_536
    for read in (read_csv, lambda c: list(read_csv_chunks(c, rows=10_000)), count_csv_rows):
        with pytest.raises(CleaningError, match="Line 50,002 contains a NUL character"):
            read(content)


def test_utf16_without_a_bom_is_named():
    with pytest.raises(CleaningError, match="UTF-16 without a byte-order mark"):
        csv_text_check("id,name\n1,a\n".encode("utf-16-le"))


def test_training_and_bulk_readers_refuse_the_same_value_by_one_rule():
    def with_value(length):
        return b"id,note\n1,a\n2," + b"v" * length + b"\n3,c\n"

    message = "Row 2, column 'note': the value is 100,001 characters long; the limit is 100,000."
    for read in (read_csv, lambda c: list(read_csv_chunks(c, rows=10)), count_csv_rows):
        with pytest.raises(CleaningError, match=re.escape(message)):
            read(with_value(MAX_FIELD_CHARS + 1))
        read(with_value(MAX_FIELD_CHARS))  # at the limit: read by both


def test_chunks_end_at_their_size_as_well_as_their_rows():
    row = "1," + "x" * 998 + "\n"  # 1,000 characters
    content = ("id,note\n" + row * 1_000).encode()
    chunks = list(read_csv_chunks(content, rows=10_000, max_bytes=100_000))
    sizes = [chunk.last_row - chunk.first_row + 1 for chunk in chunks]
    assert len(chunks) >= 10 and max(sizes) <= 100 + 9  # 100 kB, exact to one 8 kB block
    assert chunks[-1].last_row == 1_000
    ordinary = list(read_csv_chunks(content, rows=300, max_bytes=10**9))
    assert len(ordinary) == 4  # rows bound first when the size bound is far


# --- implausible values: set missing and flagged, unless the field refuses them ---------------

DIRTY_GERMAN = {
    "duration": ("720", "out_of_range"),  # 60 years
    "purpose": ("spaceship", "unknown_choice"),
    "own_telephone": ("maybe", "unknown_choice"),  # a yes/no field
}
UNREADABLE_GERMAN = {"credit_amount": "12k", "age": "٣٥", "installment_commitment": "inf"}


def german_rows(cells: dict[str, str]) -> pd.DataFrame:
    frame = read_csv(io.BytesIO(GERMAN_CSV.encode())).iloc[:1].copy()
    for name, value in cells.items():
        frame.loc[0, name] = value
    return frame


def test_an_implausible_value_is_flagged_and_an_unreadable_one_is_an_error(german_credit):
    cells = {name: value for name, (value, _) in DIRTY_GERMAN.items()}
    result = clean_frame(german_credit, german_rows({**cells, **UNREADABLE_GERMAN}))
    assert result.row_flags == {
        1: [
            {"field": name, "rule": rule, "value": value}
            for name, (value, rule) in DIRTY_GERMAN.items()
        ]
    }
    assert set(result.row_errors[1]) == set(UNREADABLE_GERMAN)
    assert result.frame.loc[0, list(DIRTY_GERMAN)].isna().all()
    assert (result.report.rows_with_flags, result.report.rows_with_errors) == (1, 1)


def test_a_required_field_with_an_implausible_value_is_scored_not_refused(german_credit):
    """The value was given (and is flagged): not the "required" error of a blank cell."""
    assert german_credit.field("duration").required
    result = clean_frame(german_credit, german_rows({"duration": "720"}))
    assert result.row_errors == {}
    assert len(result.valid_frame) == 1
    blank = clean_frame(german_credit, german_rows({"duration": ""}))
    assert blank.row_errors == {1: {"duration": ["This field is required."]}}


def test_a_field_declared_refuse_keeps_the_row_an_error(german_credit):
    fields = tuple(
        dataclasses.replace(f, on_invalid="refuse") if f.name == "purpose" else f
        for f in german_credit.fields
    )
    refusing = dataclasses.replace(german_credit, fields=fields)
    result = clean_frame(refusing, german_rows({"purpose": "spaceship", "duration": "720"}))
    assert list(result.row_errors[1]) == ["purpose"]
    assert "(got 'spaceship')" in result.row_errors[1]["purpose"][0]
    assert result.row_flags == {1: [{"field": "duration", "rule": "out_of_range", "value": "720"}]}
    assert result.valid_frame.empty


def test_a_flag_echoes_at_most_40_characters(german_credit):
    long_value = "a purpose nobody has declared, written at length by hand"
    result = clean_frame(german_credit, german_rows({"purpose": long_value}))
    value = result.row_flags[1][0]["value"]
    assert len(value) == 40 and value.endswith("…") and long_value.startswith(value[:-1])


def test_on_invalid_takes_only_missing_or_refuse(german_credit):
    with pytest.raises(ValueError, match="on_invalid must be one of missing, refuse"):
        dataclasses.replace(german_credit.field("duration"), on_invalid="ignore")


def test_flags_merge_over_chunks(german_credit):
    dirty = GERMAN_CSV.replace(",12,", ",720,")  # a duration of 60 years, where there is one
    assert dirty != GERMAN_CSV
    chunks = list(iter_clean_chunks(german_credit, dirty.encode(), chunksize=1))
    report = functools.reduce(lambda a, b: a.merge(b), (c.report for c in chunks))
    flagged = [n for chunk in chunks for n in chunk.row_flags]
    assert report.rows_with_flags == len(flagged) >= 1
