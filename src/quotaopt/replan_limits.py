"""The limits of a re-plan: no ratchet on reps ahead of pace, and what gives way when the rest cannot be carried.

**No ratchet** (``replan.ratchet: none``, the default). A rep at or ahead of pace (actual
>= plan to date, pace rounded as the status colours are) never gets a higher remaining
quota than its plan had: its parent remaining quota becomes a ceiling the allocation
honours (the ``max_quota`` column of :func:`quotaopt.allocation.allocate`, a cap that
outranks stretch and max_change floors). Raising the quota of the reps who deliver, to
cover for the ones who do not, is the ratchet that teaches a sales force to sandbag.
``ratchet: allow`` drops the ceiling.

**What cannot be carried.** A company behind plan that keeps its annual target asks its
reps for more than their remaining capacity at ``stretch`` allows. The allocation's
own elastic mode (soft limits giving way, ``AllocationResult.exceptions``) answers that
where it exists; until then, and only when ``allocation.strict`` is not set, the re-plan
gives way itself, one limit at a time and each only as far as the rest of the year needs
(the least that carries it, found by bisection on the allocation itself), for everyone
alike: ``flex`` widens (unit totals follow their reps), then ``ka_share`` opens, then the
stretch ceiling rises (the reps cannot carry the rest: a company behind plan keeping its
target), or else the stretch floor falls and max_change widens (they must carry more
than the rest: a target recalibrated down). Every limit the plan then breaks is an exception in business words,
in the same record shape as the allocation's. Only hard limits (locked quotas, fixed
unit targets, the ratchet ceiling, whole multiples of ``unit``) can still make a
re-plan infeasible (exit 3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from quotaopt import tracking
from quotaopt.errors import InfeasibleError
from quotaopt.scenario import AllocationConfig

#: Largest factor by which a re-plan opens its rep limits before it calls the rest infeasible.
MAX_FACTOR = 20.0
#: Precision of that factor.
FACTOR_STEP = 1e-3


def ahead_of_pace(plan_to_date: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """True for reps with a plan to date whose actual reaches it (pace >= 1, rounded as the colours are)."""
    pace, _ = tracking.pace_and_status(plan_to_date, actual, red=1.0, green=1.0)
    return np.nan_to_num(pace, nan=0.0) >= 1.0


def ratchet_ceiling(remaining: np.ndarray, ahead: np.ndarray, ratchet: str) -> np.ndarray:
    """The ``max_quota`` of each rep's remaining part: its parent remaining quota where ahead (NaN = none)."""
    if ratchet == "allow":
        return np.full(len(remaining), np.nan)
    return np.where(ahead, np.maximum(remaining, 0.0), np.nan)


def _amount(value: float) -> str:
    from quotaopt.allocation.explain import amount

    return amount(value)


def _record(unit: str | None, rep: str | None, limit: str, allowed: float, used: float, amount: float, reps: int,
            message: str) -> dict[str, Any]:
    """One exception, in the allocation's record shape (summary.json ``exceptions``)."""
    return {"unit": unit, "rep": rep, "limit": limit, "allowed": round(float(allowed), 6),
            "used": round(float(used), 6), "amount": round(float(amount), 2), "reps": int(reps), "message": message}


