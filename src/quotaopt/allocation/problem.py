"""A solver-independent mixed-integer linear problem, held as arrays.

The model is built once, in bulk, as numpy arrays and one ``scipy.sparse`` matrix;
every backend reads the same object and none mutates it (the linopy habit). Stages
of a lexicographic solve derive new problems with :meth:`Problem.with_objective`
and :meth:`Problem.with_col_bounds` instead of editing in place.

Conventions: minimise ``c @ x + offset`` subject to ``row_lo <= A @ x <= row_hi``
and ``col_lo <= x <= col_hi``; ``integer[j]`` marks integer columns. An infinite
bound means "no bound on that side"; NaN is never allowed, nor any infinity in
``c`` or ``A``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import scipy.sparse as sp

Status = Literal["optimal", "feasible", "infeasible", "error"]
#: Our statuses, best first. ``feasible`` = a usable solution not proven within the gap.
STATUSES: tuple[Status, ...] = ("optimal", "feasible", "infeasible", "error")


def _vector(name: str, value: object, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.shape != (n,):
        raise ValueError(f"{name} has length {arr.shape[0]}, expected {n}")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN at position {int(np.flatnonzero(np.isnan(arr))[0])}")
    return arr


@dataclass(frozen=True, eq=False)
class Problem:
    """Minimise ``c @ x + offset`` s.t. ``row_lo <= A x <= row_hi``, ``col_lo <= x <= col_hi``.

    Parameters
    ----------
    c : ndarray, shape (n,)
        Objective coefficients (finite).
    A : scipy.sparse matrix, shape (m, n)
        Constraint matrix; stored as CSR with finite entries.
    row_lo, row_hi : ndarray, shape (m,)
        Row bounds; ``-inf`` / ``+inf`` mean no bound on that side.
    col_lo, col_hi : ndarray, shape (n,)
        Column bounds, same convention.
    integer : ndarray of bool, shape (n,)
        True for integer columns.
    offset : float
        Constant added to the objective.
    names : dict, optional
        Named index ranges (``{"q": slice(0, 10), ...}``) for the code that built the
        problem to read its solution back; backends ignore it.
    start : ndarray, shape (n,), optional
        A feasible point a backend may start a MILP from (HiGHS takes it as its first
        incumbent; the others ignore it). It never changes what counts as optimal.

    Raises
    ------
    ValueError
        On a shape mismatch, NaN anywhere, an infinity in ``c`` or ``A``, a lower
        bound of ``+inf``, an upper bound of ``-inf`` or a lower bound above an upper one.
    """

    c: np.ndarray
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray
    offset: float = 0.0
    names: dict[str, slice] = field(default_factory=dict)
    start: np.ndarray | None = None

    def __post_init__(self) -> None:
        A = sp.csr_matrix(self.A, dtype=np.float64)
        A.sum_duplicates()
        A.eliminate_zeros()  # explicit zeros only make solvers warn about tiny entries
        m, n = A.shape
        c = _vector("c", self.c, n)
        if not np.isfinite(c).all():
            raise ValueError("objective coefficients must be finite")
        if not np.isfinite(A.data).all():
            raise ValueError("constraint matrix entries must be finite")
        if not np.isfinite(self.offset):
            raise ValueError("objective offset must be finite")
        bounds = {}
        for name, size in (("row_lo", m), ("row_hi", m), ("col_lo", n), ("col_hi", n)):
            bounds[name] = _vector(name, getattr(self, name), size)
        for lo_name, hi_name in (("row_lo", "row_hi"), ("col_lo", "col_hi")):
            lo, hi = bounds[lo_name], bounds[hi_name]
            if np.isposinf(lo).any() or np.isneginf(hi).any():
                raise ValueError(f"{lo_name} may not be +inf and {hi_name} may not be -inf")
            bad = np.flatnonzero(lo > hi)
            if bad.size:
                j = int(bad[0])
                raise ValueError(f"{lo_name}[{j}] = {lo[j]} is above {hi_name}[{j}] = {hi[j]}")
        integer = np.asarray(self.integer, dtype=bool).reshape(-1)
        if integer.shape != (n,):
            raise ValueError(f"integer has length {integer.shape[0]}, expected {n}")
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "c", c)
        object.__setattr__(self, "integer", integer)
        object.__setattr__(self, "offset", float(self.offset))
        if self.start is not None:
            object.__setattr__(self, "start", _vector("start", self.start, n))
        for name, value in bounds.items():
            object.__setattr__(self, name, value)

    @property
    def n_vars(self) -> int:
        """Number of columns."""
        return int(self.A.shape[1])

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.A.shape[0])

    def with_objective(self, c: np.ndarray, offset: float = 0.0) -> Problem:
        """The same constraints with another objective."""
        return replace(self, c=c, offset=offset)

    def with_col_bounds(self, col_lo: np.ndarray, col_hi: np.ndarray) -> Problem:
        """The same problem with other column bounds."""
        return replace(self, col_lo=col_lo, col_hi=col_hi)

    def with_rows(self, A: sp.spmatrix, row_lo: np.ndarray, row_hi: np.ndarray) -> Problem:
        """The same problem with more rows appended (e.g. an objective held from an earlier solve)."""
        return replace(self, A=sp.vstack([self.A, sp.csr_matrix(A)]).tocsr(),
                       row_lo=np.concatenate([self.row_lo, row_lo]), row_hi=np.concatenate([self.row_hi, row_hi]))

    def objective_value(self, x: np.ndarray) -> float:
        """Objective at ``x``."""
        return float(self.c @ x + self.offset)


@dataclass(frozen=True)
class SolveOptions:
    """What every backend is told: limits and reproducibility settings.

    Parameters
    ----------
    time_limit : float
        Seconds for one solve.
    mip_gap : float
        Relative MIP gap at which a solve stops and counts as optimal.
    threads : int
        Solver threads (fixed, so results reproduce).
    seed : int
        Solver random seed (fixed, so results reproduce).
    lp_algorithm : {"ipm", "simplex"}
        How a backend that can choose solves a pure LP (HiGHS): interior point for the
        elastic model's large LP with near-tied columns, dual simplex for many small ones
        (the assignment's relaxations: 5 ms against 10-20 ms each).
    presolve : bool
        Whether a backend that can choose presolves (HiGHS). Off for the assignment's
        small relaxations: 35% less time on 80 groups at 10,000 reps, same bounds.
    scale : bool
        Whether a backend that can choose scales the model's rows and columns for the
        simplex (HiGHS). Off for the assignment's relaxations, already in units of their
        group's mean account: 33% less simplex time (17% fewer iterations) on 101 groups at
        10,000 reps, same bounds.
    """

    time_limit: float = 60.0
    mip_gap: float = 1e-4
    threads: int = 1
    seed: int = 0
    lp_algorithm: Literal["ipm", "simplex"] = "ipm"
    presolve: bool = True
    scale: bool = True


@dataclass
class Solution:
    """What a backend hands back, already in our vocabulary.

    ``x`` is set only when ``status`` is ``optimal`` or ``feasible``. ``bound`` is the
    best proven lower bound of the objective; ``gap`` is ``(objective - bound) /
    max(|objective|, 1e-9)`` as the solver reports it (0 when optimal to tolerance).
    """

    status: Status
    x: np.ndarray | None = None
    objective: float = float("nan")
    bound: float = float("nan")
    gap: float = float("nan")
    time_s: float = 0.0
    message: str = ""

    @property
    def usable(self) -> bool:
        """True when the solution holds values we may read."""
        return self.status in ("optimal", "feasible") and self.x is not None


def relative_gap(objective: float, bound: float) -> float:
    """``(objective - bound) / max(|objective|, 1e-9)``, clipped at 0 (minimisation)."""
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf")
    return max(0.0, (objective - bound) / max(abs(objective), 1e-9))


class Builder:
    """Collect variable blocks and row blocks as arrays, then make one :class:`Problem`.

    Rows are added in bulk as COO triplets with block-local row numbers, so a model
    of 100,000 reps is a handful of numpy calls, not a loop of Python objects.
    """

    def __init__(self) -> None:
        self.n = 0
        self.m = 0
        self._cols: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._row_bounds: list[tuple[np.ndarray, np.ndarray]] = []
        self.names: dict[str, slice] = {}
        self.row_names: dict[str, slice] = {}

    def add_vars(self, name: str, size: int, lo: object = 0.0, hi: object = np.inf,
                 integer: bool = False, cost: object = 0.0) -> np.ndarray:
        """Add ``size`` columns; returns their indices."""
        idx = np.arange(self.n, self.n + size)
        full = np.broadcast_to
        self._cols.append((
            full(np.asarray(lo, dtype=float), (size,)).copy(),
            full(np.asarray(hi, dtype=float), (size,)).copy(),
            np.full(size, integer, dtype=bool),
            full(np.asarray(cost, dtype=float), (size,)).copy(),
        ))
        self.names[name] = slice(self.n, self.n + size)
        self.n += size
        return idx

    def add_rows(self, name: str, size: int, row: np.ndarray, col: np.ndarray, val: object,
                 lo: object, hi: object) -> np.ndarray:
        """Add ``size`` rows from triplets (``row`` is block-local, 0..size-1); returns their indices."""
        row = np.asarray(row, dtype=np.int64)
        col = np.asarray(col, dtype=np.int64)
        vals = np.broadcast_to(np.asarray(val, dtype=float), row.shape).copy()
        self._rows.append((row + self.m, col, vals))
        self._row_bounds.append((
            np.broadcast_to(np.asarray(lo, dtype=float), (size,)).copy(),
            np.broadcast_to(np.asarray(hi, dtype=float), (size,)).copy(),
        ))
        self.row_names[name] = slice(self.m, self.m + size)
        self.m += size
        return np.arange(self.m - size, self.m)

    def add_terms(self, row: np.ndarray, col: np.ndarray, val: object) -> None:
        """Add entries to rows that already exist (global row indices)."""
        row = np.asarray(row, dtype=np.int64)
        vals = np.broadcast_to(np.asarray(val, dtype=float), row.shape).copy()
        self._rows.append((row, np.asarray(col, dtype=np.int64), vals))

    def build(self) -> Problem:
        """The :class:`Problem` of everything added so far."""
        def cat(parts: list[np.ndarray], dtype: type = float) -> np.ndarray:
            return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

        lo, hi, integer, cost = (cat([c[k] for c in self._cols]) for k in range(4))
        rows = cat([r[0] for r in self._rows], np.int64).astype(np.int64)
        cols = cat([r[1] for r in self._rows], np.int64).astype(np.int64)
        vals = cat([r[2] for r in self._rows])
        A = sp.csr_matrix((vals, (rows, cols)), shape=(self.m, self.n))
        return Problem(
            c=cost, A=A, row_lo=cat([b[0] for b in self._row_bounds]),
            row_hi=cat([b[1] for b in self._row_bounds]), col_lo=lo, col_hi=hi,
            integer=integer.astype(bool), names=dict(self.names),
        )
