"""Trained capacity models on disk: skops format, an explicit trust list, a hash check.

A model folder holds ``model.skops`` and ``metadata.json`` (features, training years,
backtest scores, ``model_sha256``...). Loading refuses a file whose SHA-256 differs
from the metadata, and refuses any type in the file that is not on
:data:`TRUSTED_TYPES`, so a model folder cannot smuggle in arbitrary code the way a
pickle can.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import skops.io as sio
from pydantic import ValidationError

from quotaopt.capacity import CapacityModel, TrainedModel
from quotaopt.capacity.records import ModelMetadata
from quotaopt.errors import InputError, Problem, QuotaOptError
from quotaopt.io._atomic import write_file_atomic
from quotaopt.io._fsguard import require_regular_file
from quotaopt.io._sources import sha256_file

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
#: Version of the model a saved folder holds. 3: anchored on each rep's own rate, the
#: change from it a weighted set of candidates; a version-2 model would be misread.
FORMAT_VERSION = 3

#: Every non-builtin type a saved CapacityModel contains, beyond skops' own defaults.
TRUSTED_TYPES = [
    "quotaopt.capacity._bands.Bands",
    "quotaopt.capacity._linear.LogRatioHuber",
    "quotaopt.capacity._model.CapacityModel",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
]


def save_model(model: CapacityModel, folder: str | Path, metadata: ModelMetadata) -> None:
    """Write ``model.skops`` and ``metadata.json`` into ``folder`` (created if needed).

    Parameters
    ----------
    model : CapacityModel
        A fitted model.
    folder : str or Path
        Target folder, e.g. ``models/<name>``; an older model there is replaced.
    metadata : ModelMetadata
        What training recorded (backtest scores, scenario...). ``features``,
        ``quantiles``, ``candidates``, ``training_years``, ``format_version`` and
        ``model_sha256`` are filled in from the model.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model_path = folder / MODEL_FILE
    write_file_atomic(model_path, sio.dumps(model))
    meta = metadata.model_copy(update={
        "format_version": FORMAT_VERSION,
        "model_file": MODEL_FILE,
        "model_sha256": sha256_file(model_path),
        "features": [str(c) for c in getattr(model, "feature_names_in_", [])],
        "quantiles": [float(q) for q in model.quantiles],
        "candidates": [str(c) for c in model.candidates],
        "training_years": [int(y) for y in getattr(model, "training_years_", [])],
        "params": {k: v for k, v in model.get_params().items() if isinstance(v, (int, float, str, type(None)))},
    })
    # Metadata last: its hash names the model file that is already in place.
    write_file_atomic(folder / METADATA_FILE, (json.dumps(meta.record(), indent=2, sort_keys=True) + "\n").encode())


def load_model(folder: str | Path) -> tuple[CapacityModel, ModelMetadata]:
    """Load a model folder written by :func:`save_model`.

    Returns
    -------
    model : CapacityModel
    metadata : ModelMetadata

    Raises
    ------
    InputError
        Missing files, unreadable metadata, a model of another :data:`FORMAT_VERSION`,
        a SHA-256 mismatch, a key of the wrong type, or a type outside :data:`TRUSTED_TYPES`.
    """
    folder = Path(folder)
    meta_path, model_path = folder / METADATA_FILE, folder / MODEL_FILE
    for path in (meta_path, model_path):
        if not path.exists():
            raise InputError([Problem(str(path), "not found (expected a folder written by quotaopt train)")])
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(meta_path), f"is not valid JSON ({exc})")]) from None
    expected = meta.get("model_sha256") if isinstance(meta, dict) else None
    version = meta.get("format_version") if isinstance(meta, dict) else None
    if version != FORMAT_VERSION:
        raise InputError([Problem(str(meta_path), f"format_version {version} cannot be used by this quotaopt "
                                  f"(expected {FORMAT_VERSION}): retrain the model", column="format_version")])
    if not isinstance(expected, str):
        raise InputError([Problem(str(meta_path), "has no model_sha256 (expected the hash of model.skops)",
                                  column="model_sha256")])
    actual = sha256_file(model_path)
    if actual != expected:
        raise InputError([Problem(str(model_path), f"SHA-256 mismatch (got {actual[:12]}..., metadata.json "
                                  f"expects {expected[:12]}...): the file was changed or corrupted; retrain")])
    data = model_path.read_bytes()
    untrusted = [t for t in sio.get_untrusted_types(data=data) if t not in TRUSTED_TYPES]
    if untrusted:
        raise InputError([Problem(str(model_path), f"contains types that are not trusted: {', '.join(untrusted)}")])
    try:
        model = sio.loads(data, trusted=TRUSTED_TYPES)
    except Exception as exc:  # noqa: BLE001 - any failure here is a bad file, not a bug of ours
        raise InputError([Problem(str(model_path), f"cannot be loaded: {type(exc).__name__}: {exc}")]) from None
    if not isinstance(model, CapacityModel):
        raise InputError([Problem(str(model_path), f"holds a {type(model).__name__}, expected a CapacityModel")])
    try:
        metadata = ModelMetadata.model_validate(meta)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise InputError([Problem(str(meta_path), f"{key}: {first['msg']}", column=key)]) from None
    return model, metadata


def resolve_model_dir(scenario_dir: Path, model: str, search: tuple[Path, ...] = ()) -> Path:
    """The trained model folder a scenario names: relative to the scenario file, else to each of ``search``.

    The command passes the working directory in ``search`` (``quotaopt train`` writes
    ``models/<scenario>`` there by default); nothing below the commands looks at it.
    """
    for base in (scenario_dir, *search):
        candidate = (base / model).resolve()
        if (candidate / METADATA_FILE).exists():
            return candidate
    return (scenario_dir / model).resolve()


def load_trusted_model(model_dir: Path) -> TrainedModel:
    """A trained model folder loaded and verified (hash, trust list), or an :class:`InputError`.

    :func:`load_model` checks the hash and the trusted types; a file that matches its
    hash but is damaged inside (re-hashed after corruption) fails in the unpacker,
    which is the file's fault, not ours: exit 2 naming it. Loaded once per file
    version and process, so ``validate`` and ``plan`` can both check it cheaply.
    """
    model_file = model_dir / MODEL_FILE
    for path in (model_dir / METADATA_FILE, model_file):
        require_regular_file(path)
    stamp = tuple((f.stat().st_mtime_ns, f.stat().st_size) for f in (model_dir / METADATA_FILE, model_file)
                  if f.exists())
    return _load_model_cached(model_dir.resolve(), stamp)


@functools.lru_cache(maxsize=4)
def _load_model_cached(model_dir: Path, stamp: tuple[tuple[int, int], ...]) -> TrainedModel:
    try:
        model, metadata = load_model(model_dir)
    except QuotaOptError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged file, whatever the unpacker says about it
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise InputError([Problem(str(model_dir / MODEL_FILE), f"cannot be loaded ({type(exc).__name__}: "
                                  f"{first}): the file is damaged; train the model again")]) from None
    return TrainedModel(model, metadata, model_dir)
