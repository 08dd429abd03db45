"""Reading an edited plan.xlsx back: the Overrides sheet's filled ``new_quota`` cells.

Every cell is checked as ``locked_quota`` is in reps.csv (a finite number, >= 0, within
the supported amounts, a whole multiple of ``allocation.unit``), and the rep must be an
active rep of the company; every problem names the workbook, the sheet and the cell,
and all of them are reported at once. openpyxl reads the workbook (values as saved:
a formula counts with the value Excel stored for it).
"""

from __future__ import annotations

import hashlib
import math
import zipfile
from pathlib import Path
from typing import Any

from quotaopt.company import CompanyData
from quotaopt.errors import InputError, Problem
from quotaopt.io._fsguard import require_regular_file
from quotaopt.money import MAX_AMOUNT
from quotaopt.planning import ID_HEADER, OVERRIDES_SHEET, QUOTA_HEADER, Overrides

#: Rows searched for the header (the sheet opens with a line of instructions).
HEADER_SEARCH_ROWS = 20


def _number(value: Any) -> float | None:
    """A cell's value as a number; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def read_overrides(path: str | Path, company: CompanyData, unit: float) -> Overrides:
    """The locked quotas typed into a workbook's Overrides sheet.

    Parameters
    ----------
    path : str or Path
        An .xlsx file with an ``Overrides`` sheet (as plan.xlsx writes it).
    company : CompanyData
        The company being planned: every rep named must be one of its active reps.
    unit : float
        ``allocation.unit``: every quota must be a whole multiple of it.

    Returns
    -------
    Overrides

    Raises
    ------
    InputError
        The file is not a workbook, has no Overrides sheet or header, or any filled cell
        is not a valid quota for an active rep: one problem per cell (``file:Overrides!J5: ...``).
    """
    import openpyxl

    path = Path(path)
    label = str(path)
    require_regular_file(path, label)
    data = path.read_bytes()
    try:
        import io

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise InputError([Problem(label, f"not an Excel workbook (.xlsx) openpyxl can read ({exc}); give the "
                                  "plan.xlsx of a run, edited and saved as .xlsx")]) from None
    if OVERRIDES_SHEET not in book.sheetnames:
        raise InputError([Problem(label, f"has no sheet {OVERRIDES_SHEET!r} (found: {', '.join(book.sheetnames)}); "
                                  "give the plan.xlsx of a run, whose Overrides sheet lists every rep")])
    sheet = book[OVERRIDES_SHEET]
    rows = sheet.iter_rows(values_only=True)
    header_row, id_col, quota_col = 0, -1, -1
    for number, row in enumerate(rows, start=1):
        cells = [str(v).strip() if v is not None else "" for v in row]
        if ID_HEADER in cells and QUOTA_HEADER in cells:
            header_row, id_col, quota_col = number, cells.index(ID_HEADER), cells.index(QUOTA_HEADER)
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    if not header_row:
        raise InputError([Problem(label, f"sheet {OVERRIDES_SHEET}: no header row with {ID_HEADER!r} and "
                                  f"{QUOTA_HEADER!r} in its first {HEADER_SEARCH_ROWS} rows")])
    from openpyxl.utils import get_column_letter

    letter = get_column_letter(quota_col + 1)
    active = set(company.active_reps["rep_id"].astype(str))
    known = set(company.reps["rep_id"].astype(str))
    quotas: dict[str, float] = {}
    where: dict[str, str] = {}
    problems: list[Problem] = []
    for number, row in enumerate(rows, start=header_row + 1):
        raw = row[quota_col] if quota_col < len(row) else None
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        cell = f"{OVERRIDES_SHEET}!{letter}{number}"
        rep_raw = row[id_col] if id_col < len(row) else None
        rep = "" if rep_raw is None else str(rep_raw).strip().removeprefix("'")

        def problem(text: str, at: str = cell) -> None:
            problems.append(Problem(label, text, column=at))

        value = _number(raw)
        if not rep:
            problem(f"{QUOTA_HEADER} {raw!r} has no {ID_HEADER} in its row")
        elif rep not in known:
            problem(f"rep {rep!r} is not in reps.csv", f"{OVERRIDES_SHEET}!{get_column_letter(id_col + 1)}{number}")
        elif rep not in active:
            problem(f"rep {rep} is departed in reps.csv and gets no quota; clear this cell")
        elif rep in quotas:
            problem(f"rep {rep} has a {QUOTA_HEADER} twice (first at {where[rep]}); keep one")
        elif value is None:
            problem(f"{QUOTA_HEADER} is not a number (got {str(raw)[:40]!r}); type the quota, or clear the cell")
        elif not math.isfinite(value) or value < 0:
            problem(f"{QUOTA_HEADER} must be a finite amount >= 0 (got {raw!r})")
        elif value > MAX_AMOUNT:
            problem(f"{QUOTA_HEADER} {value:.6g} is above the supported {MAX_AMOUNT:.0e}")
        elif abs(value / unit - round(value / unit)) > 1e-9 * max(1.0, abs(value / unit)):
            problem(f"{QUOTA_HEADER} {value:.15g} is not a whole multiple of allocation.unit {unit:.15g} "
                    f"(nearest: {round(value / unit) * unit:.15g})")
        else:
            quotas[rep] = round(value / unit) * unit
            where[rep] = cell
    book.close()
    if problems:
        raise InputError(problems)
    return Overrides(file=label, sha256=hashlib.sha256(data).hexdigest(), quotas=quotas, cells=where)
