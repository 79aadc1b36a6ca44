import json

import pandas as pd

from ml.__main__ import main
from tests.ml.modelkit import make_frame


def test_train_then_score_from_the_command_line(tmp_path, capsys):
    frame = make_frame("german_credit", 240, seed=1)
    data = tmp_path / "german.csv"
    frame.drop(columns=["row_number"]).to_csv(data, index=False)
    out = tmp_path / "model"
    assert (
        main(
            [
                "train",
                "--scorecard",
                "german_credit",
                "--data",
                str(data),
                "--out",
                str(out),
                "--no-search",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "Cleaning report" in printed
    assert "| metric | Random Forest | LR (L1) | LR (L2) |" in printed
    assert "ROC-AUC" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["cleaning"]["rows_read"] == 240

    complete = make_frame("german_credit", 25, seed=2, missing=0.0)
    to_score = complete.drop(columns=["row_number", "class"])
    to_score["duration"] = to_score["duration"].astype(object)
    to_score.loc[3, "duration"] = "forever"  # an invalid row is reported, not fatal
    to_score.loc[6, "duration"] = "720"  # 60 years: scored as missing and flagged
    inputs = tmp_path / "applicants.csv"
    to_score.to_csv(inputs, index=False)
    output = tmp_path / "scored.csv"
    assert (
        main(
            [
                "score",
                "--model",
                str(out),
                "--input",
                str(inputs),
                "--output",
                str(output),
                "--chunksize",
                "10",
            ]
        )
        == 0
    )
    scored = pd.read_csv(output)
    assert len(scored) == 24
    assert {"row_number", "points", "band", "recommendation", "reasons", "probability_bad"} <= set(
        scored.columns
    )
    assert 4 not in set(scored["row_number"])  # the file's 4th data row held the bad value
    flags = dict(zip(scored["row_number"], scored["flags"].fillna(""), strict=True))
    assert flags.pop(7) == "duration out of range: 720"
    assert set(flags.values()) == {""}
    errors = pd.read_csv(tmp_path / "scored.errors.csv")
    assert list(errors["field"]) == ["duration"]
