"""The content of each page, built from a session (runs in a worker thread, off the event loop)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from quotaopt.errors import InputError, Problem
from quotaopt.workbench import views
from quotaopt.workbench.engine import ScenarioSession
from quotaopt.workbench.knobs import Settings


@dataclass
class PlanView:
    """What the plan fragment shows for one page state."""

    figures: list[views.Figure]
    messages: list[str]
    moved: str | None
    rows: list[views.GridRow]
    chart: str
    tree: str
    seconds: float
    solver: str
    teams: list[str] = field(default_factory=list)


def plan_view(session: ScenarioSession, settings: Settings, previous: Settings | None) -> PlanView:
    """Plan ``settings`` and say what moved since ``previous`` (the page's last plan)."""
    solved = session.solve(settings)
    before = session.solve(previous).result if previous is not None and previous.key() != settings.key() else None
    result = solved.result
    delta = views.moves(result, before)
    old = previous.locks if previous is not None else {}
    newly = sorted(r for r, v in settings.locks.items() if v is not None and old.get(r) != v)
    unlocked = sorted(r for r in old if r not in settings.locks or settings.locks[r] is None and old[r] is not None)
    reps = session.inputs.company.reps.set_index("rep_id")
    rows = views.grid(result, reps["name"] if "name" in reps else reps["team_id"].map(lambda _: ""), delta,
                      settings.locks, reps["locked_quota"].astype(float))
    solver = result.summary.record().get("solver") or {}
    status = str(solver.get("status") or "")
    gap = solver.get("gap")
    return PlanView(
        figures=views.headline(result.summary), messages=views.messages(result.summary),
        moved=views.moved_line(delta, result.plan, newly, unlocked) if before is not None else None,
        rows=rows, chart=views.scatter(result), tree=views.unit_tree(result), seconds=solved.seconds,
        solver=status if gap is None or status == "optimal" else f"{status}, gap {float(gap):.4%}",
        teams=sorted({r.team_id for r in rows}))


@dataclass
class CompareView:
    """``quotaopt compare``'s table for the chosen versions, and the reps whose quota differs."""

    labels: list[str]
    names: list[str]
    table: list[tuple[str, str, list[Any]]]
    columns: list[str]
    rep_headers: list[str]
    rep_rows: list[list[Any]]
    reps_changed: int


def compare_view(session: ScenarioSession, run_ids: list[str]) -> CompareView:
    """Compare two or three versions with :func:`quotaopt.commands.compare` (the CLI's numbers).

    Raises
    ------
    InputError
        Fewer than two or more than three versions, or one that is not a version.
    """
    from quotaopt.commands import compare as compare_runs
    from quotaopt.io import read_run
    from quotaopt.workbench.versions import list_versions, run_folder

    if not 2 <= len(run_ids) <= 3:
        raise InputError([Problem("compare", f"pick two or three versions to compare, got {len(run_ids)}")])
    folders = [run_folder(session.runs_root, session.name, r) for r in run_ids]
    table = compare_runs(folders)
    names = {v.run_id: v.name for v in list_versions(session.runs_root, session.name)}
    rows = [(str(section), str(item), list(values)) for (section, item), values in
            zip(table.index, table.to_numpy(dtype=object).tolist(), strict=True)]
    plans = [read_run(f).plan for f in folders]
    headers, rep_rows, changed = views.rep_deltas(plans, list(run_ids))
    return CompareView(labels=list(run_ids), names=[names.get(r, r) for r in run_ids], table=rows,
                       columns=[str(c) for c in table.columns], rep_headers=headers, rep_rows=rep_rows,
                       reps_changed=changed)


def history_html(session: ScenarioSession) -> str:
    """The four history views of the scenario's data (the same sections as ``analysis.html``)."""
    from quotaopt.report.history import history_sections, history_views

    return history_sections(history_views(session.inputs.company, session.inputs.plan_year))


@dataclass
class FrontierView:
    """The planning frontier around the page's settings."""

    rows: list[FrontierRow]
    chart: str


@dataclass(frozen=True)
class FrontierRow:
    """One growth value of the frontier as the page shows it (NaN where the plan was infeasible)."""

    growth: float
    company_target: float
    total_quota: float
    p_company_target: float
    reps_at_quota: float
    reps_80_100: float
    reps_below_80: float
    expected_payout: float
    cost_of_sales: float
    exceptions: float
    exceptions_amount: float
    status: str


def frontier_view(session: ScenarioSession, settings: Settings) -> FrontierView:
    """``quotaopt frontier`` on the page's settings (its capacity fit shared with the page's plans)."""
    from quotaopt.planning import DEFAULT_GROWTH, frontier
    from quotaopt.report.frontier_html import frontier_chart

    inputs, _ = session.inputs_for(settings)
    with session.turn():
        table = frontier(inputs, list(DEFAULT_GROWTH), capacity_cache=session.capacity_cache)
    chart = frontier_chart(table) if (table["status"] == "ok").any() else ""
    rows = [FrontierRow(**{str(k): v for k, v in record.items()}) for record in table.to_dict(orient="records")]
    return FrontierView(rows=rows, chart=chart)
