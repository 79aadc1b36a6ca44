"""The scorecards: the shipped declarations, and a resolver for the others.

The shipped demo scorecards are declaration documents (`ml/scorecards/*.json`, package
data read with importlib.resources), loaded and validated once at import. A lender's own
scorecards live elsewhere (the Django side stores them in the database): `set_resolver`
plugs in a function that `get_scorecard` asks first, so `ml/` never imports Django.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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
# The scorecards known without a resolver (the shipped ones); kept for existing callers.
SCORECARDS: dict[str, Scorecard] = SHIPPED

_resolver: Resolver | None = None


def set_resolver(resolver: Resolver | None) -> None:
    """Make `get_scorecard` ask `resolver(key)` first (None: it knows no such key);
    `set_resolver(None)` goes back to the shipped scorecards only."""
    global _resolver
    _resolver = resolver


def get_scorecard(key: str) -> Scorecard:
    """The scorecard called `key`; KeyError naming the known keys otherwise."""
    if _resolver is not None:
        found = _resolver(key)
        if found is not None:
            return found
    try:
        return SHIPPED[key]
    except KeyError:
        known = ", ".join(SHIPPED)
        raise KeyError(f"Unknown scorecard {key!r}; known scorecards: {known}.") from None


__all__ = ["SCORECARDS", "SHIPPED", "Scorecard", "get_scorecard", "set_resolver"]
