"""Run folders: atomic writes, the manifest, the audit log, and reading runs back.

A run folder is built in ``<runs>/.staging/`` on the same file system and renamed
into ``<runs>/<scenario>/<run id>/`` when complete, so it appears whole or not at all;
a run is never overwritten, and two runs that pick the same id (the same inputs in
the same second) both land, the later one as ``<run id>-2`` (:mod:`quotaopt.atomic`).
The audit line is appended under the log's lock (:mod:`quotaopt.audit`); a folder
left without one by a crash gets it on the next run.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from quotaopt.errors import InputError, OutputError, Problem
from quotaopt.io import _atomic as atomic
from quotaopt.io import _audit as audit_log
from quotaopt.io._fsguard import probe_writable
from quotaopt.io._run_index import LATEST, resolve_run_path, write_latest
from quotaopt.planning import Manifest, StoredRun, Summary
from quotaopt.records import Record

R = TypeVar("R", bound=Record)

#: Files every complete run folder has; their bytes are hashed into the manifest.
PLAN_FILES = ("plan.csv", "plan_periods.csv", "units.csv", "summary.json")
#: Fault injection for the crash-safety tests: the process SIGKILLs itself before
#: writing the named file (or "manifest.json", "rename", "audit").
FAULT_ENV = "QUOTAOPT_FAULT_AT"


def _checkpoint(step: str, on_stage: Callable[[str], None] | None) -> None:
    if on_stage is not None:
        on_stage(step)
    if os.environ.get(FAULT_ENV) == step:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as CSV bytes, the same bytes for the same values on every machine."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def json_bytes(value: Any) -> bytes:
    """Stable, human-readable JSON bytes (sorted keys, trailing newline).

    A summary section (:class:`~quotaopt.records.Record`, e.g. a ``Summary``) is written as
    its :meth:`~quotaopt.records.Record.record`, never as the text of the object.

    Examples
    --------
    >>> from quotaopt.records import TargetBasis
    >>> json_bytes(TargetBasis(kind="growth", growth=0.1)) == json_bytes({"kind": "growth", "growth": 0.1})
    True
    """
    if isinstance(value, Record):
        value = value.record()
    return (json.dumps(value, indent=2, sort_keys=True, allow_nan=False, default=_plain) + "\n").encode("utf-8")


def _plain(value: object) -> object:
    """What :func:`json_bytes` writes for a value JSON has no type for: a record's content, else its text."""
    return value.record() if isinstance(value, Record) else str(value)


def _record_of(file: Path, model: type[R]) -> R:
    """A run's JSON file (summary.json, manifest.json), checked against its record ``model``.

    Raises
    ------
    InputError
        The file is not JSON, or a key is unknown, missing or of the wrong type (the
        first such key is named, e.g. ``solver.status``).
    """
    from pydantic import ValidationError

    try:
        return model.model_validate(json.loads(file.read_text(encoding="utf-8")))
    except json.JSONDecodeError as exc:
        raise InputError([Problem(str(file), f"is not JSON ({exc.msg}, line {exc.lineno})")]) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise InputError([Problem(str(file), f"does not fit {file.name}: {first['msg']}", column=key)]) from None


def _manifest_of(file: Path) -> Manifest:
    """A run's manifest.json, checked against :class:`~quotaopt.planning.Manifest`."""
    return _record_of(file, Manifest)


def _summary_of(file: Path) -> Summary:
    """A run's summary.json, checked against :class:`~quotaopt.planning.Summary`."""
    return _record_of(file, Summary)


def check_runs_root(runs_root: Path, label: str = "--out") -> None:
    """Everything ``write_run`` needs of a runs folder, checked before any work; writes nothing.

    Raises
    ------
    InputError
        The folder cannot be created or written, or its ``.staging`` or ``audit.jsonl``
        is a link or of the wrong kind.
    """
    probe_writable(runs_root, label)
    atomic.check_staging_root(runs_root)
    audit_log.check_audit_log(runs_root)


def clean_stale_staging(runs_root: Path) -> None:
    """Remove staging folders nobody is writing any more (see :func:`quotaopt.atomic.is_stale`)."""
    atomic.clean_stale(runs_root)


def new_run_id(when: datetime, content_hash: str) -> str:
    """A sortable, readable run id: UTC time plus a short hash of the inputs."""
    return when.strftime("%Y%m%dT%H%M%S") + "-" + content_hash[:8]


@dataclass
class WrittenRun:
    """Where a run landed and what it recorded."""

    path: Path
    run_id: str
    manifest: Manifest