def limit_exceptions(reps_in: pd.DataFrame, alloc_reps: pd.DataFrame, alloc_units: pd.DataFrame,
                     config: AllocationConfig) -> list[dict[str, Any]]:
    """Every soft limit of ``config`` the remaining quotas break, per team and unit, largest first.

    Stretch is counted on the allocation's capacities (remaining capacity P50) per team:
    the money above ``stretch_high x P50`` of its reps, and the largest stretch used.
    """
    found: list[dict[str, Any]] = []
    quota = alloc_reps.set_index("rep_id")["quota"].reindex(reps_in["rep_id"]).to_numpy(dtype=float)
    p50 = reps_in["capacity_p50"].to_numpy(dtype=float)
    free = ~np.isfinite(pd.to_numeric(reps_in["locked_quota"], errors="coerce").to_numpy(dtype=float))
    hi = config.stretch[1]
    stretch = np.where(free & (p50 > 0), quota / np.maximum(p50, 1e-12), 0.0)
    found += _per_team(reps_in, np.where(free, np.maximum(quota - hi * p50, 0.0), 0.0), "stretch_max", hi, stretch,
                       "carry {amount} more than their remaining capacity at stretch {limit:g} allows: they go to "
                       "stretch up to {used:.2f} on the rest of the year")
    lo = config.stretch[0]
    under = np.where(free, np.maximum(lo * p50 - quota, 0.0), 0.0)
    found += _per_team(reps_in, under, "stretch_min", lo, np.where(free & (p50 > 0), quota / np.maximum(p50, 1e-12), 0),
                       "carry {amount} less than their remaining capacity at stretch {limit:g} asks: they go down "
                       "to stretch {used:.2f} on the rest of the year", lowest=True)
    if config.max_change is not None:
        last = pd.to_numeric(reps_in["last_quota"], errors="coerce").to_numpy(dtype=float)
        has = free & np.isfinite(last) & (last > 0)
        change = np.where(has, quota / np.where(has, last, 1.0) - 1.0, 0.0)
        beyond = np.where(has, np.maximum(np.abs(quota - last) - config.max_change * np.nan_to_num(last), 0.0), 0.0)
        found += _per_team(reps_in, beyond, "max_change", config.max_change, np.abs(change),
                           "move {amount} beyond max_change {limit:.0%} of their remaining quota: by up to "
                           "{used:.0%}")
    units = alloc_units.reset_index(drop=True)
    share = units["share"].to_numpy(dtype=float)
    total = units["quota"].to_numpy(dtype=float)
    fixed = units["target"].notna().to_numpy() | (units["level"].to_numpy() == 0)
    used = np.divide(total, share, out=np.zeros_like(total), where=share > 0) - 1.0
    beyond = ~fixed & (share > 0) & (np.abs(used) > config.flex + 1e-9)
    for i in np.flatnonzero(beyond):
        edge = share[i] * (1.0 + np.sign(used[i]) * config.flex)
        gap = abs(total[i] - edge)
        if gap < 0.5:
            continue  # within rounding of the band's whole-unit edge
        side = "above" if used[i] > 0 else "below"
        found.append(_record(str(units["unit_id"].iloc[i]), None, "flex", config.flex, float(used[i]), gap, 0,
                             f"team {units['unit_id'].iloc[i]} carries {_amount(total[i])} on the rest of the year, "
                             f"{abs(used[i]):.1%} {side} its share of the remaining capacity, beyond flex "
                             f"{config.flex:.0%} by {_amount(gap)}"))
    if config.ka_share is not None:
        found += _ka_exceptions(reps_in, quota, config.ka_share)
    return sorted(found, key=lambda e: (-e["amount"], str(e["unit"])))


def _per_team(reps_in: pd.DataFrame, beyond: np.ndarray, limit: str, allowed: float, used: np.ndarray, text: str,
              lowest: bool = False) -> list[dict[str, Any]]:
    """One exception per team whose reps go ``beyond`` a rep limit (money), with the furthest ``used``."""
    frame = pd.DataFrame({"team": reps_in["team_id"].astype("str").to_numpy(), "beyond": beyond, "used": used})
    out = []
    for team, part in frame[frame["beyond"] > 0.5].groupby("team", sort=True):
        furthest = float(part["used"].min() if lowest else part["used"].max())
        money = float(part["beyond"].sum())
        out.append(_record(str(team), None, limit, allowed, furthest, money, len(part),
                           f"team {team}: {len(part)} rep(s) "
                           + text.format(amount=_amount(money), limit=allowed, used=furthest)))
    return out


