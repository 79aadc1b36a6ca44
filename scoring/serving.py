"""The production model of each scorecard, loaded once per process and swapped on promotion.

Each scoring call asks the database one cheap, indexed question — which version is in
production, with which artifact hash — and compares the answer with what this process holds.
Only when it differs (a promotion or roll-back happened, in any process) is the artifact read
again through Django's storage API, and it is unpickled only if its sha256 matches the row.
Web workers and Celery workers all behave the same way, so none needs a restart.
"""

import functools
import threading
from dataclasses import dataclass

from django.db import connection

from creditportal.errors import ApplicationError
from ml.artifacts import load_model_bytes
from ml.model import ScoringModel

from .models import ModelVersion
from .selectors import production_versions


@dataclass(frozen=True)
class LoadedModel:
    version_id: int
    version: int
    artifact_sha256: str
    is_synthetic: bool
    model: ScoringModel
    # The version's row without its large JSON columns (report, manifest...), for the
    # predictions' foreign key: showing a new prediction's version then costs no query.
    row: ModelVersion


SUMMARY_FIELDS = ("id", "scorecard", "version", "status", "is_synthetic", "created_at")

_loaded: dict[str, LoadedModel] = {}
_lock = threading.Lock()


def production_stamp(scorecard_key: str) -> tuple[int, str] | None:
    """(version id, artifact sha256) of the scorecard's production version, or None.

    Asked on every scoring call, so the statement of `selectors.production_versions` is
    built once and then run as plain SQL: building it through the ORM cost more than
    running it. The partial unique index on (scorecard) where status = production answers it.
    """
    sql, params = _stamp_statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [scorecard_key if p is _SCORECARD else p for p in params])
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


_SCORECARD = "\x00scorecard"  # stands for the scorecard key among the statement's parameters


@functools.cache
def _stamp_statement() -> tuple[str, tuple]:
    queryset = production_versions().filter(scorecard=_SCORECARD).order_by()
    sql, params = queryset.values_list("pk", "artifact_sha256")[:1].query.sql_with_params()
    return sql, tuple(_SCORECARD if p == _SCORECARD else p for p in params)


def production_model(scorecard_key: str) -> LoadedModel:
    stamp = production_stamp(scorecard_key)
    if stamp is None:
        raise ApplicationError(
            f"There is no production model for '{scorecard_key}' yet: a credit manager must "
            "train and promote one.",
            extra={"code": "no_production_model"},
        )
    current = _loaded.get(scorecard_key)
    if current and (current.version_id, current.artifact_sha256) == stamp:
        return current
    with _lock:
        current = _loaded.get(scorecard_key)
        if current and (current.version_id, current.artifact_sha256) == stamp:
            return current
        version = ModelVersion.objects.get(pk=stamp[0])
        loaded = LoadedModel(
            version_id=version.pk,
            version=version.version,
            artifact_sha256=version.artifact_sha256,
            is_synthetic=version.is_synthetic,
            model=model_version_load(version),
            row=ModelVersion.objects.only(*SUMMARY_FIELDS).get(pk=version.pk),
        )
        _loaded[scorecard_key] = loaded
        return loaded


def model_version_load(version: ModelVersion) -> ScoringModel:
    """Read a version's artifact through the storage API; refuse it unless the hash matches."""
    with version.artifact.open("rb") as artifact:
        data = artifact.read()
    return load_model_bytes(
        data, expected_sha256=version.artifact_sha256, manifest=version.manifest
    )


def forget_loaded_models() -> None:
    """Drop every model this process holds (tests, and after deleting artifacts by hand)."""
    with _lock:
        _loaded.clear()
