"""Declarations stored as versioned data, and the lookup every part of the product uses."""

import copy

import pytest

from applicants import scorecards
from applicants.models import ScorecardDeclaration, ScorecardProduct
from ml.declaration import DeclarationError
from ml.scorecards import SCORECARDS, SHIPPED, get_scorecard


def _document(key="german_credit"):
    return copy.deepcopy(SHIPPED[key].to_document())


def _lender_document():
    document = _document()
    document["key"] = "lender_loan"
    document["label"] = "Lender loan"
    return document


def test_shipped_declarations_are_stored_once(db):
    stored = scorecards.ensure_shipped_declarations()

    assert sorted(d.key for d in stored) == sorted(SHIPPED)
    assert all(d.version == 1 and d.created_by is None for d in stored)
    assert scorecards.ensure_shipped_declarations() == []
    assert ScorecardProduct.objects.count() == len(SHIPPED)
    for key in SHIPPED:
        assert get_scorecard(key).to_document() == SHIPPED[key].to_document()


def test_a_new_scorecard_is_a_product_at_once_with_no_restart(db, manager):
    assert "lender_loan" not in SCORECARDS

    declaration = scorecards.declaration_store(document=_lender_document(), user=manager)

    assert (declaration.key, declaration.version) == ("lender_loan", 1)
    assert get_scorecard("lender_loan").label == "Lender loan"
    assert "lender_loan" in SCORECARDS
    # Offered to officers from its first production model on.
    assert "lender_loan" not in scorecards.offered_keys()
    scorecards.declaration_activate(declaration)
    assert "lender_loan" in scorecards.offered_keys()


def test_another_process_sees_a_new_scorecard_within_the_recheck_time(db, manager, monkeypatch):
    scorecards.ensure_shipped_declarations()
    assert scorecards.resolve("lender_loan") is None  # this process's view is now fresh
    # Stored by "another process": the rows, without this process being told.
    monkeypatch.setattr(scorecards, "forget", lambda: None)
    scorecards.declaration_store(document=_lender_document(), user=manager)
    assert scorecards.resolve("lender_loan") is None  # not looked at again yet

    monkeypatch.setattr(scorecards, "RECHECK_SECONDS", 0.0)
    assert scorecards.resolve("lender_loan").label == "Lender loan"


def test_an_invalid_declaration_stores_nothing_and_names_each_rule(db, manager):
    document = _lender_document()
    document["fields"][0]["kind"] = "colour"
    document["costs"]["matrix"] = [[0, -1], [5, 0]]

    with pytest.raises(DeclarationError) as raised:
        scorecards.declaration_store(document=document, user=manager)

    assert len(raised.value.errors) >= 2
    assert any("fields[0].kind" in error for error in raised.value.errors)
    assert any("costs" in error for error in raised.value.errors)
    assert not ScorecardDeclaration.objects.exists()
    assert not ScorecardProduct.objects.exists()


def test_editing_makes_a_new_version_and_never_changes_a_stored_one(db, manager):
    first = scorecards.declaration_store(document=_lender_document(), user=manager)
    same = scorecards.declaration_store(document=_lender_document(), user=manager)
    assert same.pk == first.pk

    reworded = _lender_document()
    reworded["fields"][0]["label"] = "Current account"
    second = scorecards.declaration_store(document=reworded, user=manager)

    assert second.version == 2
    first.refresh_from_db()
    assert first.document["fields"][0]["label"] != "Current account"
    with pytest.raises(ValueError, match="never changed"):
        first.save()
    # A wording change keeps the model's fields: the product uses it at once.
    assert ScorecardProduct.objects.get(key="lender_loan").declaration == second
    assert get_scorecard("lender_loan").fields[0].label == "Current account"


def test_a_declaration_that_changes_the_inputs_waits_for_its_model(db, manager):
    first = scorecards.declaration_store(document=_lender_document(), user=manager)
    fewer = _lender_document()
    fewer["fields"] = [f for f in fewer["fields"] if f["name"] != "job"]

    second = scorecards.declaration_store(document=fewer, user=manager)

    assert ScorecardProduct.objects.get(key="lender_loan").declaration == first
    assert "job" in get_scorecard("lender_loan").field_names
    trained_on, declaration = scorecards.scorecard_to_train("lender_loan")
    assert declaration == second and "job" not in trained_on.field_names

    scorecards.declaration_activate(second)
    assert "job" not in get_scorecard("lender_loan").field_names


def test_the_key_of_a_scorecard_cannot_change_on_edit(db, manager):
    scorecards.declaration_store(document=_lender_document(), user=manager)
    renamed = _lender_document()
    renamed["key"] = "other_key"
    with pytest.raises(DeclarationError, match="key"):
        scorecards.declaration_store(document=renamed, user=manager, key="lender_loan")


def test_a_change_of_ranges_or_spellings_waits_for_its_model(db, manager):
    first = scorecards.declaration_store(document=_lender_document(), user=manager)
    ranged = _lender_document()
    duration = next(f for f in ranged["fields"] if f["name"] == "duration")
    duration["max"] = 60
    second = scorecards.declaration_store(document=ranged, user=manager)

    assert ScorecardProduct.objects.get(key="lender_loan").declaration == first
    assert scorecards.declaration_waits_for(second) == ["field 'duration': how it is read changed"]


def test_promoting_a_model_keeps_the_newer_wording_stored_meanwhile(db, manager):
    first = scorecards.declaration_store(document=_lender_document(), user=manager)
    fewer = _lender_document()
    fewer["fields"] = [f for f in fewer["fields"] if f["name"] != "job"]
    second = scorecards.declaration_store(document=fewer, user=manager)  # waits
    reworded = copy.deepcopy(fewer)
    reworded["fields"][0]["help"] = "Balance of the current account."
    third = scorecards.declaration_store(document=reworded, user=manager)
    assert (first.version, second.version, third.version) == (1, 2, 3)

    scorecards.declaration_activate(second)  # a model trained on v2 is promoted

    assert ScorecardProduct.objects.get(key="lender_loan").declaration == third
    assert get_scorecard("lender_loan").fields[0].help_text == "Balance of the current account."


def test_a_change_that_moves_neither_count_nor_maximum_reaches_other_processes(
    db, manager, monkeypatch
):
    first = scorecards.declaration_store(document=_lender_document(), user=manager)
    reworded = _lender_document()
    reworded["label"] = "Renamed elsewhere"
    second = scorecards.declaration_store(document=reworded, user=manager)
    assert get_scorecard("lender_loan").label == "Renamed elsewhere"
    # Another process points the product back at v1 with a bare UPDATE: the number of rows
    # and the largest declaration id stay the same.
    ScorecardProduct.objects.filter(key="lender_loan").update(declaration=first)
    monkeypatch.setattr(scorecards, "RECHECK_SECONDS", 0.0)

    assert get_scorecard("lender_loan").label == "Lender loan"
    assert second.pk > first.pk
