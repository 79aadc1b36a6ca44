"""The scorecard builder against a plain Random Forest, on a public file it was not written for.

The file is split 75 / 25 % (stratified, seed 7). The builder's path — profile, proposal
taken as it is, `train_scorecard` — learns from the 75 %; its model scores the 25 % it never
saw. Against it, the best of four plain forests (500 trees, min_samples_leaf 1 / 3 / 5 / 10,
one-hot encoding, every column but the outcome) on the same split. Prints the hold-out
ROC-AUC of the worst class. Not a test: it asserts nothing.

    .venv/bin/python bench/bench_builder.py [--search] [FILE OUTCOME_COLUMN]

Without a file: the German credit and UCI card files of CREDITPORTAL_DATA_DIR.
"""

import argparse
import io
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pandas as pd  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from ml.cleaning import load_raw  # noqa: E402
from ml.declaration import load_declaration  # noqa: E402
from ml.profiling import profile_csv, propose_declaration  # noqa: E402
from ml.train import train_scorecard  # noqa: E402

PUBLIC = (
    ("german_credit/german_credit.csv", "class"),
    ("uci_credit_card_default/UCI_Credit_Card.csv", "default.payment.next.month"),
)


def read(path: Path) -> pd.DataFrame:
    quote = "'" if path.read_text(encoding="utf-8")[:1] == "'" else '"'
    return pd.read_csv(path, quotechar=quote)


def compare(path: Path, outcome: str, search: bool) -> str:
    raw = read(path)
    train, hold = train_test_split(raw, test_size=0.25, random_state=7, stratify=raw[outcome])
    content = train.to_csv(index=False).encode()
    started = time.monotonic()
    scorecard = load_declaration(propose_declaration(profile_csv(io.BytesIO(content))))
    frame = load_raw(scorecard, io.BytesIO(content), require_target=True).frame
    model = train_scorecard(
        scorecard, frame, search=search, baselines=False, permutation=False
    ).model
    seconds = time.monotonic() - started
    held = load_raw(scorecard, io.BytesIO(hold.to_csv(index=False).encode()), require_target=True)
    worst = scorecard.classes[-1]
    predicted = model.predict_frame(held.frame, reasons=False)
    truth = (held.frame[scorecard.target] == worst).astype(int)
    builder = roc_auc_score(truth, predicted[f"probability_{worst}"].astype(float))

    features = pd.get_dummies(pd.concat([train, hold]).drop(columns=[outcome]), dummy_na=True)
    features = features.apply(pd.to_numeric, errors="coerce")
    features = features.fillna(features.median(numeric_only=True)).fillna(0)
    x_train, x_hold = features.iloc[: len(train)], features.iloc[len(train) :]

    def bad(column: pd.Series) -> pd.Series:
        return (column.map(scorecard.coerce_target) == worst).astype(int)

    best = 0.0
    for leaf in (1, 3, 5, 10):
        forest = RandomForestClassifier(
            n_estimators=500,
            min_samples_leaf=leaf,
            max_features="sqrt",
            class_weight="balanced_subsample",
            n_jobs=os.cpu_count(),
            random_state=0,
        )
        forest.fit(x_train, bad(train[outcome]))
        best = max(best, roc_auc_score(bad(hold[outcome]), forest.predict_proba(x_hold)[:, 1]))
    return (
        f"{path.name}: builder {builder:.4f} ({len(held.frame):,} hold-out rows, "
        f"{len(scorecard.model_fields)} inputs, {seconds:.0f} s{', search' if search else ''}); "
        f"best plain forest {best:.4f}; difference {builder - best:+.4f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search", action="store_true", help="the portal's default")
    parser.add_argument("file", nargs="?")
    parser.add_argument("outcome", nargs="?")
    args, _ = parser.parse_known_args()  # make bench passes every script the same flags
    if args.file:
        files = [(Path(args.file), args.outcome)]
    else:
        data = Path(os.environ.get("CREDITPORTAL_DATA_DIR", REPO.parent / "shared" / "data"))
        files = [(data / name, outcome) for name, outcome in PUBLIC if (data / name).exists()]
        if not files:
            print(f"No public file in {data}; give a FILE and its OUTCOME_COLUMN.")
            return 0
    for path, outcome in files:
        print(compare(path, outcome, args.search), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
