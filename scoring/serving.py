"""The production model of each scorecard, loaded once per process and swapped on promotion.

Each scoring call asks the database one cheap, indexed question — which version is in
production, with which artifact hash — and compares the answer with what this process holds.
Only when it differs (a promotion or roll-back happened, in any process) is the artifact read
again through Django's storage API, and it is unpickled only if its sha256 matches the row.
Web workers and Celery workers all behave the same way, so none needs a restart.
"""

import functools
import hashlib
import logging
import threading
import time
from dataclasses import dataclass

from django.db import connection

from creditportal.errors import ApplicationError, ModelUnavailable
from ml.artifacts import ArtifactError, load_model_bytes
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


@dataclass(frozen=True)
class _Failure:
    stamp: tuple[int, str]
    message: str
    why: str
    retry_at: float


# A production model that failed to load is tried again only after this long (or at once
# when another version is promoted): its file is not read and hashed on every request.
RETRY_SECONDS = 60.0

_loaded: dict[str, LoadedModel] = {}
_failed: dict[str, _Failure] = {}
_lock = threading.Lock()
log = logging.getLogger(__name__)


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
        failed = _failed.get(scorecard_key)
        if failed and failed.stamp == stamp and time.monotonic() < failed.retry_at:
            raise ModelUnavailable(failed.message)
        version = ModelVersion.objects.get(pk=stamp[0])
        try:
            model = model_version_load(version)
        except Exception as error:  # any reason the artifact cannot be used: say which
            log.error("Production model %s cannot be loaded: %s", version, error)
            message = (
                f"The production model of '{scorecard_key}' ({version.label}) cannot be loaded "
                f"({_why(error)}). Nothing was scored; an administrator must restore its file "
                "or promote another version."
            )
            retry_at = time.monotonic() + RETRY_SECONDS
            _failed[scorecard_key] = _Failure(stamp, message, _why(error), retry_at)
            raise ModelUnavailable(message) from error
        _failed.pop(scorecard_key, None)
        loaded = LoadedModel(
            version_id=version.pk,
            version=version.version,
            artifact_sha256=version.artifact_sha256,
            is_synthetic=version.is_synthetic,
            model=model,
            row=ModelVersion.objects.only(*SUMMARY_FIELDS).get(pk=version.pk),
        )
        _loaded[scorecard_key] = loaded
        return loaded


HASH_MISMATCH = "its artifact does not match the hash recorded when it was registered"


def _why(error: Exception) -> str:
    if isinstance(error, OSError):
        return "its artifact file is missing or unreadable"
    if isinstance(error, ArtifactError) and "sha256" in str(error):
        return HASH_MISMATCH
    return "its artifact could not be read"


# Hashing an artifact reads the whole file: a verdict is kept this long per process.
AVAILABILITY_SECONDS = 600.0
_availability: dict[tuple[int, str], tuple[str | None, float]] = {}


def model_availability(version: ModelVersion) -> str | None:
    """Why `version`'s artifact cannot be used, or None when it can: the file is there and
    its sha256 is the one recorded (read and hashed, not unpickled; a file that is there
    is hashed again only every AVAILABILITY_SECONDS). For the health check and the
    dashboard, not for every scoring call."""
    key = (version.pk, version.artifact_sha256)
    failed = _failed.get(version.scorecard)
    if failed and failed.stamp == key and time.monotonic() < failed.retry_at:
        return failed.why  # what scoring answers now, whatever an earlier check found
    try:
        present = bool(version.artifact) and version.artifact.storage.exists(version.artifact.name)
    except Exception as error:  # any storage backend's failure: the file cannot be reached
        log.warning("Cannot check the artifact of %s: %s", version, error)
        present = False
    if not present:
        _availability.pop(key, None)
        return _why(FileNotFoundError(version.artifact.name))
    known = _availability.get(key)
    if known is not None and time.monotonic() < known[1]:
        return known[0]
    verdict = _artifact_verdict(version)
    _availability[key] = (verdict, time.monotonic() + AVAILABILITY_SECONDS)
    return verdict


def _artifact_verdict(version: ModelVersion) -> str | None:
    try:
        with version.artifact.open("rb") as artifact:
            digest = hashlib.file_digest(artifact, "sha256").hexdigest()
    except Exception as error:  # OSError, or any storage backend's own failure
        return _why(error if isinstance(error, OSError) else OSError(str(error)))
    if digest != version.artifact_sha256:
        return HASH_MISMATCH
    return None


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
        _failed.clear()
        _availability.clear()
