"""Turn the caller's frames into the arrays every later step reads (scaled units).

Everything downstream works in *scaled units*: amounts divided by ``allocation.unit``,
so quotas are integers and coefficients stay within a few orders of magnitude.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from quotaopt.allocation.bounds import (
    RepBounds,
    full_year_last,
    ramp_factor,
    ramp_reference,
    rep_bounds,
)
from quotaopt.errors import InputError, Problem
from quotaopt.money import MAX_UNITS
from quotaopt.org_tree import OrgTree
from quotaopt.scenario import AllocationConfig

REP_COLUMNS = ("rep_id", "team_id", "role", "fte", "hire_date", "last_quota", "locked_quota",
               "capacity_p10", "capacity_p50", "capacity_p90")
TEAM_COLUMNS = ("team_id", "parent_id", "target")


@dataclass
class Tree:
    """The unit tree (:class:`quotaopt.org_tree.OrgTree`, root first) with each unit's fixed target."""

    org: OrgTree
    target: np.ndarray  # fixed target in currency (NaN = not fixed); the root's is ignored
    fixed: np.ndarray  # fixed target in scaled units, rounded to a whole number (NaN = none)

    @property
    def ids(self) -> np.ndarray:
        """Unit ids (object array), tree order."""
        return self.org.ids

    @property
    def parent(self) -> np.ndarray:
        """Parent positions (int64), -1 for the root."""
        return self.org.parent

    @property
    def level(self) -> np.ndarray:
        """Depths (int64), root 0."""
        return self.org.level

    @property
    def n(self) -> int:
        """Number of units."""
        return self.org.n

    def subtree_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum ``values`` (one per unit) over each unit's subtree."""
        return self.org.subtree_sum(values)


@dataclass
class RepLimits:
    """The soft limits each rep's bounds stand for, per rep (relaxed ones after an elastic solve).

    Verification checks quotas against these, so a relaxed plan is checked against exactly
    the limits it was solved under. ``change_dn`` / ``change_up`` are the allowed fall and
    rise against last quota as fractions (``inf``: no limit).
    """

    stretch_lo: np.ndarray
    stretch_hi: np.ndarray
    change_dn: np.ndarray
    change_up: np.ndarray

    @classmethod
    def of(cls, config: AllocationConfig, n: int) -> RepLimits:
        """Every rep at the scenario's limits."""
        change = np.inf if config.max_change is None else config.max_change
        return cls(np.full(n, config.stretch[0]), np.full(n, config.stretch[1]), np.full(n, change),
                   np.full(n, change))


def ka_bounds_of(config: AllocationConfig, n_units: int) -> np.ndarray:
    """Per unit ``[low, high]`` of ka_share (NaN rows: no ka_share), shape (n_units, 2)."""
    share = config.ka_share
    return np.tile(np.array(share if share is not None else (np.nan, np.nan), dtype=float), (n_units, 1))


@dataclass
class Prepared:
    """All inputs of one allocation as aligned arrays (reps in the caller's order)."""

    tree: Tree
    unit: float
    config: AllocationConfig
    company_requested: float
    company: int  # scaled units
    rep_ids: np.ndarray
    rep_unit: np.ndarray  # int64 index into tree
    ka: np.ndarray  # bool
    fte: np.ndarray
    p10: np.ndarray  # scaled units
    p50: np.ndarray
    p90: np.ndarray
    last: np.ndarray  # scaled units, NaN = none (as given)
    full_year: np.ndarray  # bool: fully ramped all of plan_year - 1, so last_quota is comparable
    locked: np.ndarray  # scaled units, NaN = not locked
    ramp: np.ndarray  # r in [0, 1]
    ramp_ref: np.ndarray  # scaled units per fte
    bounds: RepBounds
    limits: RepLimits  # the limits ``bounds`` stand for (the scenario's, or relaxed ones)
    ka_bounds: np.ndarray  # per unit [low, high] of ka_share, NaN = none (relaxed per unit after an elastic solve)
    max_quota: np.ndarray | None = None  # scaled units, NaN = no ceiling (optional column)

    @property
    def n_reps(self) -> int:
        """Number of reps."""
        return int(self.rep_ids.size)

    @property
    def last_ref(self) -> np.ndarray:
        """Last quota where it is a full year's quota (max_change, change penalty); NaN elsewhere."""
        return np.where(self.full_year, self.last, np.nan)

    @property
    def is_locked(self) -> np.ndarray:
        """True for reps with a locked quota."""
        return cast("np.ndarray", np.isfinite(self.locked))


