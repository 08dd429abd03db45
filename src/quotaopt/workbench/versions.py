"""Versions: the scenario's run folders, their approval status, and moving a version along.

A version is a normal run folder (``runs/<scenario>/<run id>/``), whoever wrote it: the
workbench's Save, or ``quotaopt plan``. Its status lives in ``runs/audit.jsonl``, the
same log that records every run: each step is one line

``{"event": "status", "scenario": ..., "run_id": ..., "status": ..., "from": ..., "by": ..., "comment": ..., "when": ...}``

appended under the log's lock after the current status was read under the same lock,
so two people approving at once cannot both move the same version. The steps are::

    draft -> submitted -> approved
                       -> rejected

A run without a status line is a draft. Approved and rejected are final: an approved
version is read-only (its files are made read-only on disk, its report carries the
approval, and the workbench refuses to move it again); to change a plan, save a new
version. Approving also writes ``approval.json`` into the run folder, so the run
folder alone says who approved it, when and why.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any, Literal

from quotaopt.errors import InputError, Problem

Status = Literal["draft", "submitted", "approved", "rejected"]
#: Allowed steps: from -> the statuses it may move to.
STEPS: dict[str, tuple[str, ...]] = {"draft": ("submitted",), "submitted": ("approved", "rejected"),
                                     "approved": (), "rejected": ()}
#: A run id as quotaopt writes them (time, hash, an optional -N): the only names a request may give.
RUN_ID = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{8}(-\d{1,4})?$")
#: Longest comment kept (the rest is cut, and the page says so).
MAX_COMMENT = 2000
APPROVAL_FILE = "approval.json"


@dataclass(frozen=True)
class StatusStep:
    """One status step of a version on the audit log: to what, by whom, when, why."""

    status: str
    by: str
    when: str
    comment: str

    @classmethod
    def of(cls, line: dict[str, Any]) -> StatusStep:
        """The step an audit log's status line records."""
        return cls(str(line.get("status") or ""), str(line.get("by") or ""), str(line.get("when") or ""),
                   str(line.get("comment") or ""))


@dataclass
class Version:
    """A run folder of the scenario as the versions list shows it."""

    run_id: str
    path: Path
    name: str
    created: str
    created_by: str
    status: str
    history: list[StatusStep]
    #: The figures its audit line shows (:func:`quotaopt.commands.headline`).
    headline: dict[str, float | int | str | None]
    parent: str | None

    @property
    def read_only(self) -> bool:
        """Approved versions never change."""
        return self.status == "approved"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def status_lines(lines: list[dict[str, Any]], scenario: str) -> dict[str, list[dict[str, Any]]]:
    """The status steps of every run of ``scenario``, oldest first, by run id."""
    out: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        if line.get("event") == "status" and line.get("scenario") == scenario:
            out.setdefault(str(line.get("run_id")), []).append(line)
    return out


def run_folder(runs_root: Path, scenario: str, run_id: str) -> Path:
    """The folder of ``run_id``, refusing any name that is not a run id or any folder outside the runs.

    Raises
    ------
    InputError
        Not a run id (a path, ``..``, anything else), or no such run.
    """
    if not isinstance(run_id, str) or not RUN_ID.match(run_id):
        raise InputError([Problem("version", f"not a version id: {str(run_id)[:40]!r}")])
    root = (runs_root / scenario).resolve()
    folder = (root / run_id).resolve()
    if folder.parent != root or not (folder / "manifest.json").is_file():
        raise InputError([Problem("version", f"no version {run_id} of {scenario}")])
    return folder


