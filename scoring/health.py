"""The scoring app's part of `/health/`: can each production model be loaded?"""

from .selectors import production_versions
from .serving import model_availability


def models_health() -> dict[str, str]:
    """Each scorecard with a production model: "ok", or why its model cannot be loaded."""
    versions = production_versions().only("id", "scorecard", "artifact", "artifact_sha256")
    return {
        version.scorecard: model_availability(version) or "ok"
        for version in versions.order_by("scorecard")
    }
