"""The shipped scorecards, by key."""

from ml.schema import Scorecard
from ml.scorecards.card_default import CARD_DEFAULT
from ml.scorecards.credit_score import CREDIT_SCORE
from ml.scorecards.german_credit import GERMAN_CREDIT

SCORECARDS: dict[str, Scorecard] = {
    card.key: card for card in (CREDIT_SCORE, CARD_DEFAULT, GERMAN_CREDIT)
}


def get_scorecard(key: str) -> Scorecard:
    """The scorecard called `key`; KeyError naming the known keys otherwise."""
    try:
        return SCORECARDS[key]
    except KeyError:
        known = ", ".join(SCORECARDS)
        raise KeyError(f"Unknown scorecard {key!r}; known scorecards: {known}.") from None


__all__ = ["SCORECARDS", "get_scorecard", "Scorecard"]
