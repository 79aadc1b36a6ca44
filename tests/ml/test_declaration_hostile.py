"""Any value anywhere in a declaration is a DeclarationError naming its place, never a crash:
each position of a shipped document replaced in turn by values of every JSON type."""

import copy

import pytest

from ml.declaration import DeclarationError, load_declaration
from ml.scorecards import SHIPPED

HOSTILE = ([], {}, [[]], [{"a": 1}], {"a": []}, None, True, -1, 1e308, "", "x" * 3000)


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            yield from _paths(item, (*path, index))


def _replaced(document, path, value):
    copied = copy.deepcopy(document)
    target = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copied


@pytest.mark.parametrize("key", sorted(SHIPPED))
def test_every_position_takes_any_value_without_crashing(key):
    document = SHIPPED[key].to_document()
    checked = 0
    for path in _paths(document):
        if not path:
            continue
        for value in HOSTILE:
            try:
                load_declaration(_replaced(document, path, value))
            except DeclarationError as error:
                assert error.errors and all(isinstance(e, str) for e in error.errors)
            checked += 1
    assert checked > 500


def test_a_source_may_not_be_the_name_of_another_field():
    document = SHIPPED["german_credit"].to_document()
    fields = {f["name"]: f for f in document["fields"]}
    fields["duration"]["source"] = "credit_amount"
    fields["credit_amount"]["source"] = "duration"

    with pytest.raises(DeclarationError) as raised:
        load_declaration(document)

    assert any("is the name of another field" in error for error in raised.value.errors)
