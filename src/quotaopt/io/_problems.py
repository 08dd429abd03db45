"""Every problem of an input, kept whole: folded for the screen, one per row for the problems file.

The screen shows the first 20 problems and a count; ``validate --problems problems.csv``
(and ``plan --problems``) writes every one as ``file,row,column,value,expected,message``,
and ``--json`` prints them as a document. A rule that fails on a million rows is kept
as one :class:`RowProblems` (the rows and a message function), not a million objects,
until a writer asks for them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.errors import InputError, Problem

__all__ = ["PROBLEM_COLUMNS", "ProblemLog", "RowProblems", "problems_csv", "problems_document"]

#: Columns of the problems file, in order.
PROBLEM_COLUMNS = ("file", "row", "column", "value", "expected", "message")

#: Rows of one rule shown as problems before the rest are folded into one "... N more rows" line.
SHOWN_PER_RULE = 50


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
    return str(value)


@dataclass
class RowProblems:
    """One rule failing on some rows of one table: the rows, and how each is told."""

    file: str
    column: str
    rows: np.ndarray  # positions in the checked frame
    value_of: Callable[[int], Any]  # the raw cell at a position
    row_of: Callable[[int], int | str]
    message: str | Callable[[Any], str]
    expected: str | None = None

    def problem(self, position: int) -> Problem:
        value = self.value_of(position)
        if isinstance(value, np.generic):  # np.float64(7.0) is shown as 7.0
            value = value.item()
        text = self.message(value) if callable(self.message) else self.message
        return Problem(self.file, text, row=self.row_of(position), column=self.column, value=_text(value),
                       expected=self.expected)

    def shown(self) -> list[Problem]:
        """The first :data:`SHOWN_PER_RULE` problems, and a fold line for the rest."""
        out = [self.problem(int(i)) for i in self.rows[:SHOWN_PER_RULE]]
        if len(self.rows) > SHOWN_PER_RULE:
            rest = len(self.rows) - SHOWN_PER_RULE
            out.append(Problem(self.file, f"... {rest} more rows with the same problem", column=self.column,
                               repeats=rest))
        return out

    def every(self) -> Iterator[Problem]:
        for i in self.rows:
            yield self.problem(int(i))


class ProblemLog:
    """Problems in the order found: single ones and whole rules over rows."""

    def __init__(self) -> None:
        self.items: list[Problem | RowProblems] = []

    def __bool__(self) -> bool:
        return bool(self.items)

    def append(self, problem: Problem | RowProblems) -> None:
        self.items.append(problem)

    def extend(self, problems: Any) -> None:
        for problem in problems:
            self.append(problem)

    def shown(self) -> list[Problem]:
        out: list[Problem] = []
        for item in self.items:
            out.extend(item.shown() if isinstance(item, RowProblems) else [item])
        return out

    def every(self) -> Iterator[Problem]:
        for item in self.items:
            if isinstance(item, RowProblems):
                yield from item.every()
            else:
                yield item

    def error(self) -> InputError:
        """The :class:`InputError` for these problems (folded on screen, whole in files)."""
        return InputError(self.shown(), every=self.every)


def _fields(problem: Problem | str) -> dict[str, Any]:
    if isinstance(problem, str):
        return {"file": "", "row": None, "column": None, "value": None, "expected": None, "message": problem}
    return {"file": problem.file, "row": problem.row, "column": problem.column, "value": problem.value,
            "expected": problem.expected, "message": problem.message}


def problems_csv(error: InputError) -> bytes:
    """Every problem of ``error`` as CSV (UTF-8, header ``file,row,column,value,expected,message``).

    Examples
    --------
    >>> error = InputError([Problem("reps.csv", "not a date (got 'x', expected YYYY-MM-DD)", row=3,
    ...                             column="hire_date", value="x", expected="YYYY-MM-DD")])
    >>> print(problems_csv(error).decode().strip())
    file,row,column,value,expected,message
    reps.csv,3,hire_date,x,YYYY-MM-DD,"not a date (got 'x', expected YYYY-MM-DD)"
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PROBLEM_COLUMNS)
    for problem in error.every_problem():
        row = _fields(problem)
        writer.writerow(["" if row[c] is None else row[c] for c in PROBLEM_COLUMNS])
    return out.getvalue().encode("utf-8")


def problems_document(error: InputError) -> str:
    """Every problem of ``error`` as a JSON document: ``{"valid": false, "problem_count": n, "problems": [...]}``."""
    problems = [_fields(p) for p in error.every_problem()]
    return json.dumps({"valid": False, "problem_count": len(problems), "problems": problems}, indent=2,
                      default=str)