def build_tree(teams: pd.DataFrame, unit: float, org: OrgTree | None = None) -> Tree:
    """Validate the team table and order it root first (``org``: the tree already built from it).

    Raises
    ------
    InputError
        Missing columns, duplicate ids, not exactly one root, unknown parents, cycles or a
        negative target.
    """
    org = OrgTree.from_table(teams) if org is None else org
    ids, order = org.ids, org.rows
    target = (pd.to_numeric(teams["target"], errors="coerce").to_numpy(dtype=float)[order]
              if "target" in teams.columns else np.full(org.n, np.nan))
    bad = np.flatnonzero(np.isfinite(target) & (target < 0))
    if bad.size:
        raise InputError([Problem("teams.csv", f"target of team {ids[bad[0]]!r} is negative ({target[bad[0]]:g})", column="target")])
    target = np.where(np.isinf(target), np.nan, target)
    fixed = np.floor(target / unit + 0.5)
    fixed[0] = np.nan  # the root's total is the company total
    return Tree(org, target, fixed)


def _column(reps: pd.DataFrame, name: str, problems: list[Problem], positive: bool = False) -> np.ndarray:
    values = pd.to_numeric(reps[name], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values) | ((values <= 0) if positive else False))
    if bad.size:
        rid = reps["rep_id"].iloc[bad[0]]
        what = "a finite number > 0" if positive else "a finite number"
        value = values[bad[0]]
        found = "missing" if np.isnan(value) else f"{value:.15g}"
        problems.append(Problem("reps", f"rep {rid}: {name} is {found}, expected {what}", column=name))
    return values