def list_versions(runs_root: Path, scenario: str) -> list[Version]:
    """Every complete run of ``scenario``, newest first, with its status."""
    from quotaopt.io import read_audit_log

    steps = status_lines(read_audit_log(runs_root), scenario)
    versions = []
    root = runs_root / scenario
    for manifest_path in sorted(root.glob("*/manifest.json")) if root.is_dir() else []:
        run_id = manifest_path.parent.name
        if not RUN_ID.match(run_id):
            continue
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(manifest, dict) or manifest.get("run_id") != run_id:
            continue
        bench = manifest.get("workbench") or {}
        history = steps.get(run_id, [])
        versions.append(Version(
            run_id=run_id, path=manifest_path.parent, name=str(bench.get("version") or f"plan {run_id}"),
            created=str(manifest.get("created_utc") or ""),
            created_by=str(bench.get("saved_by") or manifest.get("created_by") or ""),
            status=str(history[-1]["status"]) if history else "draft", history=[StatusStep.of(h) for h in history],
            headline=(manifest.get("audit") or {}).get("headline") or {}, parent=manifest.get("parent_run")))
    return sorted(versions, key=lambda v: (v.created, v.run_id), reverse=True)


def record_status(runs_root: Path, scenario: str, run_id: str, status: str, user: str, comment: str) -> None:
    """Append a version's first status line (a draft when saved): no check, nothing before it."""
    from quotaopt.io import locked_audit_log

    with locked_audit_log(runs_root) as log:
        log.append({"event": "status", "scenario": scenario, "run_id": run_id, "status": status, "from": None,
                    "by": user, "comment": comment, "when": _now()})


def move(runs_root: Path, scenario: str, run_id: str, to: str, user: str, comment: str) -> dict[str, Any]:
    """Move a version one step (submit, approve, reject), with who and why, on the audit log.

    Returns
    -------
    dict
        The status line appended.

    Raises
    ------
    InputError
        Not a version, a step the version cannot take from where it is (an approved
        version is read-only), or no user name.
    """
    from quotaopt.io import locked_audit_log

    folder = run_folder(runs_root, scenario, run_id)
    if to not in STEPS:
        raise InputError([Problem("status", f"unknown status {str(to)[:20]!r} (expected submitted, approved or "
                                  "rejected)")])
    user = " ".join(str(user).split())[:100]
    if not user:
        raise InputError([Problem("status", "a status change needs a user name (quotaopt serve --user NAME)")])
    comment = str(comment)[:MAX_COMMENT]
    with locked_audit_log(runs_root) as log:
        history = status_lines(log.lines(), scenario).get(run_id, [])
        current = str(history[-1]["status"]) if history else "draft"
        if to not in STEPS[current]:
            raise InputError([Problem("status", _refusal(run_id, current, to))])
        line = {"event": "status", "scenario": scenario, "run_id": run_id, "status": to, "from": current,
                "by": user, "comment": comment, "when": _now()}
        if to == "approved":
            line["report_sha256"] = _mark_approved(folder, [*history, line])
        log.append(line)
    return line


def _refusal(run_id: str, current: str, to: str) -> str:
    if current == "approved":
        return f"version {run_id} is approved and read-only; save a new version to change the plan"
    if current == "rejected":
        return f"version {run_id} was rejected; save a new version and submit that"
    allowed = " or ".join(STEPS[current])
    return f"version {run_id} is {current}: it can be {allowed}, not {to}"


def _mark_approved(folder: Path, history: list[dict[str, Any]]) -> str:
    """approval.json, the approval banner on report.html, and every file made read-only.

    Returns the SHA-256 of the marked report (the manifest keeps the draft's).
    """
    from quotaopt.io import json_bytes, sha256_bytes, write_file_atomic

    approved = history[-1]
    write_file_atomic(folder / APPROVAL_FILE, json_bytes({"status": "approved", "by": approved["by"],
                                                          "when": approved["when"], "comment": approved["comment"],
                                                          "history": history}))
    report = folder / "report.html"
    digest = ""
    if report.is_file():
        page = report.read_bytes().decode("utf-8")
        comment = f": {escape(approved['comment'])}" if approved["comment"] else ""
        banner = (f'<section id="approval" class="banner info">Approved by {escape(approved["by"])} on '
                  f'{escape(approved["when"])}{comment}. This version is read-only.</section>')
        marked = page.replace("<main>", "<main>\n" + banner, 1).encode("utf-8")
        write_file_atomic(report, marked)
        digest = sha256_bytes(marked)
    for path in folder.iterdir():
        if path.is_file() and not path.is_symlink():
            os.chmod(path, stat.S_IMODE(path.stat().st_mode) & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return digest
