"""The lender's scorecards: declarations stored as data, versioned, and the one lookup that
every part of the product uses.

`ml.scorecards.get_scorecard` (forms, API, bulk, training, dashboard) asks `resolve` first
(plugged in by `ApplicantsConfig.ready`), so a scorecard saved by a credit manager is a
product everywhere at once, in every process, with no restart and no code.

Each process keeps the declarations it has read (they never change once stored) and which
declaration each product uses now. It looks at the products table again at most once every
`RECHECK_SECONDS`, so a change reaches other processes within that time without a query per
lookup; the process that makes the change sees it at once.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction

from ml.declaration import DeclarationError, load_declaration
from ml.schema import Scorecard
from ml.scorecards import SHIPPED, get_scorecard

from .models import ScorecardDeclaration, ScorecardProduct

RECHECK_SECONDS = 1.0
SHIPPED_NOTE = "Shipped with CreditPortal (demo data)."


def canonical_json(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def document_sha256(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


# What officers read and nothing else: a declaration that differs from the production
# model's only in these is used at once (docs/declarations.md, "In use").
WORDING = frozenset({"label", "description", "product", "provenance", "currency", "help"})
WORDING |= {"phrase", "value_labels", "rationale"}


def _without_words(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) <= {"value", "label"} and "value" in value:  # a choice or a class
            return value["value"]
        return {k: _without_words(v) for k, v in value.items() if k not in WORDING}
    if isinstance(value, list):
        return [_without_words(item) for item in value]
    return value


def model_signature(scorecard: Scorecard) -> str:
    """Everything of a declaration but its words: what a trained model reads (fields, sources,
    spellings, ranges, choices, what happens to implausible values, classes, derived
    features) and decides with (costs, policy, never-a-reason). Two declarations with the
    same signature differ only in what officers read, so a model trained on one serves the
    other exactly as it would its own."""
    return canonical_json(_without_words(scorecard.to_document()))


def signature_differences(old: Scorecard, new: Scorecard) -> list[str]:
    """What a model trained on `old` would not read the same way in `new`, in words."""
    changes = []
    old_fields, new_fields = old.fields_by_name, new.fields_by_name
    for name in old_fields.keys() - new_fields.keys():
        changes.append(f"field {name!r} removed")
    for name in new_fields.keys() - old_fields.keys():
        changes.append(f"field {name!r} added")
    for name in old_fields.keys() & new_fields.keys():
        a, b = old_fields[name], new_fields[name]
        if a.kind != b.kind:
            changes.append(f"field {name!r}: kind {a.kind} changed to {b.kind}")
        if a.choice_values != b.choice_values:
            changes.append(f"field {name!r}: its choices changed")
        if a.protected != b.protected:
            changes.append(f"field {name!r}: {'now' if b.protected else 'no longer'} protected")
    if old.classes != new.classes or old.target != new.target:
        changes.append("the outcome or its classes changed")
    if not changes and model_signature(old) != model_signature(new):
        old_doc = _without_words(old.to_document())
        new_doc = _without_words(new.to_document())
        names = {f["name"]: f for f in old_doc.get("fields", [])}
        for field_ in new_doc.get("fields", []):
            if names.get(field_["name"], field_) != field_:
                changes.append(f"field {field_['name']!r}: how it is read changed")
        for part in ("target", "costs", "policy", "derived", "grouping", "forest", "groups"):
            if old_doc.get(part) != new_doc.get(part):
                changes.append(f"{part} changed")
        changes = changes or ["what the model reads changed"]
    return sorted(changes)


# --- the per-process view -----------------------------------------------------------------


@dataclass
class _View:
    stamp: tuple | None = None
    checked_at: float = 0.0
    active: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (id, sha256)
    enabled: dict[str, bool] = field(default_factory=dict)
    # Stored declarations never change; keyed with their sha256 as well, since an id can come
    # back with other content after a rolled-back transaction.
    declarations: dict[tuple[int, str], Scorecard] = field(default_factory=dict)


_view = _View()
_lock = threading.Lock()


def forget() -> None:
    """Drop this process's view of the products (the declarations read stay valid)."""
    with _lock:
        _view.stamp = None
        _view.checked_at = 0.0