def prepare(reps: pd.DataFrame, teams: pd.DataFrame, company_total: float, config: AllocationConfig,
            plan_year: int, org: OrgTree | None = None) -> Prepared:
    """Validate the inputs of :func:`~quotaopt.allocation.allocate` and build :class:`Prepared`.

    Raises
    ------
    InputError
        One problem per bad column or value, naming the rep or team.
    """
    unit = float(config.unit)
    tree = build_tree(teams, unit, org)
    missing = [c for c in REP_COLUMNS if c not in reps.columns]
    if missing:
        raise InputError([Problem("reps", f"missing column(s) {missing}")])
    if not np.isfinite(company_total) or company_total < 0:
        raise InputError([Problem("scenario", f"company total must be a finite amount >= 0, got {company_total!r}", column="target")])
    if company_total / unit > MAX_UNITS:  # counts must stay exact integers, coefficients within reach of a solver
        raise InputError([Problem("scenario", f"allocation.unit {unit:g} is too fine for a company total of "
                                  f"{company_total:,.0f}: {company_total / unit:.3g} units, at most {MAX_UNITS:.0e} "
                                  f"(use a unit of at least {company_total / MAX_UNITS:.2g})", column="allocation.unit")])
    problems: list[Problem] = []
    rep_ids = reps["rep_id"].astype(str).to_numpy(dtype=object)
    if pd.Index(rep_ids).has_duplicates:
        problems.append(Problem("reps", f"rep_id {pd.Index(rep_ids)[pd.Index(rep_ids).duplicated()][0]!r} appears more than once", column="rep_id"))
    index = pd.Index(tree.ids)
    rep_unit = index.get_indexer(reps["team_id"].astype(str).to_numpy(dtype=object))
    if (rep_unit < 0).any():
        i = int(np.flatnonzero(rep_unit < 0)[0])
        problems.append(Problem("reps", f"rep {rep_ids[i]}: team_id {reps['team_id'].iloc[i]!r} is not a team", column="team_id"))
    role = reps["role"].astype(str).to_numpy(dtype=object)
    bad_role = ~np.isin(role, ["ka", "longtail"])
    if bad_role.any():
        i = int(np.flatnonzero(bad_role)[0])
        problems.append(Problem("reps", f"rep {rep_ids[i]}: role {role[i]!r}, expected 'ka' or 'longtail'", column="role"))
    p10, p50, p90 = (_column(reps, f"capacity_{q}", problems, positive=True) for q in ("p10", "p50", "p90"))
    fte = _column(reps, "fte", problems, positive=True)
    if (fte > 1 + 1e-12).any():
        i = int(np.flatnonzero(fte > 1 + 1e-12)[0])
        problems.append(Problem("reps", f"rep {rep_ids[i]}: fte {fte[i]:g} is above 1", column="fte"))
    last = pd.to_numeric(reps["last_quota"], errors="coerce").to_numpy(dtype=float)
    locked = pd.to_numeric(reps["locked_quota"], errors="coerce").to_numpy(dtype=float)
    # Optional: a ceiling per rep set by the caller (a re-plan's no-ratchet rule).
    max_quota = (pd.to_numeric(reps["max_quota"], errors="coerce").to_numpy(dtype=float)
                 if "max_quota" in reps.columns else np.full(len(reps), np.nan))
    for name, values in (("last_quota", last), ("locked_quota", locked), ("max_quota", max_quota)):
        bad = np.flatnonzero(np.isinf(values) | (values < 0))
        if bad.size:
            problems.append(Problem("reps", f"rep {rep_ids[bad[0]]}: {name} {values[bad[0]]:.15g} is not an amount >= 0", column=name))
    off_grid = np.isfinite(locked) & (np.abs(locked / unit - np.rint(locked / unit)) > 1e-6)
    if off_grid.any():
        i = int(np.flatnonzero(off_grid)[0])
        problems.append(Problem("reps", f"rep {rep_ids[i]}: locked_quota {locked[i]:.15g} is not a whole multiple of allocation.unit {unit:.15g}", column="locked_quota"))
    if problems:
        raise InputError(problems)
    order_ok = (p10 <= p50 * (1 + 1e-9)) & (p50 <= p90 * (1 + 1e-9))
    if not order_ok.all():
        i = int(np.flatnonzero(~order_ok)[0])
        raise InputError([Problem("reps", f"rep {rep_ids[i]}: capacities must satisfy p10 <= p50 <= p90, got {p10[i]:g}, {p50[i]:g}, {p90[i]:g}", column="capacity_p50")])
    ka = role == "ka"
    r = ramp_factor(reps["hire_date"], plan_year, config.ramp)
    ref = ramp_reference(p50 / unit, fte, ka, r)
    full_year = full_year_last(reps["hire_date"], plan_year, len(config.ramp))
    bounds = rep_bounds(p50 / unit, fte, last / unit, locked / unit, r, ref, config, full_year, max_quota / unit)
    return Prepared(
        tree=tree, unit=unit, config=config, company_requested=float(company_total),
        company=int(np.floor(company_total / unit + 0.5)), rep_ids=rep_ids, rep_unit=rep_unit.astype(np.int64),
        ka=ka, fte=fte, p10=p10 / unit, p50=p50 / unit, p90=p90 / unit, last=last / unit, full_year=full_year,
        locked=locked / unit,
        ramp=r, ramp_ref=ref, bounds=bounds, limits=RepLimits.of(config, rep_ids.size),
        ka_bounds=ka_bounds_of(config, tree.n), max_quota=max_quota / unit,
    )