def _ka_exceptions(reps_in: pd.DataFrame, quota: np.ndarray, bounds: tuple[float, float]) -> list[dict[str, Any]]:
    frame = pd.DataFrame({"team": reps_in["team_id"].astype("str").to_numpy(), "q": quota,
                          "ka": (reps_in["role"].astype("str") == "ka").to_numpy()})
    out = []
    for team, part in frame.groupby("team", sort=True):
        total = float(part["q"].sum())
        if total <= 0 or part["ka"].all() or not part["ka"].any():
            continue
        share = float(part.loc[part["ka"], "q"].sum()) / total
        lo, hi = bounds
        if lo - 1e-9 <= share <= hi + 1e-9:
            continue
        edge = lo if share < lo else hi
        out.append(_record(str(team), None, "ka_share", edge, share, abs(share - edge) * total, 0,
                           f"team {team}: ka reps carry {share:.1%} of its rest of the year, outside ka_share "
                           f"[{lo:.0%}, {hi:.0%}]"))
    return out


def carry(reps_in: pd.DataFrame, teams_in: pd.DataFrame, total: float, config: AllocationConfig,
          plan_year: int) -> tuple[Any, list[dict[str, Any]], dict[str, Any]]:
    """Allocate the rest of the year; where its soft limits cannot carry it, let them give way.

    Returns
    -------
    (alloc, exceptions, relaxed) : tuple
        The :class:`~quotaopt.allocation.AllocationResult`, the exception records and,
        when the re-plan gave way itself, the limits it used (else an empty dict).

    Raises
    ------
    InfeasibleError
        ``allocation.strict`` is set, or even the relaxed limits cannot carry the rest
        (a hard limit: the original reasons).
    """
    from quotaopt.allocation import allocate

    try:
        alloc = allocate(reps_in, teams_in, total, config, plan_year)
    except InfeasibleError as exc:
        if bool(getattr(config, "strict", False)):
            raise
        first = exc
    else:
        own = [e.record() if hasattr(e, "record") else dict(e) for e in getattr(alloc, "exceptions", [])]
        return alloc, own, {}

    lo, hi = config.stretch
    mc, flex = config.max_change, config.flex
    open_units = {"flex": 1.0, "ka_share": None}
    # Stages, each one knob t in [0, 1] opened only as far as needed (the least t that carries
    # the rest, by bisection), the later ones on top of the earlier ones fully open.
    stages: list[tuple[str, Callable[[float], dict[str, Any]]]] = [
        ("flex", lambda t: {"flex": flex + (1.0 - flex) * t}),  # unit totals follow their reps
        ("ka_share", lambda t: open_units),
        # More than the reps can carry (behind plan): the stretch ceiling rises.
        ("stretch_max", lambda t: {**open_units, "stretch": (lo, hi * (1.0 + (MAX_FACTOR - 1.0) * t))}),
        # Less than they must carry (a target recalibrated down): stretch floor and max_change give.
        ("stretch_min", lambda t: {**open_units, "stretch": (lo / (1.0 + (MAX_FACTOR - 1.0) * t), hi),
                                   "max_change": None if mc is None else mc * (1.0 + (MAX_FACTOR - 1.0) * t)}),
    ]

    def attempt(update: dict[str, Any]) -> Any:
        try:
            return allocate(reps_in, teams_in, total, config.model_copy(update=update), plan_year)
        except InfeasibleError:
            return None

    for _, knob in stages:
        best = attempt(knob(1.0))
        if best is None:
            continue
        low, high = 0.0, 1.0
        while high - low > FACTOR_STEP / MAX_FACTOR:
            mid = (low + high) / 2.0
            found = attempt(knob(mid))
            if found is None:
                low = mid
            else:
                best, high = found, mid
        used = config.model_copy(update=knob(high))
        break
    else:
        raise first
    exceptions = limit_exceptions(reps_in, best.reps, best.units, config)
    return best, exceptions, {"stretch": [round(v, 4) for v in used.stretch], "flex": round(used.flex, 4),
                              "ka_share": used.ka_share,
                              "max_change": None if used.max_change is None else round(used.max_change, 4),
                              "why": "; ".join(first.reasons[:3])}
