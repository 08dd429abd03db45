"""Finding and reading the raw tables of a company folder, before any value is checked.

The rules that hold before a single cell is read: one file per table (``reps.csv``
and ``reps.parquet`` side by side is ambiguous, so refused), only regular files (a
FIFO or a device would block or never end), a header without repeated names (pandas
would silently rename the second ``team_id`` to ``team_id.1`` in a CSV, and the
plan would use the first one), and every required column present.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pandas as pd

from quotaopt.errors import Problem
from quotaopt.io._fsguard import regular_file_problem

SUFFIXES = (".csv", ".parquet")


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in blocks so large files stay cheap on memory."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_table(folder: Path, stem: str) -> tuple[Path | None, list[Problem]]:
    """The one file holding table ``stem`` in ``folder`` (CSV or Parquet), or the problems.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "reps.csv").write_text("rep_id\\n"), (folder / "reps.parquet").write_bytes(b"")
    >>> find_table(folder, "reps")[1][0].message
    'both reps.csv and reps.parquet exist (expected one file per table: remove one)'
    """
    found = [folder / f"{stem}{suffix}" for suffix in SUFFIXES if (folder / f"{stem}{suffix}").exists()]
    if len(found) > 1:
        names = " and ".join(p.name for p in found)
        return None, [Problem(found[0].name, f"both {names} exist (expected one file per table: remove one)")]
    if not found:
        return None, []
    problem = regular_file_problem(found[0], found[0].name)
    return (None, [problem]) if problem is not None else (found[0], [])


def _csv_header(path: Path) -> list[str]:
    """The header row of a CSV as written (pandas renames repeated names, so read it ourselves)."""
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh), [])


def _header_names(path: Path) -> list[str]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return [str(name) for name in pq.read_schema(path).names]
    return _csv_header(path)


def duplicate_names(names: list[str]) -> list[str]:
    """Names that appear more than once once surrounding space is removed, in order of first repeat."""
    seen: set[str] = set()
    dups: list[str] = []
    for name in (n.strip() for n in names):
        if name in seen and name not in dups:
            dups.append(name)
        seen.add(name)
    return dups


def read_table(path: Path, required: tuple[str, ...]) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read one CSV or Parquet file as raw columns (CSV cells stay text until checked).

    Returns
    -------
    frame : DataFrame or None
        None when the file cannot be read or its header is wrong.
    problems : list of Problem
        Unreadable file, repeated or missing column names (row 1 is the header).
    """
    name = path.name
    problem = regular_file_problem(path, name)
    if problem is not None:
        return None, [problem]
    try:
        dups = duplicate_names(_header_names(path))
        if dups:
            return None, [Problem(name, f"column name repeated in the header: {', '.join(dups)} (expected each "
                                  "column once)", row=1, column=dups[0])]
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype="str", keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError:
        return None, [Problem(name, "is not UTF-8 text")]
    except pd.errors.EmptyDataError:
        return None, [Problem(name, "is empty (expected a header row)")]
    except Exception as exc:  # noqa: BLE001 - any parser failure is the user's file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, [Problem(name, f"cannot be read: {first[:200]}")]
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    problems = [Problem(name, f"missing required column (expected columns {', '.join(required)})", row=1, column=c)
                for c in missing]
    return frame, problems
