"""When no plan exists: the total that would work, the settings that would carry the asked one.

A plan fails (exit 3) with ``allocation.strict: true`` when a limit cannot hold, or in
any mode when no plan exists at the hard limits. The message is short and actionable
(:meth:`Diagnosis.message`); the detail per unit goes to a table the caller writes to a
file (:attr:`Diagnosis.details`).

- **The totals that work.** Unit bands scale with the company total (top-down shares
  are affine in it), so "the largest company total the limits carry" is one more small
  MILP: stage A with the total as a variable and bands widened by one unit (a
  relaxation of the rounded bands). Its optimum is then checked with the real stage A,
  and stepped down (up) until it holds: the total reported is one that works.
- **The settings that would carry the asked total.** The elastic model says which
  families would have to give; for each, the smallest change of that one setting that
  makes the asked total feasible is found by exponential search and bisection on a
  grid (stretch in 0.01, flex in 0.1%, max_change and ka_share in 1%), each step a
  stage-A feasibility solve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from quotaopt.allocation.backends import get_backend
from quotaopt.allocation.bounds import rep_bounds
from quotaopt.allocation.decompose import StageInfeasible, checked
from quotaopt.allocation.elastic import elastic_problem, given, layers
from quotaopt.allocation.explain import amount, precheck, rep_conflicts
from quotaopt.allocation.inputs import Prepared, RepLimits, ka_bounds_of
from quotaopt.allocation.problem import Builder, Problem, SolveOptions
from quotaopt.allocation.targets import (
    Pools,
    Shares,
    define_tree_constraints,
    pools,
    shares,
    unit_totals_problem,
)
from quotaopt.errors import SolverError
from quotaopt.scenario import AllocationConfig

#: Most stage-A solves one setting's search may take.
_MAX_STEPS = 24
#: Largest grid step tried (stretch +10, max_change +1000%, flex and ka_share end at 1 or 0 before).
_MAX_GRID = 1024
#: Weight of hard slack in the hard-limit explanation (far above every soft family).
_HARD = 1000.0


@dataclass
class Diagnosis:
    """Why no plan exists, and what would make one.

    Attributes
    ----------
    root : str
        The company (root unit) id.
    asked : float
        The total asked for (currency; the sum of rep quotas).
    largest, smallest : float or None
        The largest / smallest total that works at these limits, when the asked one is
        above / below every total that does; None when that side is not the problem or
        no total works.
    settings : list of str
        Settings each of which alone would carry the asked total, e.g. ``stretch <= 1.42``.
    reasons : list of str
        Every reason found, in business words (largest first).
    details : DataFrame
        One row per unit (and per rep in conflict): what it must carry, what its reps can,
        and what would have to give.
    """

    root: str
    asked: float
    largest: float | None
    smallest: float | None
    settings: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    details: pd.DataFrame = field(default_factory=pd.DataFrame)

    def message(self, growth: Callable[[float], str | None] | None = None, details: str | None = None) -> str:
        """The short line for a user: what works, what would carry the asked total, where the detail is.

        ``growth`` turns a total into a growth text (e.g. '+6.8% growth'); ``details`` is
        the path of the detail file.
        """
        other = self.largest if self.largest is not None else self.smallest
        digits = 3
        while other is not None and digits < 9 and _sig(self.asked, digits) == _sig(other, digits):
            digits += 1

        def money(value: float) -> str:
            text = growth(value) if growth is not None else None
            shown = _sig(value, digits)
            return f"{shown} ({text})" if text else shown

        parts = [f"company {self.root}: {money(self.asked)} cannot be planned within the limits"]
        if self.largest is not None:
            parts[0] += f"; the most that works is {money(self.largest)}"
        elif self.smallest is not None:
            parts[0] += f"; the least that works is {money(self.smallest)}"
        elif self.reasons:
            first = self.reasons[0]
            parts[0] += ": " + (first if len(first) <= 160 else first[:157] + "...")
        if self.settings:
            parts.append(f"{' or '.join(self.settings[:2])} would carry {_sig(self.asked, digits)}")
        if details:
            parts.append(f"details: {details}")
        return ". ".join(parts)


def _sig(value: float, digits: int) -> str:
    """An amount in k / M / B with ``digits`` significant digits (12345678, 4 -> '12.35M')."""
    v = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{v / size:.{digits}g}{suffix}"
    return f"{v:.{digits}g}"


def _with_config(prep: Prepared, config: AllocationConfig) -> Prepared:
    """The same reps and tree under other allocation settings."""
    bounds = rep_bounds(prep.p50, prep.fte, prep.last, prep.locked, prep.ramp, prep.ramp_ref, config,
                        prep.full_year)
    return replace(prep, config=config, bounds=bounds, limits=RepLimits.of(config, prep.n_reps),
                   ka_bounds=ka_bounds_of(config, prep.tree.n))


class _Checker:
    """Is there a plan at these settings and this total? (stage A feasibility, counted)."""

    def __init__(self, backend: str, options: SolveOptions) -> None:
        self.solve = get_backend(backend)
        self.backend = backend
        self.options = replace(options, mip_gap=1.0)  # any feasible point answers the question
        self.calls = 0

    def __call__(self, prep: Prepared) -> bool:
        self.calls += 1
        pool = pools(prep)
        share = shares(prep, pool)
        if precheck(prep, pool, share):
            return False
        problem, _ = unit_totals_problem(prep, pool, share)
        try:
            checked(self.solve(problem.with_objective(np.zeros(problem.n_vars)), self.options), "a check",
                    self.backend)
        except StageInfeasible:
            return False
        return True


def _affine_shares(prep: Prepared, pool: Pools) -> tuple[Shares, Shares]:
    """Unit and pool shares as ``alpha + beta x company`` (both as Shares: alpha, beta)."""
    c1 = max(float(prep.company), 1.0)
    s1 = shares(replace(prep, company=c1), pool)  # type: ignore[arg-type]
    s2 = shares(replace(prep, company=2.0 * c1), pool)  # type: ignore[arg-type]
    beta_u, beta_p = (s2.unit - s1.unit) / c1, (s2.pool - s1.pool) / c1
    return (replace(s1, unit=s1.unit - beta_u * c1, pool=s1.pool - beta_p * c1),
            replace(s1, unit=beta_u, pool=beta_p))


def _total_bound(prep: Prepared, pool: Pools, backend: str, options: SolveOptions, largest: bool) -> float | None:
    """The largest (smallest) company total stage A admits with bands widened by one unit."""
    alpha, beta = _affine_shares(prep, pool)
    tree, flex = prep.tree, prep.config.flex
    n = tree.n
    fixed = np.isfinite(tree.fixed)
    open_lo = np.where(fixed, tree.fixed, -np.inf)
    open_hi = np.where(fixed, tree.fixed, np.inf)
    open_lo[0], open_hi[0] = -np.inf, np.inf
    open_share = replace(alpha, lo=open_lo, hi=open_hi, pool_lo=np.full(n, -np.inf), pool_hi=np.full(n, np.inf))
    b = Builder()
    T, K, L, _ = define_tree_constraints(b, prep, pool, open_share)
    C = b.add_vars("C", 1, 0.0, np.inf, integer=True, cost=-1.0 if largest else 1.0)
    b.add_rows("root", 1, np.zeros(2, dtype=np.int64), np.array([T[0], C[0]]), np.array([1.0, -1.0]), 0.0, 0.0)
    free = np.flatnonzero(~fixed)
    free = free[free != 0]
    for name, lo_f, hi_f, sel, cols in (
            ("band", 1 - flex, 1 + flex, free, [T[free]]),
            ("pool", 1 - flex, 1 + flex, np.flatnonzero(alpha.has_children & (pool.n_reps > 0)), None)):
        if sel.size == 0:
            continue
        a = alpha.unit[sel] if name == "band" else alpha.pool[sel]
        g = beta.unit[sel] if name == "band" else beta.pool[sel]
        local = np.arange(sel.size)
        if cols is None:
            rows = np.repeat(local, 3)
            terms = np.stack([K[sel], L[sel], np.full(sel.size, C[0])], 1).ravel()
            lo_vals = np.stack([np.ones(sel.size), np.ones(sel.size), -lo_f * g], 1).ravel()
            hi_vals = np.stack([np.ones(sel.size), np.ones(sel.size), -hi_f * g], 1).ravel()
        else:
            rows = np.repeat(local, 2)
            terms = np.stack([T[sel], np.full(sel.size, C[0])], 1).ravel()
            lo_vals = np.stack([np.ones(sel.size), -lo_f * g], 1).ravel()
            hi_vals = np.stack([np.ones(sel.size), -hi_f * g], 1).ravel()
        b.add_rows(f"{name}_lo", sel.size, rows, terms, lo_vals, lo_f * a - 1.0, np.inf)
        b.add_rows(f"{name}_hi", sel.size, rows, terms, hi_vals, -np.inf, hi_f * a + 1.0)
    problem: Problem = b.build()
    solution = get_backend(backend)(problem, replace(options, mip_gap=0.0))
    if solution.status == "infeasible" or not solution.usable or solution.x is None:
        return None
    value = float(solution.x[C[0]])
    return float(np.floor(value + 1e-6) if largest else np.ceil(value - 1e-6))


def _verified_total(prep: Prepared, start: float, largest: bool, works: _Checker) -> float | None:
    """Step from ``start`` (an upper / lower bound) towards the inside until a total works."""
    sign = -1.0 if largest else 1.0

    def ok(total: float) -> bool:
        return total >= 0 and works(replace(prep, company=int(total)))

    if ok(start):
        return start
    step, bad = 1.0, start
    good = None
    for _ in range(_MAX_STEPS):
        candidate = start + sign * step
        if candidate < 0:
            break
        if ok(candidate):
            good = candidate
            break
        bad, step = candidate, step * 2
    if good is None:
        return None
    while abs(good - bad) > 1:
        mid = float(np.floor((good + bad) / 2))
        if ok(mid):
            good = mid
        else:
            bad = mid
    return good


@dataclass(frozen=True)
class _Setting:
    """One setting to search: how a grid step k changes the config, and how to say it."""

    side: str
    make: Callable[[AllocationConfig, int], AllocationConfig | None]
    say: Callable[[AllocationConfig], str]


def _settings(cfg: AllocationConfig) -> dict[str, _Setting]:
    s_lo, s_hi = cfg.stretch
    out = {
        "stretch_max": _Setting("stretch_max", lambda c, k: c.model_copy(update={"stretch": (s_lo, s_hi + 0.01 * k)}),
                                lambda c: f"stretch <= {c.stretch[1]:.2f}"),
        "stretch_min": _Setting("stretch_min", lambda c, k: c.model_copy(update={"stretch": (s_lo - 0.01 * k, s_hi)})
                                if s_lo - 0.01 * k >= -1e-12 else None, lambda c: f"stretch >= {c.stretch[0]:.2f}"),
        "flex": _Setting("flex", lambda c, k: c.model_copy(update={"flex": cfg.flex + 0.001 * k})
                         if cfg.flex + 0.001 * k <= 1 + 1e-12 else None, lambda c: f"flex {c.flex:.1%}"),
    }
    if cfg.max_change is not None:
        m = cfg.max_change
        out["max_change"] = _Setting("max_change", lambda c, k: c.model_copy(update={"max_change": m + 0.01 * k}),
                                     lambda c: f"max_change {c.max_change:.0%}")
    if cfg.ka_share is not None:
        a, b = cfg.ka_share
        out["ka_share_min"] = _Setting("ka_share_min", lambda c, k: c.model_copy(
            update={"ka_share": (a - 0.01 * k, b)}) if a - 0.01 * k >= -1e-12 else None,
            lambda c: f"ka_share >= {c.ka_share[0]:.0%}" if c.ka_share else "")
        out["ka_share_max"] = _Setting("ka_share_max", lambda c, k: c.model_copy(
            update={"ka_share": (a, b + 0.01 * k)}) if b + 0.01 * k <= 1 + 1e-12 else None,
            lambda c: f"ka_share <= {c.ka_share[1]:.0%}" if c.ka_share else "")
    return out


def _smallest_change(prep: Prepared, setting: _Setting, works: _Checker) -> str | None:
    """The least grid change of one setting that makes the asked total work (None: none does)."""
    cfg = prep.config

    def ok(k: int) -> bool | None:
        new = setting.make(cfg, k)
        return None if new is None else works(_with_config(prep, new))

    k, bad = 1, 0
    while True:
        result = ok(k)
        if result is None:
            return None
        if result:
            break
        bad, k = k, k * 2
        if k > _MAX_GRID or works.calls > 4 * _MAX_STEPS:
            return None
    while k - bad > 1:
        mid = (k + bad) // 2
        if ok(mid):
            k = mid
        else:
            bad = mid
    new = setting.make(cfg, k)
    return None if new is None else setting.say(new)


_SIDE_TO_SETTING = {"stretch_max": "stretch_max", "stretch_min": "stretch_min", "flex_below": "flex",
                    "flex_above": "flex", "max_change_up": "max_change", "max_change_down": "max_change",
                    "ka_share_min": "ka_share_min", "ka_share_max": "ka_share_max"}


def _unit_table(prep: Prepared, pool: Pools, share: Shares) -> pd.DataFrame:
    """What every unit must carry against what its reps can (currency)."""
    tree, unit = prep.tree, prep.unit
    least = tree.subtree_sum((pool.lo_ka + pool.lo_lt).astype(float)) * unit
    most = tree.subtree_sum((pool.hi_ka + pool.hi_lt).astype(float)) * unit
    parent = np.where(tree.parent >= 0, tree.ids[np.maximum(tree.parent, 0)], None)
    reps = tree.subtree_sum(pool.n_reps.astype(float)).astype(np.int64)
    lo, hi = share.lo * unit, share.hi * unit
    return pd.DataFrame({
        "unit_id": tree.ids, "parent_id": parent, "level": tree.level, "reps": reps,
        "top_down_share": np.round(share.unit * unit, 2), "allowed_low": lo, "allowed_high": hi,
        "reps_carry_least": least, "reps_carry_most": most,
        "short_by": np.maximum(lo - most, 0.0), "over_by": np.maximum(least - hi, 0.0),
    })


def _gives(prep: Prepared, x: np.ndarray, slack: object) -> tuple[list[str], dict[int, list[str]]]:
    """What the elastic solution had to give, per unit, in words (largest first)."""
    from quotaopt.allocation.elastic import Slack

    assert isinstance(slack, Slack)
    unit, cfg = prep.unit, prep.config
    s_lo, s_hi = cfg.stretch
    mc = f"max_change {cfg.max_change:.0%}" if cfg.max_change is not None else "max_change"
    ka = cfg.ka_share or (0.0, 1.0)
    words = {
        "flex_below": f"its total would fall below its flex {cfg.flex:.0%} band",
        "flex_above": f"its total would rise above its flex {cfg.flex:.0%} band",
        "ka_share_min": f"its ka reps would carry less than ka_share >= {ka[0]:.0%} needs",
        "ka_share_max": f"its ka reps would carry more than ka_share <= {ka[1]:.0%} allows",
        "max_change_up": f"its reps would rise beyond {mc}", "max_change_down": f"its reps would fall beyond {mc}",
        "stretch_max": f"its reps would go above stretch <= {s_hi:g}",
        "stretch_min": f"its reps would go below stretch >= {s_lo:g}",
        "reps_cannot_carry": "its reps cannot carry it even at their hard limits (locks, ramp caps)",
        "reps_must_carry": "its locked quotas are more than it may carry",
        "company_total_lower": "the company total must fall", "company_total_higher": "the company total must rise",
        "fixed_target_lower": "its fixed target must fall", "fixed_target_higher": "its fixed target must rise",
    }
    company = amount(prep.company * unit)
    words["company_total_lower"] = f"the company total {company} must fall"
    words["company_total_higher"] = f"the company total {company} must rise"
    values = x[slack.col] if slack.col.size else np.zeros(0)
    used = np.flatnonzero(values > 1e-4)
    order = used[np.argsort(-values[used], kind="stable")]
    per_unit: dict[int, list[str]] = {}
    reasons: list[str] = []
    for k in map(int, order):
        u = int(slack.unit[k])
        noun = f"company {prep.tree.ids[u]}" if u == 0 else f"team {prep.tree.ids[u]}"
        side = str(slack.side[k])
        said = words.get(side, side)
        if side.startswith("fixed_target"):
            said = said.replace("its fixed target", f"its fixed target {amount(prep.tree.fixed[u] * unit)}")
        text = f"{said} by {amount(values[k] * unit)}"
        per_unit.setdefault(u, []).append(text)
        reasons.append(f"{noun}: {text}")
    return list(dict.fromkeys(reasons)), per_unit


def diagnose(prep: Prepared, pool: Pools, share: Shares, backend: str, options: SolveOptions) -> Diagnosis:
    """Why the plan at ``prep``'s limits cannot exist, and what would make one (see module docstring)."""
    solve = get_backend(backend)
    works = _Checker(backend, options)
    table = _unit_table(prep, pool, share)
    conflicts = rep_conflicts(prep)
    reasons = list(conflicts)
    settings: list[str] = []
    largest = smallest = None
    sides: dict[str, float] = {}
    per_unit: dict[int, list[str]] = {}
    if not conflicts:
        lay = layers(prep)
        problem, c1, slack = elastic_problem(prep, pool, share, lay)
        soft = solve(problem.with_objective(c1), replace(options, mip_gap=0.0))
        if soft.usable and soft.x is not None:
            sides = given(soft.x, slack)
            found, per_unit = _gives(prep, soft.x, slack)
            reasons += found
            top = _total_bound(prep, pool, backend, options, largest=True)
            bottom = _total_bound(prep, pool, backend, options, largest=False)
            if top is not None and prep.company > top:
                largest = _verified_total(prep, top, True, works)
            elif bottom is not None and prep.company < bottom:
                smallest = _verified_total(prep, bottom, False, works)
        elif soft.status == "infeasible":
            problem, c1, slack = elastic_problem(prep, pool, share, lay, hard_slack=_HARD)
            hard = solve(problem.with_objective(c1), replace(options, mip_gap=0.0))
            if hard.usable and hard.x is not None:
                found, per_unit = _gives(prep, hard.x, slack)
                reasons += found
                # With every soft limit free to give, bands do not bind: the company row's
                # slack is exactly how far the total is from one that works.
                moved = given(hard.x, slack)
                if set(moved) <= {"company_total_lower", "company_total_higher"} and moved:
                    down = moved.get("company_total_lower", 0.0)
                    if down > 0:
                        largest = float(prep.company - np.ceil(down - 1e-6))
                    else:
                        smallest = float(prep.company + np.ceil(moved.get("company_total_higher", 0.0) - 1e-6))
        else:
            raise SolverError(f"{backend} stopped without a usable solution while explaining an infeasible plan "
                              f"({soft.message})")
    reasons += [r for r in precheck(prep, pool, share) if r not in reasons]
    options_by_side = _settings(prep.config)
    tried: list[str] = []
    for side, _ in sorted(sides.items(), key=lambda kv: -kv[1]):
        name = _SIDE_TO_SETTING.get(side)
        if name and name in options_by_side and name not in tried:
            tried.append(name)
    fallback = "stretch_max" if largest is not None or "stretch_max" in sides else "stretch_min"
    if fallback not in tried and sides:
        tried.append(fallback)
    for name in tried:
        if len(settings) == 2:
            break
        said = _smallest_change(prep, options_by_side[name], works)
        if said:
            settings.append(said)
    table["gives_way"] = [", ".join(per_unit.get(u, [])) for u in range(prep.tree.n)]
    unit = prep.unit
    return Diagnosis(str(prep.tree.ids[0]), prep.company * unit, None if largest is None else largest * unit,
                     None if smallest is None else smallest * unit, settings, reasons or
                     ["the allocation problem is infeasible"], table)
