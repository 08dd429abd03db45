"""How the solver did on one allocation, as one typed record (summary.json ``solver``).

Status and termination are kept apart: ``status`` is ours (``optimal`` only when the
solver proved it to tolerance, ``feasible`` for a usable solution without that proof,
e.g. at a time limit), ``termination`` is each backend's own words for why it stopped.
Timings vary from run to run, so :meth:`SolverReport.record` (what ``summary.json``
holds) leaves them out; they go to the manifest (:meth:`SolveTimings.record`).
"""

from __future__ import annotations

from dataclasses import dataclass

from quotaopt.allocation.problem import Status

#: One value of summary.json's ``solver`` record.
RecordValue = str | int | float | dict[str, float]


@dataclass(frozen=True)
class ProblemSizes:
    """Columns and rows over every model solved, and how many models."""

    n_vars: int
    n_rows: int
    n_solves: int


@dataclass(frozen=True)
class SolveTimings:
    """Seconds: the whole allocation, building our arrays, inside the backends."""

    time_s: float
    build_s: float
    solve_s: float

    def record(self) -> dict[str, float]:
        """The manifest's ``timings_s`` entries (``solver_time_s``, ``solver_build_s``, ``solver_solve_s``)."""
        return {"solver_time_s": float(self.time_s), "solver_build_s": float(self.build_s),
                "solver_solve_s": float(self.solve_s)}


@dataclass(frozen=True)
class SolverReport:
    """How the solver did: status, why it stopped, objective, bound, gap, sizes, timings.

    Attributes
    ----------
    backend : str
        The backend of ``allocation.solver.backend`` (stage A and a monolithic model use it).
    status : {'optimal', 'feasible'}
        Ours; a time-limited solve is ``feasible`` with its gap, never ``optimal``.
    termination : tuple of str
        The backends' own termination messages (distinct, at most five).
    objective, bound, gap : float
        Summed over every unit model: the objective (sum over units of the largest
        deviation), the best proven bound, and the relative gap between them.
    sizes : ProblemSizes
    timings : SolveTimings
    mode : {'decomposed', 'monolithic'}
    unit_solver : {'exact', 'milp', 'monolithic'}
    fairness : str
    max_deviation, sum_max_deviation, total_deviation : float
        The plan's fairness deviations (the largest, the sum of each unit's largest, all).
    linearisation_error : float or None
        With ``fairness: chance``: the largest gap between the linearised and the exact deviation.
    elastic : dict or None
        On the elastic path: the money each soft family gave (empty when none had to).
    """

    backend: str
    status: Status
    termination: tuple[str, ...]
    objective: float
    bound: float
    gap: float
    sizes: ProblemSizes
    timings: SolveTimings
    mode: str
    unit_solver: str
    fairness: str
    max_deviation: float
    sum_max_deviation: float
    total_deviation: float
    linearisation_error: float | None = None
    elastic: dict[str, float] | None = None

    def record(self) -> dict[str, RecordValue]:
        """summary.json's ``solver``: everything but the timings and the backends' messages.

        Examples
        --------
        >>> report = SolverReport("highs", "optimal", ("HiGHS: Optimal",), 0.5, 0.5, 0.0, ProblemSizes(10, 4, 1),
        ...                       SolveTimings(0.2, 0.1, 0.1), "decomposed", "exact", "stretch", 0.5, 0.5, 1.0)
        >>> sorted(report.record())[:5]
        ['backend', 'bound', 'fairness', 'gap', 'max_deviation']
        >>> "solve_s" in report.record()
        False
        """
        out: dict[str, RecordValue] = {
            "backend": self.backend, "status": self.status, "objective": float(self.objective),
            "gap": float(self.gap), "bound": float(self.bound), "n_vars": self.sizes.n_vars,
            "n_rows": self.sizes.n_rows, "n_solves": self.sizes.n_solves, "mode": self.mode,
            "unit_solver": self.unit_solver, "fairness": self.fairness, "max_deviation": float(self.max_deviation),
            "sum_max_deviation": float(self.sum_max_deviation), "total_deviation": float(self.total_deviation),
        }
        if self.linearisation_error is not None:
            out["linearisation_error"] = float(self.linearisation_error)
        if self.elastic is not None:
            out["elastic"] = dict(self.elastic)
        return out