def write_run(
    runs_root: Path,
    scenario_name: str,
    files: Mapping[str, bytes | Callable[[], bytes]],
    manifest: dict[str, Any],
    audit: dict[str, Any],
    on_stage: Callable[[str], None] | None = None,
) -> WrittenRun:
    """Write a run folder atomically and append it to the audit log.

    Parameters
    ----------
    runs_root : Path
        The runs folder (``runs/``); the run lands in ``runs_root/scenario_name/<run id>``.
    files : mapping
        File name -> bytes, or a callable producing them (called while staging).
    manifest : dict
        Manifest content; the output hashes, run id and paths are added here.
    audit : dict
        Headline fields for the audit line; run id, path and time are added.
    on_stage : callable, optional
        Called with each file name before it is written (progress display, tests).

    Returns
    -------
    WrittenRun

    Raises
    ------
    InputError
        The runs folder cannot be written (see :func:`check_runs_root`).
    OutputError
        A write failed part way (a full disk): nothing was published, or the run was
        published and only its audit line is missing (the next run adds it).
    """
    check_runs_root(runs_root)
    try:
        runs_root.mkdir(parents=True, exist_ok=True)
        clean_stale_staging(runs_root)
    except OSError as exc:
        raise OutputError(f"cannot prepare the runs folder {runs_root} ({exc.strerror or exc})") from None
    now = datetime.now(UTC)
    content_hash = sha256_bytes(json_bytes({"manifest_inputs": manifest.get("inputs"),
                                            "scenario": manifest.get("scenario")}))
    base_id = new_run_id(now, content_hash)
    target_parent = runs_root / scenario_name
    hashes: dict[str, str] = {}
    final_manifest: dict[str, Any] = {}
    try:
        with atomic.Staging(runs_root) as staging:
            for name, content in files.items():
                _checkpoint(name, on_stage)
                data = content() if callable(content) else content
                staging.write(name, data)
                hashes[name] = sha256_bytes(data)

            def finalize(run_id: str) -> None:
                final_manifest.clear()
                final_manifest.update({**manifest, "run_id": run_id, "scenario_name": scenario_name,
                                       "created_utc": now.isoformat(timespec="seconds"), "created_by": _who(),
                                       "outputs": hashes, "audit": audit})
                _checkpoint("manifest.json", on_stage)
                (staging.path / "manifest.json").unlink(missing_ok=True)
                staging.write("manifest.json", json_bytes(final_manifest))

            # Publishing and the audit line happen under the log's lock, so a reconciling
            # run never takes this folder for one whose writer died.
            with audit_log.locked(runs_root) as log:
                audit_log.reconcile(log, runs_root)
                final = atomic.publish(staging, target_parent, base_id, finalize,
                                       before_rename=lambda: _checkpoint("rename", on_stage))
                _checkpoint("audit", None)
                try:
                    log.append(audit_log.audit_line(final_manifest, final))
                except OutputError as exc:
                    raise OutputError(f"run folder {final} was written, but its audit line was not: {exc}; "
                                      "the next run adds it") from None
                # Still under the lock: `latest` follows the order runs were published in.
                try:
                    write_latest(target_parent, final.name)
                except OSError as exc:
                    raise OutputError(f"run folder {final} was written, but {target_parent / LATEST} was not "
                                      f"updated ({exc.strerror or exc})") from None
    except OSError as exc:
        raise OutputError(f"cannot write the run folder under {runs_root} ({exc.strerror or exc})") from None
    return WrittenRun(path=final, run_id=final.name, manifest=Manifest.model_validate(final_manifest))


def _who() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def append_audit(runs_root: Path, line: dict[str, Any]) -> None:
    """Append one JSON line to ``runs/audit.jsonl`` under its lock (checked write plus fsync)."""
    with audit_log.locked(runs_root) as log:
        log.append(line)


def read_run(path: str | Path) -> StoredRun:
    """Read a complete run folder (or the run a ``latest`` file names).

    Raises
    ------
    InputError
        When the folder is missing, incomplete, or a file's hash differs from the manifest.
    """
    path = resolve_run_path(path)
    if not (path / "manifest.json").is_file():
        raise InputError([Problem(str(path), "not a run folder (no manifest.json)")])
    manifest = _manifest_of(path / "manifest.json")
    for name, digest in (manifest.outputs or {}).items():
        file = path / name
        if not file.is_file():
            raise InputError([Problem(str(file), "listed in manifest.json but missing")])
        if name in PLAN_FILES and sha256_bytes(file.read_bytes()) != digest:
            raise InputError([Problem(str(file), "content differs from the SHA-256 in manifest.json (edited?)")])
    ids = {"rep_id": "str", "team_id": "str", "unit_id": "str", "parent_id": "str", "period": "str",
           "name": "str", "team_name": "str", "manager": "str"}
    periods = pd.read_csv(path / "plan_periods.csv", dtype=ids)
    others = None
    if "measure" in periods:  # a plan of several measures: tracking and re-plans read revenue's periods
        revenue = periods["measure"] == "revenue"
        others = periods.loc[~revenue, ["rep_id", "measure", "period", "quota"]].reset_index(drop=True)
        periods = periods[revenue].drop(columns="measure").reset_index(drop=True)
        periods["quota"] = pd.to_numeric(periods["quota"])
    return StoredRun(
        path=path,
        manifest=manifest,
        summary=_summary_of(path / "summary.json"),
        plan=pd.read_csv(path / "plan.csv", dtype=ids),
        units=pd.read_csv(path / "units.csv", dtype=ids),
        periods=periods,
        measure_periods=others,
    )
