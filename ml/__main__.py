"""Command line: ``python -m ml train ...`` and ``python -m ml score ...``.

``train`` cleans a raw public CSV, trains and evaluates a scorecard, and writes the model
artifact (model.joblib, manifest.json) plus report.json into --out.

``score`` scores a CSV in chunks with a saved model. It trusts the sha256 recorded in
the manifest of --model, because the operator wrote that directory on this machine; the
web app never does this: it loads a model only with the sha256 stored in its database.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ml.artifacts import load_model, read_manifest, save_model
from ml.cleaning import iter_clean_chunks, load_raw
from ml.evaluate import comparison_table
from ml.exports import safe_csv_rows, safe_csv_text
from ml.flags import flags_cell
from ml.scorecards import SCORECARDS, get_scorecard
from ml.train import train_scorecard

ROW_NUMBER = "row_number"


def _print_progress(stage: str, fraction: float, message: str) -> None:
    print(f"  [{fraction:5.0%}] {stage}: {message}", flush=True)


def train_command(args: argparse.Namespace) -> int:
    scorecard = get_scorecard(args.scorecard)
    cleaned = load_raw(scorecard, args.data)
    print("Cleaning report")
    for line in cleaned.report.summary_lines():
        print(f"  {line}")
    from ml.artifacts import file_sha256

    result = train_scorecard(
        scorecard,
        cleaned.frame,
        search=not args.no_search,
        random_state=args.seed,
        progress=_print_progress,
        data_sha256=file_sha256(args.data),
    )
    out = Path(args.out)
    manifest = save_model(result.model, out)
    report = {**result.report, "cleaning": cleaned.report.to_dict()}
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    quality = result.report["quality"]
    print(f"\nEvaluation on the test split ({result.report['rows']['test']} rows)\n")
    print(comparison_table(quality))
    print("\nQuality bars")
    for bar, check in quality["bars"].items():
        print(
            f"  {bar}: {check['value']} (limit {check['limit']}) "
            f"{'met' if check['met'] else 'MISSED'}"
        )
    print(f"\nHyperparameters: {json.dumps(result.report['hyperparameters'])}")
    print(f"Model written to {out} (sha256 {manifest.model_sha256})")
    return 0


def score_command(args: argparse.Namespace) -> int:
    manifest = read_manifest(args.model)
    # Trusting the local manifest's hash is fine only for a directory the operator wrote.
    model = load_model(args.model, expected_sha256=manifest.model_sha256)
    output = Path(args.output)
    errors_path = output.with_name(output.stem + ".errors.csv")
    scored = invalid = 0
    started = time.monotonic()
    with open(output, "w", newline="") as out, open(errors_path, "w", newline="") as errors_out:
        errors_out.write(safe_csv_rows([["row_number", "field", "message"]]))
        for chunk in iter_clean_chunks(model.scorecard, args.input, chunksize=args.chunksize):
            valid = chunk.valid_frame
            errors_out.write(
                safe_csv_rows(
                    [row_number, field_name, " ".join(messages)]
                    for row_number, fields in chunk.row_errors.items()
                    for field_name, messages in fields.items()
                )
            )
            invalid += len(chunk.row_errors)
            if valid.empty:
                continue
            predictions = model.predict_frame(valid)
            inputs = valid.loc[:, [ROW_NUMBER, *model.scorecard.field_names]]
            table = inputs.join(predictions)
            table["flags"] = [
                flags_cell(chunk.row_flags.get(row_number, []))
                for row_number in valid[ROW_NUMBER].tolist()
            ]
            out.write(safe_csv_text(table, header=scored == 0))
            scored += len(valid)
            print(f"  scored {scored} rows ({invalid} invalid)", flush=True)
    seconds = time.monotonic() - started
    print(
        f"Scored {scored} rows in {seconds:.1f}s into {output}; "
        f"{invalid} invalid rows in {errors_path}"
    )
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m ml", description=__doc__.splitlines()[0])
    commands = main.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="clean, train, evaluate and save a scorecard model")
    train.add_argument("--scorecard", required=True, choices=sorted(SCORECARDS))
    train.add_argument("--data", required=True, help="raw CSV in the public layout")
    train.add_argument("--out", required=True, help="directory for model.joblib and manifest.json")
    train.add_argument("--no-search", action="store_true", help="use the fixed hyperparameters")
    train.add_argument("--seed", type=int, default=42)
    train.set_defaults(handler=train_command)
    score = commands.add_parser("score", help="score a CSV with a saved model")
    score.add_argument("--model", required=True, help="directory written by `train`")
    score.add_argument("--input", required=True)
    score.add_argument("--output", required=True)
    score.add_argument("--chunksize", type=int, default=50_000)
    score.set_defaults(handler=score_command)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
