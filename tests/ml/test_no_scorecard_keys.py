"""No Python of the application names a shipped scorecard: scorecards are declarations
(data), so adding or removing one must never need a code change. Tests and benchmarks may
name them; the application's modules may not, in code, strings, docstrings or comments."""

import io
import re
import tokenize
from pathlib import Path

import pytest

from ml.scorecards import SHIPPED

ROOT = Path(__file__).resolve().parents[2]
APPLICATION = ("creditportal", "applicants", "scoring", "dashboard", "ml")
CHECKED_TOKENS = (tokenize.NAME, tokenize.STRING, tokenize.COMMENT)


def application_modules() -> list[Path]:
    return sorted(path for package in APPLICATION for path in (ROOT / package).rglob("*.py"))


def mentions(path: Path, keys: list[str]) -> list[str]:
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, keys)) + r")\b")
    found = []
    source = path.read_text(encoding="utf-8")
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in CHECKED_TOKENS or token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
            for match in pattern.finditer(token.string):
                found.append(f"{path.name}:{token.start[0]}: {match.group(0)}")
    return found


def test_the_shipped_scorecards_are_the_ones_this_test_guards():
    assert len(SHIPPED) == 3
    assert len(application_modules()) > 50


@pytest.mark.parametrize("package", APPLICATION)
def test_no_application_module_names_a_shipped_scorecard(package):
    keys = sorted(SHIPPED)
    found = [
        hit
        for path in application_modules()
        if path.relative_to(ROOT).parts[0] == package
        for hit in mentions(path, keys)
    ]
    assert found == []


def test_the_check_finds_a_key_in_code_strings_and_comments(tmp_path):
    key = sorted(SHIPPED)[0]
    module = tmp_path / "module.py"
    module.write_text(f'# see {key}\nNAME = "{key}"\n{key} = 1\nOTHER = "{key}_x"\n')
    hits = mentions(module, [key])
    assert [hit.split(":")[1] for hit in hits] == ["1", "2", "3"]
