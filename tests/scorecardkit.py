"""Scorecards added, changed and removed while the process runs, through the registry (the
database), as a credit manager's actions would."""

from applicants import scorecards
from applicants.models import ScorecardProduct
from ml.schema import Scorecard


def use_scorecard(scorecard: Scorecard) -> Scorecard:
    """Store `scorecard` as its key's next declaration and make it the one in use."""
    declaration = scorecards.declaration_store(document=scorecard.to_document())
    scorecards.declaration_activate(declaration)
    return scorecards.declaration_scorecard(declaration)


def drop_scorecard(key: str) -> None:
    """The scorecard is no product any more (its stored declarations stay, as audit)."""
    ScorecardProduct.objects.filter(key=key).delete()
    scorecards.forget()


def activate_current(key: str) -> None:
    """Offer the scorecard to officers, as its first promotion does."""
    scorecards.declaration_activate(scorecards.latest_declaration(key))
