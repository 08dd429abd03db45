"""What the pages show, as plain data for the templates (which escape every value).

The figures are read from the :class:`~quotaopt.result.PlanResult` the library made,
never recomputed; the chart and the unit tree are the report's own (``report/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.planning import PlanResult, Summary

#: Most teammates named in the "who moved" line (all of them show in the grid).
NAMED_MOVES = 8


@dataclass
class Figure:
    """One headline card."""

    key: str
    label: str
    value: str
    sub: str = ""


def _money(value: Any) -> str:
    return "\u2014" if value is None or value != value else f"{float(value):,.0f}"


def _pct(value: Any, signed: bool = False) -> str:
    if value is None or value != value:
        return "\u2014"
    return f"{float(value):+.1%}" if signed else f"{float(value):.1%}"


def headline(plan_summary: Summary) -> list[Figure]:
    """The headline cards of a plan: target, quota, chances, payout, cost, exceptions."""
    summary = plan_summary.record()
    basis = summary.get("target_basis") or {}
    shares = summary.get("reps_expected") or {}
    growth = basis.get("growth")
    exceptions = summary.get("exceptions") or []
    return [
        Figure("target", "Company target", _money(summary.get("company_target")),
               f"growth {_pct(growth, signed=True)}" if growth is not None else str(basis.get("kind") or "")),
        Figure("quota", "Total quota", _money(summary.get("total_quota")),
               f"over-assignment {_pct(summary.get('over_assignment'))}"),
        Figure("p_target", "P(company target)", _pct(summary.get("p_company_target"))),
        Figure("at_quota", "Reps at quota", _pct(shares.get("ge_100")), "expected at >= 100%"),
        Figure("below_80", "Reps below 80%", _pct(shares.get("lt_80")), "expected under 80% of quota"),
        Figure("payout", "Expected payout", _money(summary.get("payout_p50")),
               f"P10 {_money(summary.get('payout_p10'))} / P90 {_money(summary.get('payout_p90'))}"),
        Figure("cost", "Cost of sales", _pct(summary.get("cost_of_sales"))),
        Figure("exceptions", "Exceptions", f"{len(exceptions)}",
               f"{sum(float(e.get('amount') or 0) for e in exceptions):,.0f} given way" if exceptions else
               "every soft limit held"),
    ]


def messages(plan_summary: Summary) -> list[str]:
    """Warnings and exceptions in business words (the guardrail first)."""
    summary = plan_summary.record()
    out = []
    guard = summary.get("guardrail") or {}
    if guard.get("below") and guard.get("message"):
        out.append(str(guard["message"]))
    out += [str(e.get("message")) for e in summary.get("exceptions") or []]
    out += [str(n) for n in summary.get("allocation_notes") or []]
    return out


def moves(current: PlanResult, previous: PlanResult | None) -> pd.Series:
    """Quota change per rep against the previous plan of the page (0 where none moved)."""
    now = current.plan.set_index("rep_id")["quota"].astype(float)
    if previous is None:
        return pd.Series(0.0, index=now.index)
    before = previous.plan.set_index("rep_id")["quota"].astype(float).reindex(now.index)
    return (now - before).fillna(0.0)


def moved_line(delta: pd.Series, plan: pd.DataFrame, newly_locked: list[str], unlocked: list[str]) -> str | None:
    """'Locking RP1 moved 4 teammates in TM0001: RP2 -12,000, ...' (None when nothing moved)."""
    moved = delta[delta != 0]
    if moved.empty:
        return None
    team = plan.set_index("rep_id")["team_id"]
    changed = newly_locked or unlocked
    if changed:
        teams = set(team.reindex(changed).dropna())
        mates = moved[team.reindex(moved.index).isin(teams) & ~moved.index.isin(changed)]
        action = "Locking" if newly_locked else "Unlocking"
        named = ", ".join(f"{rep} {value:+,.0f}" for rep, value in
                          mates.reindex(mates.abs().sort_values(ascending=False).index).head(NAMED_MOVES).items())
        more = f" and {len(mates) - NAMED_MOVES} more" if len(mates) > NAMED_MOVES else ""
        where = ", ".join(sorted(str(t) for t in teams))
        others = len(moved) - len(mates) - int(moved.index.isin(changed).sum())
        rest = f"; {others} rep(s) elsewhere moved too" if others > 0 else ""
        return (f"{action} {', '.join(changed)} moved {len(mates)} teammate(s) in {where}"
                + (f": {named}{more}" if named else "") + rest)
    return f"{len(moved)} rep(s) moved: {moved.abs().sum():,.0f} of quota in all"


@dataclass(frozen=True)
class GridRow:
    """One rep of the grid: raw numbers for sorting, text for showing."""

    rep_id: str
    name: str
    team_id: str
    role: str
    p10: float
    p50: float
    p90: float
    quota: float
    stretch: float
    chance: float
    binding: str
    delta: float
    #: ``page`` (locked on the page), ``reps.csv`` (locked in the data) or empty.
    locked_by: str


def grid(result: PlanResult, names: pd.Series, delta: pd.Series, locks: dict[str, float | None],
         csv_locked: pd.Series) -> list[GridRow]:
    """One row per rep for the grid (raw numbers for sorting, text for showing)."""
    plan = result.plan
    rows = []
    for rec in plan.itertuples(index=False):  # Any: typed attribute access to the plan's columns
        row: Any = rec
        rep = str(row.rep_id)
        lock = locks.get(rep, "absent")
        locked_by = "page" if lock not in ("absent", None) else (
            "reps.csv" if lock == "absent" and np.isfinite(csv_locked.get(rep, np.nan)) else "")
        rows.append(GridRow(
            rep_id=rep, name=str(names.get(rep, "") or ""), team_id=str(row.team_id), role=str(row.role),
            p10=float(row.capacity_p10), p50=float(row.capacity_p50), p90=float(row.capacity_p90),
            quota=float(row.quota), stretch=float(row.stretch), chance=float(row.p_attain),
            binding=str(row.binding), delta=float(delta.get(rep, 0.0)), locked_by=locked_by,
        ))
    return rows


def scatter(result: PlanResult) -> str:
    """The report's quota-vs-capacity chart (sampled the same way on large plans)."""
    from quotaopt.report.charts import capacity_scatter
    from quotaopt.report.html import _scatter_sample

    sample, _ = _scatter_sample(result.plan)
    try:
        return capacity_scatter(sample)
    except ImportError:
        return ""


