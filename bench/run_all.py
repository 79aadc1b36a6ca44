"""Run every benchmark in bench/ (files named bench_*.py), one process each, and print them.

    .venv/bin/python bench/run_all.py                      # this tree
    .venv/bin/python bench/run_all.py --baseline REF       # REF's tree and this one, in turn

With `--baseline`, the git revision REF is checked out into a temporary worktree and each
benchmark runs there and here one after the other (REF first), with this tree's virtual
environment and the same flags, so that both figures of a pair come from the same minutes of
the same machine. Extra arguments after `--` go to every script (`-- --rows 50000`).

Benchmarks measure speed and memory; they are not tests and assert nothing. Their figures go
in docs/benchmarks.md together with the machine they came from.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent


def data_dir() -> str:
    """This tree's data-directory setting, given to both trees (the baseline's worktree has no
    `../shared` beside it)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "creditportal.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")  # only its data-directory setting is read
    sys.path.insert(0, str(REPO))
    from django.conf import settings

    return str(settings.CREDITPORTAL_DATA_DIR)


def run(script_name: str, tree: Path, label: str, extra: list[str]) -> bool:
    script = tree / "bench" / script_name
    if not script.exists():
        print(f"\n=== {script_name} [{label}]: not in this tree ===", flush=True)
        return True
    print(f"\n=== {script_name} [{label}] ===", flush=True)
    env = {**os.environ, "CREDITPORTAL_DATA_DIR": data_dir()}
    return subprocess.call([sys.executable, str(script), *extra], cwd=tree, env=env) == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a git revision to measure beside this tree")
    parser.add_argument("--only", action="append", help="run only this script (repeatable)")
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    scripts = sorted(p.name for p in BENCH_DIR.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s in args.only or s.removesuffix(".py") in args.only]
    if not scripts:
        print("No benchmarks yet.")
        return 0
    baseline = None
    if args.baseline:
        baseline = Path(tempfile.mkdtemp(prefix="creditportal-baseline-")) / "main"
        subprocess.check_call(
            ["git", "worktree", "add", "--detach", str(baseline), args.baseline], cwd=REPO
        )
    failed = []
    try:
        for script in scripts:
            if baseline is not None and not run(script, baseline, args.baseline, extra):
                failed.append(f"{script} [{args.baseline}]")
            if not run(script, REPO, "this tree", extra):
                failed.append(script)
    finally:
        if baseline is not None:
            subprocess.call(["git", "worktree", "remove", "--force", str(baseline)], cwd=REPO)
            shutil.rmtree(baseline.parent, ignore_errors=True)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