def _stamp() -> tuple:
    """The products table as it is now: a handful of rows, read whole, so that no write can
    hide behind an unchanged count or maximum."""
    return tuple(
        ScorecardProduct.objects.order_by("key").values_list(
            "key", "declaration_id", "declaration__sha256", "is_enabled"
        )
    )


def _refresh() -> bool:
    """Bring the view up to date if it is due; False when the database cannot be read
    (tables not migrated yet): callers then use the shipped declarations."""
    now = time.monotonic()
    if _view.stamp is not None and now - _view.checked_at < RECHECK_SECONDS:
        return True
    try:
        stamp = _stamp()
        if stamp != _view.stamp:
            active = {key: (pk, sha) for key, pk, sha, _ in stamp}
            missing = {pk for pk, sha in active.values() if (pk, sha) not in _view.declarations}
            for declaration in ScorecardDeclaration.objects.filter(id__in=missing):
                scorecard = load_declaration(declaration.document)
                _view.declarations[(declaration.id, declaration.sha256)] = scorecard
            _view.active = active
            _view.enabled = {key: enabled for key, _, _, enabled in stamp}
            _view.stamp = stamp
    except DatabaseError:
        return False
    _view.checked_at = now
    return True


def resolve(key: str) -> Scorecard | None:
    """The declaration product `key` uses now; None when the database does not have it."""
    with _lock:
        if not _refresh():
            return None
        found = _view.active.get(key)
        return _view.declarations.get(found) if found else None


def catalogue() -> dict[str, Scorecard] | None:
    """Every scorecard by key (offered or not): the stored ones, and the shipped ones the
    database does not have yet (before `ensure_models` stores them); None when the
    database cannot be read."""
    with _lock:
        if not _refresh():
            return None
        stored = {key: _view.declarations[found] for key, found in _view.active.items()}
        return {**SHIPPED, **dict(sorted(stored.items()))}


def offered_keys() -> list[str]:
    """Products offered for new applications (those with a production model)."""
    scorecards = catalogue()
    if scorecards is None:
        return list(SHIPPED)
    return [key for key in scorecards if _view.enabled.get(key, key in SHIPPED)]


def offered_scorecards() -> list[Scorecard]:
    """The scorecards officers may open new applications with."""
    return [get_scorecard(key) for key in offered_keys()]


# --- storing ------------------------------------------------------------------------------


def declaration_for(scorecard: Scorecard) -> ScorecardDeclaration | None:
    """The stored version whose document is exactly this scorecard's, if any."""
    sha = document_sha256(scorecard.to_document())
    return (
        ScorecardDeclaration.objects.filter(key=scorecard.key, sha256=sha)
        .order_by("-version")
        .first()
    )


def latest_declaration(key: str) -> ScorecardDeclaration | None:
    return ScorecardDeclaration.objects.filter(key=key).order_by("-version").first()


def declaration_scorecard(declaration: ScorecardDeclaration) -> Scorecard:
    """The scorecard a stored declaration declares (read once per process)."""
    found = (declaration.id, declaration.sha256)
    with _lock:
        scorecard = _view.declarations.get(found)
        if scorecard is None:
            scorecard = _view.declarations[found] = load_declaration(declaration.document)
        return scorecard


def scorecard_to_train(key: str) -> tuple[Scorecard, ScorecardDeclaration | None]:
    """What the next model of `key` learns: its latest declaration (a manager's edit), else
    the one it uses now (a database where none is stored yet)."""
    declaration = latest_declaration(key)
    if declaration is None:
        return get_scorecard(key), None
    return declaration_scorecard(declaration), declaration


