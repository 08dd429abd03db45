"""The audit log ``runs/audit.jsonl``: one JSON line per run, never a partial one.

- Every append happens under an exclusive ``flock`` of the log, as one checked write
  followed by ``fsync``. A write that fails half way (a full disk) is cut back to the
  size the log had, so no partial line stays behind and no later line is glued on.
- The log must be a regular file: a link planted in its place is refused (it would
  make quotaopt append to any file the link names).
- A run folder can exist without its line (a crash between publishing the folder and
  appending). Every folder records its audit line in its manifest, so the next run,
  holding the lock, appends the missing lines (``"reconciled": true``). The writer
  holds the same lock from publishing to appending, so a folder being published is
  never mistaken for an orphan.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from quotaopt.errors import OutputError
from quotaopt.io._fsguard import require_real

AUDIT_LOG = "audit.jsonl"


def parse_lines(data: bytes) -> list[dict[str, Any]]:
    """The complete, valid JSON object lines of a log's bytes (a damaged or partial line is skipped)."""
    out = []
    for raw in data.split(b"\n"):
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def read_lines(runs_root: Path) -> list[dict[str, Any]]:
    """Every line of ``runs_root/audit.jsonl`` without taking its lock (appends are whole lines); [] when absent."""
    check_audit_log(runs_root)
    try:
        return parse_lines((runs_root / AUDIT_LOG).read_bytes())
    except FileNotFoundError:
        return []


def check_audit_log(runs_root: Path) -> None:
    """Refuse an ``audit.jsonl`` that is a link or not a regular file."""
    require_real(runs_root / AUDIT_LOG, folder=False, purpose="appends its audit log only to a regular file")


class AuditLog:
    """An open, exclusively locked audit log (see :func:`locked`)."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self.fd = fd

    def lines(self) -> list[dict[str, Any]]:
        """Every complete, valid JSON line of the log (a damaged line is skipped, not fatal)."""
        size = os.fstat(self.fd).st_size
        return parse_lines(os.pread(self.fd, size, 0) if size else b"")

    def append(self, line: dict[str, Any]) -> None:
        """Append one line in a checked write plus ``fsync``; on failure leave the log as it was.

        Raises
        ------
        OutputError
            The write or the flush failed (the log is cut back to its former size).
        """
        data = (json.dumps(line, sort_keys=True, default=str) + "\n").encode("utf-8")
        size = os.fstat(self.fd).st_size
        if size and os.pread(self.fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # a line damaged before (by hand or an old version): never glue onto it
        done = 0
        try:
            while done < len(data):
                written = os.write(self.fd, data[done:])
                if written <= 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                done += written
            os.fsync(self.fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, size)
            raise OutputError(f"cannot append to {self.path} ({exc.strerror or exc})") from None


@contextlib.contextmanager
def locked(runs_root: Path) -> Iterator[AuditLog]:
    """Open (creating) ``runs_root/audit.jsonl`` without following links, and hold its lock."""
    check_audit_log(runs_root)
    path = runs_root / AUDIT_LOG
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            check_audit_log(runs_root)  # raises the link message
        raise OutputError(f"cannot open {path} ({exc.strerror or exc})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped in since the check
            check_audit_log(runs_root)
            raise OutputError(f"{path} is not a regular file")
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield AuditLog(path, fd)
    finally:
        os.close(fd)  # closing releases the lock


def audit_line(manifest: dict[str, Any], path: Path) -> dict[str, Any]:
    """The audit line of a run, from its manifest (the same shape whoever appends it)."""
    return {
        "run_id": manifest.get("run_id"),
        "parent_run": manifest.get("parent_run"),
        "scenario": manifest.get("scenario_name"),
        "path": str(path),
        "when": manifest.get("created_utc"),
        "by": manifest.get("created_by"),
        "input_hashes": manifest.get("inputs", {}),
        **manifest.get("audit", {}),
    }


def reconcile(log: AuditLog, runs_root: Path) -> list[dict[str, Any]]:
    """Append the lines of run folders under ``runs_root`` that the log lacks; return them.

    A run folder is ``runs_root/<scenario>/<run id>/manifest.json`` with a ``run_id``.
    Must be called with the lock held (inside :func:`locked`).
    """
    known = {(str(line.get("scenario")), str(line.get("run_id"))) for line in log.lines()}
    added = []
    for manifest_path in sorted(runs_root.glob("*/*/manifest.json")):
        run = manifest_path.parent
        if run.parent.name.startswith(".") or (run.parent.name, run.name) in known:
            continue
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not a run folder quotaopt can vouch for
        if not isinstance(manifest, dict) or manifest.get("run_id") != run.name:
            continue
        line = {**audit_line({"scenario_name": run.parent.name, **manifest}, run), "reconciled": True}
        log.append(line)
        added.append(line)
    return added
