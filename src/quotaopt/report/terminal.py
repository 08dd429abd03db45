"""A run's headline figures as lines for a terminal (``quotaopt plan``, ``demo``, ``batch``)."""

from __future__ import annotations

from pathlib import Path

from quotaopt.planning import Summary


def headline_lines(summary: Summary, path: Path) -> list[str]:
    """The headline figures of a run as lines for a terminal."""
    s = summary.record()
    solver = s["solver"]
    gap = solver.get("gap")
    status = solver["status"] if gap is None or solver["status"] == "optimal" else f"{solver['status']}, gap {gap:.4%}"
    return [
        f"company target {s['company_target']:,.0f}; total quota {s['total_quota']:,.0f} "
        f"(over-assignment {s['over_assignment']:.1%})",
        *gap_lines(summary),
        f"P(company target met) {s['p_company_target']:.1%}; expected payout {s['expected_payout']:,.0f} "
        f"(P10 {s['payout_p10']:,.0f}, P90 {s['payout_p90']:,.0f}); cost of sales {s['cost_of_sales']:.2%}",
        f"solver {solver['backend']}: {status}",
        *exception_lines(summary),
        *(f"note: {note}" for note in s.get("allocation_notes", [])),
        f"run folder: {path}",
        f"report: {path / 'report.html'}",
    ]

def gap_lines(summary: Summary) -> list[str]:
    """The target-capacity gap and the guardrail warning, for a terminal."""
    s = summary.record()
    gap, shares = s.get("target_gap"), s.get("reps_expected") or {}
    lines = []
    if gap and gap.get("capacity_p50"):
        lines.append(f"against capacity P50 {gap['capacity_p50']:,.0f} (P10 {gap['capacity_p10']:,.0f}, "
                     f"P90 {gap['capacity_p90']:,.0f}): target {gap['target_over_p50']:+.1%}, "
                     f"quota {gap['quota_over_p50']:+.1%}")
    if shares:
        lines.append(f"reps expected at >= 100% of quota {shares['ge_100']:.0%}, 80-100% {shares['80_100']:.0%}, "
                     f"< 80% {shares['lt_80']:.0%}")
    guard = s.get("guardrail") or {}
    if guard.get("below"):
        lines.append(f"warning: {guard['message']}")
    return lines

#: Most exceptions printed; the rest are counted (all are in summary.json and the report).
SHOWN_EXCEPTIONS = 10

def exception_lines(summary: Summary | None) -> list[str]:
    """Soft limits the plan gave way on, one line each, for a terminal."""
    found = [] if summary is None else summary.record().get("exceptions") or []
    if not found:
        return []
    total = sum(float(e.get("amount") or 0.0) for e in found)
    keys = sorted({"assignment.strict" if str(e.get("limit", "")).startswith("assign") else "allocation.strict"
                   for e in found})
    lines = [f"exceptions: {len(found)} soft limit(s) gave way ({total:,.0f} in all; {' or '.join(keys)}: true "
             "would stop instead)"]
    lines += [f"exception: {e['message']}" for e in found[:SHOWN_EXCEPTIONS]]
    if len(found) > SHOWN_EXCEPTIONS:
        lines.append(f"... and {len(found) - SHOWN_EXCEPTIONS} more exception(s) in summary.json")
    return lines
