"""The scorecards: the shipped declarations, and a resolver for the others.

The shipped demo scorecards are declaration documents (`ml/scorecards/*.json`, package
data read with importlib.resources), loaded and validated once at import. A lender's own
scorecards live elsewhere (the Django side stores them in the database): `set_resolver`
plugs in a function that `get_scorecard` asks first, so `ml/` never imports Django.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from importlib import resources

from ml.declaration import load_declaration
from ml.schema import Scorecard

Resolver = Callable[[str], Scorecard | None]


def _load_shipped() -> dict[str, Scorecard]:
    cards = []
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            cards.append(load_declaration(json.loads(entry.read_text(encoding="utf-8"))))
    # Listed by label (what the product chooser shows), not by file name.
    return {card.key: card for card in sorted(cards, key=lambda card: card.label.lower())}


SHIPPED: dict[str, Scorecard] = _load_shipped()

Catalogue = Callable[[], "Mapping[str, Scorecard] | None"]
_resolver: Resolver | None = None
_catalogue: Catalogue | None = None


def set_resolver(resolver: Resolver | None, *, catalogue: Catalogue | None = None) -> None:
    """Make `get_scorecard` ask `resolver(key)` first (None: it knows no such key) and
    `SCORECARDS` list `catalogue()` (None: nothing stored yet, the shipped ones stand in);
    `set_resolver(None)` goes back to the shipped scorecards only."""
    global _resolver, _catalogue
    _resolver, _catalogue = resolver, catalogue


def _current() -> Mapping[str, Scorecard]:
    if _catalogue is not None:
        found = _catalogue()
        if found is not None:
            return found
    return SHIPPED


class _Scorecards(Mapping):
    """Every scorecard by key, as the resolver's catalogue has it now (a scorecard stored
    while the process runs appears at once), else the shipped ones."""

    def __getitem__(self, key: str) -> Scorecard:
        return _current()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(_current()))

    def __len__(self) -> int:
        return len(_current())

    def __contains__(self, key: object) -> bool:
        return key in _current()

    def __repr__(self) -> str:
        return f"SCORECARDS({list(_current())})"


SCORECARDS: Mapping[str, Scorecard] = _Scorecards()


def get_scorecard(key: str) -> Scorecard:
    """The scorecard called `key`; KeyError naming the known keys otherwise."""
    if _resolver is not None:
        found = _resolver(key)
        if found is not None:
            return found
    try:
        return SHIPPED[key]
    except KeyError:
        known = ", ".join(SCORECARDS)
        raise KeyError(f"Unknown scorecard {key!r}; known scorecards: {known}.") from None


__all__ = ["SCORECARDS", "SHIPPED", "Scorecard", "get_scorecard", "set_resolver"]