@transaction.atomic
def declaration_store(
    *, document: dict[str, Any], user=None, note: str = "", key: str | None = None
) -> ScorecardDeclaration:
    """Validate a declaration and store it as the scorecard's next version.

    Raises `DeclarationError` (every problem, each naming its place) and stores nothing when
    the document is not valid. The same document as the latest version stores nothing new.
    The product moves to the new version at once when it has none yet or when the new
    version keeps the model's fields (`model_signature`); otherwise it moves when a model
    trained on the new version goes to production (`declaration_activate`).
    """
    scorecard = load_declaration(document)
    if key is not None and scorecard.key != key:
        raise DeclarationError([f"key: must stay {key!r} (got {scorecard.key!r})"])
    canonical = scorecard.to_document()
    sha = document_sha256(canonical)
    # One writer per key at a time: the product row (or, for a new key, the unique key) is
    # the lock, so two saves cannot take the same version number.
    product = ScorecardProduct.objects.select_for_update().filter(key=scorecard.key).first()
    latest = latest_declaration(scorecard.key)
    if latest is not None and latest.sha256 == sha:
        return latest
    try:
        with transaction.atomic():
            declaration = ScorecardDeclaration.objects.create(
                key=scorecard.key,
                version=(latest.version + 1) if latest else 1,
                document=canonical,
                sha256=sha,
                note=note[:300],
                created_by=user,
            )
    except IntegrityError:  # a first save of the same new key, at the same moment
        raise DeclarationError(
            [f"key: {scorecard.key!r} was saved by someone else just now; look at it and try again"]
        ) from None
    if product is None:
        ScorecardProduct.objects.create(key=scorecard.key, declaration=declaration)
    elif model_signature(load_declaration(product.declaration.document)) == model_signature(
        scorecard
    ):
        product.declaration = declaration
        product.save(update_fields=["declaration", "updated_at"])
    transaction.on_commit(forget)
    forget()
    return declaration


@transaction.atomic
def declaration_activate(declaration: ScorecardDeclaration) -> None:
    """Make the product use this declaration (its model went to production) and offer it
    to officers: a scorecard is offered from its first production model on.

    A later version that differs from it only in words (stored while the model was
    trained) is the one used, so promoting never brings back older wording."""
    signature = model_signature(declaration_scorecard(declaration))
    for later in ScorecardDeclaration.objects.filter(
        key=declaration.key, version__gt=declaration.version
    ).order_by("-version"):
        if model_signature(declaration_scorecard(later)) == signature:
            declaration = later
            break
    product = ScorecardProduct.objects.select_for_update().filter(key=declaration.key).first()
    if product is None:
        ScorecardProduct.objects.create(
            key=declaration.key, declaration=declaration, is_enabled=True
        )
    elif product.declaration_id != declaration.id or not product.is_enabled:
        product.declaration, product.is_enabled = declaration, True
        product.save(update_fields=["declaration", "is_enabled", "updated_at"])
    transaction.on_commit(forget)
    forget()


def declaration_waits_for(declaration: ScorecardDeclaration) -> list[str]:
    """Why a stored version is not used yet: what it changes that the production model
    reads (it is used once a model trained on it is promoted); empty when it is in use."""
    product = ScorecardProduct.objects.select_related("declaration").filter(key=declaration.key)
    product = product.first()
    if product is None or product.declaration_id == declaration.id:
        return []
    return signature_differences(
        declaration_scorecard(product.declaration), declaration_scorecard(declaration)
    ) or ["a newer version is in use"]


def ensure_shipped_declarations() -> list[ScorecardDeclaration]:
    """Store the shipped declarations that the database does not have yet.

    A shipped document that changed with a new release of the product is stored as a new
    version (a manager's own versions in between are kept; the product moves only under the
    rule of `declaration_store`)."""
    stored = []
    for key, scorecard in SHIPPED.items():
        shipped = (
            ScorecardDeclaration.objects.filter(key=key, created_by=None)
            .order_by("-version")
            .first()
        )
        if shipped is not None and shipped.sha256 == document_sha256(scorecard.to_document()):
            continue
        stored.append(declaration_store(document=scorecard.to_document(), note=SHIPPED_NOTE))
    return stored
