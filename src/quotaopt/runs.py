"""Run folders: atomic writes, the manifest, the audit log, and reading runs back.

A run folder is built in ``<runs>/.staging/`` on the same file system and renamed
into ``<runs>/<scenario>/<run id>/`` when complete, so it appears whole or not at
all; a run is never overwritten. Staging folders of processes that died are removed
by the next run.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import shutil
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from quotaopt.errors import InputError, Problem

#: Files every complete run folder has; their bytes are hashed into the manifest.
PLAN_FILES = ("plan.csv", "plan_periods.csv", "units.csv", "summary.json")
STAGING = ".staging"
AUDIT_LOG = "audit.jsonl"
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
    """Stable, human-readable JSON bytes (sorted keys, trailing newline)."""
    return (json.dumps(value, indent=2, sort_keys=True, allow_nan=False, default=str) + "\n").encode("utf-8")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_staging(runs_root: Path) -> None:
    """Remove staging folders left by processes that no longer run."""
    staging = runs_root / STAGING
    if not staging.is_dir():
        return
    for entry in staging.iterdir():
        pid_text = entry.name.rsplit("-", 1)[-1]
        if pid_text.isdigit() and _pid_alive(int(pid_text)):
            continue  # still being written (possibly by this very process)
        shutil.rmtree(entry, ignore_errors=True)


def new_run_id(when: datetime, content_hash: str) -> str:
    """A sortable, readable run id: UTC time plus a short hash of the inputs."""
    return when.strftime("%Y%m%dT%H%M%S") + "-" + content_hash[:8]


@dataclass
class WrittenRun:
    """Where a run landed and what it recorded."""

    path: Path
    run_id: str
    manifest: dict[str, Any]


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
    """
    runs_root.mkdir(parents=True, exist_ok=True)
    clean_stale_staging(runs_root)
    now = datetime.now(UTC)
    content_hash = sha256_bytes(json_bytes({"manifest_inputs": manifest.get("inputs"),
                                            "scenario": manifest.get("scenario")}))
    run_id = new_run_id(now, content_hash)
    target_parent = runs_root / scenario_name
    target_parent.mkdir(parents=True, exist_ok=True)
    suffix = 1
    base_id = run_id
    while (target_parent / run_id).exists():
        suffix += 1
        run_id = f"{base_id}-{suffix}"
    staging = runs_root / STAGING / f"{scenario_name}-{run_id}-{os.getpid()}"
    staging.mkdir(parents=True)
    try:
        hashes: dict[str, str] = {}
        for name, content in files.items():
            _checkpoint(name, on_stage)
            data = content() if callable(content) else content
            (staging / name).write_bytes(data)
            hashes[name] = sha256_bytes(data)
        full_manifest = {**manifest, "run_id": run_id, "created_utc": now.isoformat(timespec="seconds"),
                         "outputs": hashes}
        _checkpoint("manifest.json", on_stage)
        (staging / "manifest.json").write_bytes(json_bytes(full_manifest))
        for path in staging.iterdir():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
        final = target_parent / run_id
        _checkpoint("rename", on_stage)
        os.rename(staging, final)  # atomic on one file system; fails rather than overwrite
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    line = {
        "run_id": run_id,
        "parent_run": manifest.get("parent_run"),
        "scenario": scenario_name,
        "path": str(final),
        "when": now.isoformat(timespec="seconds"),
        "by": _who(),
        "input_hashes": manifest.get("inputs", {}),
        **audit,
    }
    _checkpoint("audit", None)
    append_audit(runs_root, line)
    return WrittenRun(path=final, run_id=run_id, manifest=full_manifest)


def _who() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def append_audit(runs_root: Path, line: dict[str, Any]) -> None:
    """Append one JSON line to ``runs/audit.jsonl`` in a single write (safe with O_APPEND)."""
    data = (json.dumps(line, sort_keys=True, default=str) + "\n").encode("utf-8")
    fd = os.open(runs_root / AUDIT_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


@dataclass
class StoredRun:
    """A run folder read back from disk."""

    path: Path
    manifest: dict[str, Any]
    summary: dict[str, Any]
    plan: pd.DataFrame
    units: pd.DataFrame
    periods: pd.DataFrame

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id", self.path.name))

    @property
    def runs_root(self) -> Path:
        """The runs folder this run lives in (``<root>/<scenario>/<run id>``)."""
        return self.path.parent.parent


def read_run(path: str | Path) -> StoredRun:
    """Read a complete run folder.

    Raises
    ------
    InputError
        When the folder is missing, incomplete, or a file's hash differs from the manifest.
    """
    path = Path(path)
    if not (path / "manifest.json").is_file():
        raise InputError([Problem(str(path), "not a run folder (no manifest.json)")])
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    for name, digest in manifest.get("outputs", {}).items():
        file = path / name
        if not file.is_file():
            raise InputError([Problem(str(file), "listed in manifest.json but missing")])
        if name in PLAN_FILES and sha256_bytes(file.read_bytes()) != digest:
            raise InputError([Problem(str(file), "content differs from the SHA-256 in manifest.json (edited?)")])
    ids = {"rep_id": "str", "team_id": "str", "unit_id": "str", "parent_id": "str", "period": "str"}
    return StoredRun(
        path=path,
        manifest=manifest,
        summary=json.loads((path / "summary.json").read_text(encoding="utf-8")),
        plan=pd.read_csv(path / "plan.csv", dtype=ids),
        units=pd.read_csv(path / "units.csv", dtype=ids),
        periods=pd.read_csv(path / "plan_periods.csv", dtype=ids),
    )