def unit_tree(result: PlanResult) -> str:
    """The report's unit tree (escaped markup)."""
    from quotaopt.report._markup import unit_tree as tree

    return tree(result.units, result.plan)


def rep_deltas(plans: list[pd.DataFrame], labels: list[str], limit: int = 200) -> tuple[list[str], list[list[Any]], int]:
    """Reps whose quota differs between versions: headers, rows (largest change first), and how many."""
    merged = None
    for plan, label in zip(plans, labels, strict=True):
        frame = plan[["rep_id", "team_id", "quota"]].rename(columns={"quota": label})
        merged = frame if merged is None else merged.merge(frame, on=["rep_id", "team_id"], how="outer")
    assert merged is not None
    first = merged[labels[0]]
    for label in labels[1:]:
        merged[f"delta: {label}"] = merged[label] - first
    deltas = [f"delta: {label}" for label in labels[1:]]
    spread = merged[deltas].abs().max(axis=1)
    changed = merged[spread.fillna(np.inf) > 0]
    changed = changed.assign(_spread=spread).sort_values(["_spread", "rep_id"], ascending=[False, True])
    headers = ["rep_id", "team_id", *labels, *deltas]
    rows = changed[headers].head(limit).to_numpy(dtype=object).tolist()
    return headers, rows, len(changed)
