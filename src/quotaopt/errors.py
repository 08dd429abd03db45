"""The errors quotaopt raises, each tied to one exit code of the contract (§3).

The CLI turns these into one clear line and an exit code; anything else is a bug
(exit 1, with a traceback only under ``--debug``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can.

    Parameters
    ----------
    file : str
        File name (or scenario path) the problem is in.
    message : str
        What is wrong, with the value found and what was expected.
    row : int, str or None
        Line number in the file (the header is line 1), when the problem is in a row; for
        a database table, the row's key (``rep_id=RP000005``).
    column : str or None
        Column name, or key path for scenario files.
    repeats : int
        How many problems this one line stands for (a fold of rows with the same
        problem); the "and N more" count of :class:`InputError` adds them up.
    value : str or None
        The offending value as written, when there is one (for the problems file).
    expected : str or None
        What would have been accepted, in words (for the problems file).
    """

    file: str
    message: str
    row: int | str | None = None
    column: str | None = None
    repeats: int = 1
    value: str | None = None
    expected: str | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(str(self.row))
        if self.column is not None:
            parts.append(self.column)
        return ":".join(parts) + ": " + self.message


class QuotaOptError(Exception):
    """Base of all errors quotaopt raises on purpose."""

    exit_code = 1


class InputError(QuotaOptError):
    """Bad input data or configuration (exit code 2).

    Carries every problem found so the user can fix them in one pass.
    """

    exit_code = 2
    max_shown = 20

    def __init__(self, problems: Iterable[Problem | str], every: Callable[[], Iterator[Problem | str]] | None = None):
        self.problems: list[Problem | str] = list(problems)
        if not self.problems:
            self.problems = ["invalid input"]
        self._every = every
        super().__init__(self.render())

    def every_problem(self) -> Iterator[Problem | str]:
        """Every problem, one per row, where :attr:`problems` folds many rows into one line."""
        if self._every is not None:
            yield from self._every()
        else:
            yield from self.problems

    def count(self) -> int:
        """How many problems there are in all (folded rows counted one by one)."""
        return sum(getattr(p, "repeats", 1) for p in self.problems)

    def render(self) -> str:
        """Format the first ``max_shown`` problems, one per line, and a count of the rest."""
        lines = [str(p) for p in self.problems[: self.max_shown]]
        hidden = self.problems[self.max_shown:]
        rest = sum(getattr(p, "repeats", 1) for p in hidden)
        if rest > 0:
            lines.append(f"... and {rest} more problem(s)")
        return "\n".join(lines)


class InfeasibleError(QuotaOptError):
    """The constraints cannot all hold (exit code 3).

    Parameters
    ----------
    reasons : list of str
        Business-language reasons, e.g. ``"team T7: target 12.3M exceeds the most its
        reps can carry, 10.1M (stretch <= 1.3)"``.
    diagnosis : Diagnosis, optional
        What would work (quotaopt.allocation.diagnose); its short message is the text.
    message : str, optional
        The text to show instead (e.g. the diagnosis with growth and a file path).
    """

    exit_code = 3

    def __init__(self, reasons: Iterable[str], diagnosis: Any = None, message: str | None = None):
        self.reasons = list(reasons) or ["the allocation problem is infeasible"]
        #: :class:`quotaopt.allocation.diagnose.Diagnosis` when known: the totals that
        #: work, the settings that would, and a per-unit table.
        self.diagnosis = diagnosis
        #: Turns a total into a growth text for the message ('+6.8% growth'), set by the planner.
        self.growth: Any = None
        if message is None:
            message = diagnosis.message() if diagnosis is not None else "; ".join(self.reasons)
        super().__init__("infeasible: " + message)


class SolverError(QuotaOptError):
    """The solver stopped without a usable solution (exit code 4)."""

    exit_code = 4


class OutputError(QuotaOptError):
    """An output could not be written (exit 1): a full disk, a failing device."""

    exit_code = 1
