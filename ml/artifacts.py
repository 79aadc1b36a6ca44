"""Saving and loading model artifacts: ``model.joblib`` plus ``manifest.json``.

Unpickling runs code, so a model file is only ever unpickled after its sha256 matches the
value the caller expects (the database record in the web app), and only when the manifest
says it was written by the installed scikit-learn version. Both checks happen before
joblib sees the bytes. Django reads artifacts through its storage API, so loading works
from bytes or file objects as well as from a local directory.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import joblib
import sklearn

from ml.model import ScoringModel
from ml.pipeline import encoded_columns
from ml.train import library_versions

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = 1
CHUNK = 1 << 20


class ArtifactError(Exception):
    """An artifact that must not or cannot be loaded (hash, version or format mismatch)."""


@dataclass(frozen=True)
class Manifest:
    """What a model artifact is: written next to the model file as JSON."""

    format: int
    scorecard: str
    model_file: str
    model_sha256: str
    libraries: dict[str, str]
    synthetic: bool
    data_sha256: str
    input_fields: list[str]
    encoded_features: list[str]
    protected_excluded: list[str]
    classes: list[str]
    hyperparameters: dict[str, Any]
    metrics: dict[str, Any]
    policy: dict[str, Any]
    score_scaling: dict[str, Any]
    segments: dict[str, Any] | None
    trained_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        known = set(cls.__dataclass_fields__)
        missing = known - set(data) - {"trained_at", "extra"}
        if missing:
            raise ArtifactError(f"Manifest lacks {sorted(missing)}.")
        return cls(**{k: v for k, v in data.items() if k in known})


def file_sha256(source: str | Path | IO[bytes] | bytes) -> str:
    """sha256 hex digest of a path, a binary file object (read from its start) or bytes."""
    digest = hashlib.sha256()
    if isinstance(source, bytes | bytearray | memoryview):
        digest.update(source)
        return digest.hexdigest()
    if isinstance(source, str | Path):
        with open(source, "rb") as handle:
            return file_sha256(handle)
    if hasattr(source, "seek"):
        source.seek(0)
    for block in iter(lambda: source.read(CHUNK), b""):
        digest.update(block)
    return digest.hexdigest()


def build_manifest(model: ScoringModel, model_sha256: str) -> Manifest:
    meta = model.metadata
    return Manifest(
        format=MANIFEST_FORMAT,
        scorecard=model.key,
        model_file=MODEL_FILE,
        model_sha256=model_sha256,
        libraries=library_versions(),
        synthetic=model.synthetic,
        data_sha256=str(meta.get("data_sha256", "")),
        input_fields=model.input_fields,
        encoded_features=[name for name, _ in encoded_columns(model.pipeline)],
        protected_excluded=[f.name for f in model.scorecard.protected_fields],
        classes=list(model.classes),
        hyperparameters=dict(meta.get("hyperparameters", {})),
        metrics=dict(meta.get("metrics", {})),
        policy=model.policy.to_dict(),
        score_scaling=model.scaling.to_dict(),
        segments=model.segmenter.to_dict() if model.segmenter else None,
        trained_at=str(meta.get("trained_at", "")),
    )


def dump_model_bytes(model: ScoringModel) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    return buffer.getvalue()


def serialize_model(model: ScoringModel) -> tuple[bytes, Manifest]:
    """(model file bytes, manifest) for writing through any storage, e.g. Django's."""
    data = dump_model_bytes(model)
    return data, build_manifest(model, file_sha256(data))


def save_model(model: ScoringModel, directory: str | Path) -> Manifest:
    """Write ``model.joblib`` and ``manifest.json`` into `directory` (created if needed)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    data, manifest = serialize_model(model)
    (directory / MODEL_FILE).write_bytes(data)
    (directory / MANIFEST_FILE).write_text(manifest.to_json() + "\n", encoding="utf-8")
    return manifest


def read_manifest(source: str | Path | IO | bytes | dict) -> Manifest:
    """A manifest from a directory, a manifest path, JSON bytes/text or a parsed dict."""
    if isinstance(source, dict):
        return Manifest.from_dict(source)
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_dir():
            path = path / MANIFEST_FILE
        text = path.read_text(encoding="utf-8")
    elif isinstance(source, bytes | bytearray):
        text = bytes(source).decode("utf-8")
    else:
        raw = source.read()
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    try:
        return Manifest.from_dict(json.loads(text))
    except json.JSONDecodeError as error:
        raise ArtifactError(f"Manifest is not valid JSON: {error}") from error


def check_manifest(manifest: Manifest, expected_sha256: str) -> None:
    """Refuse a manifest for another file or from another scikit-learn version."""
    if manifest.format != MANIFEST_FORMAT:
        raise ArtifactError(f"Unsupported manifest format {manifest.format}.")
    if manifest.model_sha256 != expected_sha256:
        raise ArtifactError("The manifest describes a different model file (sha256 differs).")
    written_with = manifest.libraries.get("scikit-learn")
    if written_with != sklearn.__version__:
        raise ArtifactError(
            f"Model written with scikit-learn {written_with}; this process runs "
            f"{sklearn.__version__}. Retrain the model with the installed version."
        )


def load_model_bytes(
    data: bytes, *, expected_sha256: str, manifest: Manifest | dict | bytes | str
) -> ScoringModel:
    """Unpickle a model from bytes, after checking its sha256 and its manifest."""
    actual = file_sha256(data)
    if actual != expected_sha256:
        raise ArtifactError(
            f"Refusing to load the model: sha256 {actual} does not match the expected "
            f"{expected_sha256}."
        )
    if not isinstance(manifest, Manifest):
        manifest = read_manifest(manifest if not isinstance(manifest, str) else manifest.encode())
    check_manifest(manifest, expected_sha256)
    try:
        model = joblib.load(io.BytesIO(data))
    except KeyError as error:  # the scorecard it names is not declared in this code base
        raise ArtifactError(f"Cannot load the model: {error}") from error
    if not isinstance(model, ScoringModel) or model.key != manifest.scorecard:
        raise ArtifactError("The file does not hold the model its manifest describes.")
    return model


def load_model_file(
    model_file: IO[bytes], *, expected_sha256: str, manifest: Manifest | dict | bytes | str
) -> ScoringModel:
    """`load_model_bytes` for an open binary file (e.g. a Django storage file)."""
    return load_model_bytes(model_file.read(), expected_sha256=expected_sha256, manifest=manifest)


def load_model(directory_or_path: str | Path, *, expected_sha256: str) -> ScoringModel:
    """Load ``model.joblib`` from a directory (or the path of the file itself)."""
    path = Path(directory_or_path)
    model_path = path / MODEL_FILE if path.is_dir() else path
    manifest_path = model_path.parent / MANIFEST_FILE
    if not model_path.is_file():
        raise ArtifactError(f"No model file at {model_path}.")
    if not manifest_path.is_file():
        raise ArtifactError(f"No {MANIFEST_FILE} next to {model_path}.")
    return load_model_bytes(
        model_path.read_bytes(),
        expected_sha256=expected_sha256,
        manifest=read_manifest(manifest_path),
    )
