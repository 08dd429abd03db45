"""report.html: one self-contained page (inline CSS, inline SVG charts, a few lines of JS).

Nothing on the page is fetched: no external script, style, font or image. Every piece
of user text (scenario, rep, team and unit names, constraint names) goes through
:func:`html.escape`. Large plans are summarised (a sample in the scatter, the most and
least stretched reps in the table), with a note pointing at plan.csv for the full data.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.planning import PlanResult
from quotaopt.report import _assets, charts
from quotaopt.report._common import BAND_COLOURS, GREEN_AT, YELLOW_AT, attainment_band, is_missing
from quotaopt.report._markup import chart, fmt, note, table, td, unit_tree
from quotaopt.report.replan_note import replan_banner_html, replan_title

#: Section ids of the page, in order, with their navigation labels (stable: tests and links use them).
SECTIONS = (
    ("headline", "Headline"), ("exceptions", "Exceptions"), ("capacity", "Quota vs capacity"), ("stretch", "Stretch"),
    ("simulation", "Simulation"), ("periods", "Periods"), ("units", "Units"),
    ("binding", "Binding constraints"), ("solver", "Solver"),
)
#: Most reps drawn in the scatter; beyond it a spread sample plus the stretch outliers.
SCATTER_CAP = 600
#: Most reps listed in the rep table: half most stretched, half least stretched.
REP_TABLE_CAP = 200
#: Rep ids named per binding constraint.
BINDING_EXAMPLES = 12


def _solver_text(solver: dict[str, Any]) -> str:
    """'optimal' only when the solver proved it; otherwise the status with its gap."""
    status = str(solver.get("status") or "unknown")
    gap: Any = solver.get("gap")
    gap_text = "gap unknown" if is_missing(gap) else f"gap {float(gap):.2%}"
    if status == "optimal":
        return "optimal" if is_missing(gap) or float(gap) == 0 else f"optimal (within {gap_text})"
    return f"{status}, {gap_text}"


def _basis_text(basis: Any) -> str:
    if not isinstance(basis, dict):
        return ""
    if basis.get("kind") == "growth":
        return (f"{fmt(basis.get('growth'), 'signed')} over {fmt(basis.get('base_year'), 'plain')} "
                f"bookings of {fmt(basis.get('base_bookings'), 'money')}")
    if basis.get("kind") == "company":
        return "set in the scenario (target.company)"
    return escape(str(basis.get("kind", "")))


def _card(label: str, value: str, sub: str = "", title: str = "") -> str:
    hint = f' title="{escape(title)}"' if title else ""
    return (f'<div class="card"><div class="label">{label}</div><div class="value"{hint}>{value}</div>'
            f'<div class="sub">{sub}</div></div>')


def _chance(p: Any) -> str:
    """A chance with the dot of its band: the one colour scale of every chance on the page."""
    band = attainment_band(p)
    return (f'<span class="dot {band}"></span>' if band else "") + fmt(p, "percent")


def _headline(s: dict[str, Any]) -> str:
    sim = s.get("simulation") or {}
    cards = [
        _card("Company target", fmt(s.get("company_target"), "compact"), _basis_text(s.get("target_basis")),
              fmt(s.get("company_target"), "money")),
        _card("Total quota", fmt(s.get("total_quota"), "compact"),
              f"over-assignment {fmt(s.get('over_assignment'), 'percent')} "
              f"(requested {fmt(s.get('over_assignment_requested'), 'percent')})", fmt(s.get("total_quota"), "money")),
        _card("P(company target met)", _chance(s.get("p_company_target")),
              f"{fmt(sim.get('draws'), 'integer')} draws, seed {fmt(sim.get('seed'), 'plain')}"),
        _card("Expected payout", fmt(s.get("expected_payout"), "compact"),
              f"P10 {fmt(s.get('payout_p10'), 'compact')} \u00b7 P50 {fmt(s.get('payout_p50'), 'compact')} "
              f"\u00b7 P90 {fmt(s.get('payout_p90'), 'compact')}", fmt(s.get("expected_payout"), "money")),
        _card("Cost of sales", fmt(s.get("cost_of_sales"), "percent"), "incentive payout against bookings"),
        _card("Reps", fmt(s.get("reps"), "integer"), f"{fmt(s.get('units'), 'integer')} units"),
    ]
    shares = s.get("reps_expected") or {}
    # Shares of reps by attainment, not chances: their own palette, so green / yellow / red on
    # the page always means one thing, a chance on the 40% / 60% scale.
    parts = [("ge_100", "s1", "\u2265 100%"), ("80_100", "s2", "80\u2013100%"), ("lt_80", "s3", "< 80%")]
    bar = "".join(
        f'<div class="seg {band}" style="width:{100 * float(shares[key]):.2f}%" title="{label}: '
        f'{fmt(shares[key], "percent")}"></div>' for key, band, label in parts if not is_missing(shares.get(key)))
    legend = "".join(f'<span><span class="dot {band}"></span>{label}: <b>{fmt(shares.get(key), "percent")}</b>'
                     "</span>" for key, band, label in parts)
    return (f'{_banners(s)}<div class="cards">{"".join(cards)}</div>{_gap(s)}<h3>Share of reps expected to reach</h3>'
            f'<div class="sharebar">{bar}</div><div class="legend">{legend}</div>')


def _banners(s: dict[str, Any]) -> str:
    """The guardrail warning and a pointer to the exceptions, above everything else."""
    out = []
    guard = s.get("guardrail") or {}
    if guard.get("below"):
        out.append(f'<div class="banner warn">Warning: {escape(str(guard.get("message")))}</div>')
    found = s.get("exceptions") or []
    if found:
        total = sum(float(e.get("amount") or 0.0) for e in found)
        out.append(f'<div class="banner info">{len(found):,} soft limit(s) gave way so that the plan holds '
                   f'({fmt(total, "money")} in all): see <a href="#exceptions">Exceptions</a>.</div>')
    return "".join(out)


def _gap(s: dict[str, Any]) -> str:
    """Target and quota against the reps' capacity: the gap, said out loud."""
    gap = s.get("target_gap") or {}
    if not gap.get("capacity_p50"):
        return ""
    items = [("Capacity P50 (sum)", fmt(gap.get("capacity_p50"), "money")),
             ("Capacity P10 / P90 (sum)", f"{fmt(gap.get('capacity_p10'), 'compact')} / "
                                          f"{fmt(gap.get('capacity_p90'), 'compact')}"),
             ("Target against P50", fmt(gap.get("target_over_p50"), "signed")),
             ("Quota against P50", fmt(gap.get("quota_over_p50"), "signed"))]
    if "bookings_p50" in gap:
        items.append(("Simulated bookings P10 / P50 / P90", f"{fmt(gap.get('bookings_p10'), 'compact')} / "
                      f"{fmt(gap.get('bookings_p50'), 'compact')} / {fmt(gap.get('bookings_p90'), 'compact')}"))
    facts = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in items)
    return f'<h3>Target against capacity</h3><dl class="facts">{facts}</dl>'


def _exceptions(result: PlanResult) -> str:
    found = result.summary.record().get("exceptions")
    if found is None:
        return note("This run records no exceptions.")
    if not found:
        strict = result.summary.record().get("allocation_strict")
        return note("Every limit holds: nothing had to give way." + (" (allocation.strict: true)" if strict else ""))
    columns = [("unit", "text", "Unit"), ("rep", "text", "Rep"), ("limit", "text", "Limit"),
               ("allowed", "stretch", "Allowed"), ("used", "stretch", "Used"), ("amount", "money", "Amount"),
               ("reps", "integer", "Reps"), ("message", "text", "What gave way")]
    rows = ["<tr>" + "".join(td(e.get(key), kind) if key != "message" else f"<td>{escape(str(e.get(key)))}</td>"
                             for key, kind, _ in columns) + "</tr>" for e in found]
    intro = note("Soft limits (flex, ka_share, max_change, stretch) give way, least money first, when the total "
                 "cannot be carried within them; locked quotas, fixed targets, the company total and whole "
                 "multiples of the unit never do. <code>allocation.strict: true</code> stops the plan instead.")
    return intro + table([h for _, _, h in columns], rows)


def _scatter_sample(plan: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    if len(plan) <= SCATTER_CAP:
        return plan, ""
    frame = plan.reset_index(drop=True)
    by_capacity = frame.sort_values(["capacity_p50", "rep_id"], kind="stable").index.to_numpy()
    spread = by_capacity[np.unique(np.linspace(0, len(frame) - 1, SCATTER_CAP - 100).round().astype(int))]
    by_stretch = frame.dropna(subset=["stretch"]).sort_values(["stretch", "rep_id"], kind="stable").index.to_numpy()
    keep = np.union1d(spread, np.concatenate([by_stretch[:50], by_stretch[-50:]]))
    return frame.loc[keep], (f"The chart shows {len(keep):,} of {len(plan):,} reps: a sample spread over "
                             "capacity plus the 50 most and 50 least stretched.")


def _capacity(result: PlanResult) -> str:
    plan = result.plan
    if plan.empty:
        return note("The plan has no reps.")
    sample, sample_note = _scatter_sample(plan)
    ordered = plan.sort_values(["stretch", "rep_id"], ascending=[False, True], kind="stable", na_position="last")
    table_note = "Click a column header to sort."
    if len(ordered) > REP_TABLE_CAP:
        half = REP_TABLE_CAP // 2
        ordered = pd.concat([ordered.head(half), ordered.tail(half)])
        table_note = (f"The table lists the {half} most and {half} least stretched of {len(plan):,} reps; "
                      "every rep is in plan.csv and plan.xlsx. " + table_note)
    columns = [("rep_id", "text", "Rep ID"), ("name", "text", "Name"), ("team_name", "text", "Team"),
               ("role", "text", "Role"),
               ("capacity_p10", "money", "Capacity P10"), ("capacity_p50", "money", "Capacity P50"),
               ("capacity_p90", "money", "Capacity P90"), ("quota", "money", "Quota"),
               ("stretch", "stretch", "Stretch"), ("last_quota", "money", "Last quota"),
               ("change", "signed", "Change"), ("p_attain", "band", "P(attain)"),
               ("expected_payout", "money", "Expected payout"), ("binding", "text", "Binding")]
    columns = [c for c in columns if c[0] in ordered.columns]
    if result.comparable_last is not None and "change" in ordered.columns:
        # A last quota of a part year (a rep who ramped) is no base for a change in per cent.
        full = ordered["rep_id"].astype(str).isin(result.comparable_last)
        ordered = ordered.assign(change=ordered["change"].where(full))
        if (~full & ordered["last_quota"].notna()).any():
            table_note += (" Change is shown against full-year last quotas only; a rep who ramped during last "
                           "year shows \u2014.")
    records = ordered[[c for c, _, _ in columns]].to_numpy(dtype=object)
    rows = ["<tr>" + "".join(td(v, kind) for v, (_, kind, _) in zip(rec, columns, strict=True)) + "</tr>"
            for rec in records]
    cap = (result.summary.record().get("capacity") or {})
    intro = (f"Capacity model <b>{fmt(cap.get('model'), 'plain')}</b>, total capacity P50 "
             f"<b>{fmt(cap.get('total_p50'), 'money')}</b>, market what-if "
             f"{fmt(cap.get('market_growth'), 'signed')}. Points above the dashed line carry more than "
             "their median capacity.")
    return (f"<p>{intro}</p>{_capacity_method(cap)}{chart(charts.capacity_scatter, sample)}"
            f"{note(sample_note) if sample_note else ''}{note(table_note)}"
            f"{table([h for _, _, h in columns], rows, css='frozen')}")


#: How the report names the candidates of summary.json's capacity section.
_CHANGE_NAMES = {"persistence": "Same as last year", "trees": "Boosted trees", "linear": "Log-linear model",
                 "smoothing": "Each rep's smoothed rates"}
_LEVEL_NAMES = {"random_walk": "No change", "last_growth": "Last year's growth", "damped_growth": "Half of it",
                "drift": "Mean growth", "reversion": "Reversion to the trend", "run_rate": "Latest half-year",
                "planners": "Planners' market growth", "auto_ets": "AutoETS"}


def _capacity_method(cap: dict[str, Any]) -> str:
    """Which candidates the capacity model weighed, and how (summary.json's capacity section)."""
    weights, level = cap.get("change_weights"), cap.get("level")
    if not weights or not level:
        return ""
    change = ["<tr>" + td(_CHANGE_NAMES.get(k, k)) + td(v, "percent") + "</tr>" for k, v in weights.items()]
    levels = ["<tr>" + td(_LEVEL_NAMES.get(k, k)) + td(level["candidates"].get(k), "signed")
              + td(v, "percent") + "</tr>" for k, v in level["weights"].items()]
    record = cap.get("validation") or []
    held = ", ".join(f"{row['year']}: {fmt(row.get('wape_blend'), 'percent')} (same as last year "
                     f"{fmt(row.get('wape_persistence'), 'percent')})" for row in record)
    prior = ", ".join(f"{escape(_LEVEL_NAMES.get(k, k))} starting with odds of {v:g} to 1 against each other one"
                      for k, v in (level.get("prior_odds") or {}).items())
    text = (f"Each rep starts from their own last year; how far they move from it is a blend of "
            f"candidates weighted by their held-out error in money. The company level moves by "
            f"<b>{fmt(np.expm1(level['growth']), 'signed')}</b> (error sd {fmt(level['error_sd'], 'percent')}), "
            f"a blend of forecasts weighted by their record over the company's own past years"
            + (f" ({prior}: real levels keep their momentum)" if prior else "") + "."
            + (f" Held-out WAPE of the blend, {held}." if held else ""))
    return (f"<p>{text}</p><div class=\"grid2\">{table(['Change candidate', 'Weight'], change, sortable=False)}"
            f"{table(['Company-level candidate', 'Growth', 'Weight'], levels, sortable=False)}</div>")


def _stretch(result: PlanResult) -> str:
    stretch = result.plan["stretch"].to_numpy(dtype=float) if "stretch" in result.plan else np.array([])
    if not np.isfinite(stretch).any():
        return note("No stretch values to show.")
    fair = result.summary.record().get("fairness") or {}
    figure = chart(charts.histogram, stretch, "stretch", "Stretch distribution", "stretch = quota / capacity P50",
                   axis="plain", markers=[(1.0, "quota = capacity P50", charts.GREY),
                                          (float(np.nanmean(stretch)), "mean", charts.ORANGE)],
                    size=(charts.FULL[0], 3.2))
    items = [("min", "stretch_min", "stretch"), ("max", "stretch_max", "stretch"), ("mean", "stretch_mean", "stretch"),
             ("std", "stretch_std", "stretch"), ("spread", "stretch_spread", "stretch"),
             ("lowest P(attain)", "p_attain_min", "percent"), ("highest P(attain)", "p_attain_max", "percent")]
    facts = "".join(f"<div><dt>{label}</dt><dd>{fmt(fair.get(key), kind)}</dd></div>" for label, key, kind in items)
    return f'{figure}<dl class="facts">{facts}</dl>'


def _simulation(result: PlanResult) -> str:
    s, dist = result.summary.record(), result.distributions or {}
    specs: list[tuple[str, str, str, str, list[tuple[Any, str, str]], str]] = [
        ("company_bookings", "Company bookings across draws", "company bookings", "money",
         [(s.get("company_target"), "company target", BAND_COLOURS["red"]),
          (s.get("total_quota"), "total quota", charts.GREY)],
         f"P(company target met) = <b>{fmt(s.get('p_company_target'), 'percent')}</b>"),
        ("total_payout", "Total incentive payout across draws", "total payout", "money",
         [(s.get("payout_p10"), "P10", charts.GREY), (s.get("payout_p50"), "P50", charts.ORANGE),
          (s.get("payout_p90"), "P90", charts.GREY)],
         f"Expected payout <b>{fmt(s.get('expected_payout'), 'money')}</b>"),
        ("rep_attainment", "Rep attainment across reps and draws", "attainment = sales / quota", "percent",
         [(0.8, "80%", charts.GREY), (1.0, "100%", charts.ORANGE)],
         "Share of reps expected at \u2265 100% is in the headline."),
    ]
    # Each rep's chance of reaching quota comes with the plan, so this panel is always there.
    p_attain: Any = result.plan.get("p_attain", [])
    specs.append(("p_attain", "Chance of reaching quota, per rep", "P(attain)", "percent",
                  [(YELLOW_AT, f"{YELLOW_AT:.0%}", BAND_COLOURS["yellow"]),
                   (GREEN_AT, f"{GREEN_AT:.0%}", BAND_COLOURS["green"])],
                  "The unit tree below colours units by the same bands."))
    blocks, left_out = [], []
    for key, title, xlabel, axis, markers, caption in specs:
        values = np.asarray(p_attain if key == "p_attain" else dist.get(key, []), dtype=float).ravel()
        marks = [(float(x), label, colour) for x, label, colour in markers if not is_missing(x)]
        binned = _binned(dist, key)
        if binned is not None:
            figure = chart(charts.binned_histogram, *binned, key.replace("_", "-"), title, xlabel, axis=axis,
                           markers=marks)
        elif np.isfinite(values).any():
            figure = chart(charts.histogram, values, key.replace("_", "-"), title, xlabel, axis=axis, markers=marks)
        else:
            left_out.append(title.lower())  # nothing to draw: no card at all (an empty one only says so)
            continue
        blocks.append(f"<div><h3>{title}</h3>{figure}<p>{caption}</p></div>")
    extra = note("Not kept by this run (e.g. a re-plan), so not drawn: " + "; ".join(left_out)
                 + ". The figures in the headline still hold.") if left_out else ""
    return f'<div class="grid2">{"".join(blocks)}</div>{extra}'


def _binned(dist: dict[str, Any], key: str) -> tuple[np.ndarray, np.ndarray] | None:
    """``<key>_edges`` and ``<key>_counts`` when the simulation kept a histogram, not a sample."""
    if key in dist or f"{key}_edges" not in dist or f"{key}_counts" not in dist:
        return None
    edges = np.asarray(dist[f"{key}_edges"], dtype=float).ravel()
    counts = np.asarray(dist[f"{key}_counts"], dtype=float).ravel()
    if len(edges) != len(counts) + 1 or not np.isfinite(edges).all() or not np.nansum(counts) > 0:
        return None
    return edges, counts


def _periods(result: PlanResult) -> str:
    periods = result.periods
    if periods is None or periods.empty or not {"period", "quota"} <= set(periods.columns):
        return note("No period split in this result.")
    totals = periods.groupby(periods["period"].astype(str), sort=True)["quota"].sum()
    period_table = ""
    if len(totals) <= 13:  # quarters and months: the numbers, one column a period; weeks would not fit
        total = float(totals.sum())
        quota = "".join(td(q, "money") for q in totals)
        share = "".join(td(q / total if total else None, "percent") for q in totals)
        period_table = table(["", *map(str, totals.index)], [f"<tr><th>Quota</th>{quota}</tr>",
                                                              f"<tr><th>Share</th>{share}</tr>"], sortable=False)
    return (f"{chart(charts.period_bars, totals)}{period_table}"
            + note("Each rep's periods sum exactly to its quota; the split per rep is in plan_periods.csv."))


def _measures(result: PlanResult) -> str:
    frame = result.measures
    if frame is None or frame.empty:
        return note("Only revenue is planned.")
    quota = pd.to_numeric(frame["quota"])
    rows = []
    for measure, group in frame.assign(quota=quota).groupby("measure", sort=False):
        rate = str(measure) == "repurchase_rate"
        total = group["quota"].mean() if rate else group["quota"].sum()
        expected = group["capacity_p50"].mean() if rate else group["capacity_p50"].sum()
        kind = "percent" if rate else "money"  # amounts and counts alike: whole numbers with separators
        rows.append(f"<tr>{td(measure)}{td(total, kind)}{td(expected, kind)}{td(group['p_attain'].mean(), 'band')}"
                    f"{td(len(group), 'integer')}</tr>")
    return (table(["measure", "quota (total; rates: mean)", "expected", "mean P(attain)", "reps"], rows)
            + note("Per rep in plan_measures.csv; product lines add up to each rep's revenue quota."))


def _binding(result: PlanResult) -> str:
    plan = result.plan
    counts = result.summary.record().get("binding_counts")
    if not counts and "binding" in plan:
        counts = {str(k): int(v) for k, v in plan["binding"].value_counts().items()}
    if not counts:
        return note("No binding constraints recorded.")
    total = max(len(plan), 1)
    binding = plan["binding"].astype(str) if "binding" in plan else pd.Series(dtype=str)
    rows = []
    for name, count in sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0]))):
        who = plan.loc[binding == str(name)].sort_values("rep_id") if len(binding) else plan.iloc[:0]
        reps = [_who(r) for _, r in who.iterrows()]
        shown = ", ".join(reps[:BINDING_EXAMPLES])
        more = f" and {len(reps) - BINDING_EXAMPLES:,} more" if len(reps) > BINDING_EXAMPLES else ""
        rows.append(f"<tr>{td(name)}{td(count, 'integer')}{td(int(count) / total, 'percent')}"
                    f'<td class="reps">{shown}{more}</td></tr>')
    notes = result.summary.record().get("allocation_notes") or []
    gave_way = ("<p>Where the plan gave way:</p><ul>" + "".join(f"<li>{escape(str(n))}</li>" for n in notes)
                + "</ul>") if notes else ""
    return (note("The constraint that set each rep's quota (column <code>binding</code> of plan.csv).")
            + table(["Constraint", "Reps", "Share of reps", "Which reps"], rows) + gave_way)


def _who(rep: pd.Series) -> str:
    """A rep as people know them: the name, with the id beside it (escaped)."""
    name = rep.get("name")
    rid = escape(str(rep["rep_id"]))
    return f"{escape(str(name))} <small>{rid}</small>" if not is_missing(name) and str(name) else rid


def _solver(result: PlanResult) -> str:
    solver = result.summary.record().get("solver") or {}
    status = str(solver.get("status") or "unknown")
    cls = "ok" if status == "optimal" else "warn"
    items = [("Status", escape(_solver_text(solver))), ("Backend", fmt(solver.get("backend"), "plain")),
             ("Objective", fmt(solver.get("objective"), "plain")), ("Best bound", fmt(solver.get("bound"), "plain")),
             ("Gap", "\u2014" if is_missing(solver.get("gap")) else f"{float(solver['gap']):.4%}"),
             ("Models solved", fmt(solver.get("n_solves"), "integer")),
             ("Credit notes in history", fmt(result.summary.record().get("bookings_credit_notes"), "integer"))]
    facts = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in items)
    warn = "" if status == "optimal" else note(
        "The solver stopped (time limit or gap tolerance) before it could prove that no better plan exists: "
        "every constraint holds, but the objective may still improve by up to the gap.")
    # The technical detail is folded away: the status line stays in view, the rest on a click.
    return (f'<p class="status {cls}">{escape(_solver_text(solver))}</p>{warn}<details class="technical">'
            f'<summary>Solver details (for the analyst)</summary><dl class="facts">{facts}</dl></details>')


def render_html(result: PlanResult) -> bytes:
    """The run's report page, self-contained and deterministic.

    Parameters
    ----------
    result : PlanResult
        The plan to show.

    Returns
    -------
    bytes
        UTF-8 HTML: the same result always gives the same bytes.
    """
    from quotaopt import __version__

    s = result.summary.record()
    name = escape(str(s.get("scenario", result.name)))
    year = escape(str(s.get("plan_year", result.plan_year)))
    bodies: dict[str, Callable[[], str]] = {
        "headline": lambda: _headline(s), "exceptions": lambda: _exceptions(result),
        "capacity": lambda: _capacity(result),
        "stretch": lambda: _stretch(result), "simulation": lambda: _simulation(result),
        "periods": lambda: _periods(result), "measures": lambda: _measures(result), "units": lambda: unit_tree(result.units, result.plan),
        "binding": lambda: _binding(result), "solver": lambda: _solver(result),
    }
    titles = {"headline": "Headline figures", "exceptions": "Exceptions: where the plan gave way",
              "capacity": "Quota against capacity per rep",
              "stretch": "Stretch distribution", "simulation": "Attainment and payout (simulation)",
              "periods": "Quota by period", "measures": "Every planned measure", "units": "The unit tree", "binding": "Binding constraints",
              "solver": "Solver"}
    # The measures section exists only for a plan of more than revenue (a revenue plan's page is unchanged).
    shown = list(SECTIONS)
    if result.measures is not None:
        shown.insert(shown.index(("periods", "Periods")) + 1, ("measures", "Measures"))
    if result.books is not None:  # assignment on: the Books section after the exceptions
        from quotaopt.report.books import BOOKS_SECTION, books_html

        shown.insert(2, BOOKS_SECTION)
        bodies["books"] = lambda: books_html(result)
        titles["books"] = "Books: accounts assigned before quotas"
    sections = "".join(f'<section id="{sid}"><h2>{titles[sid]}</h2>{bodies[sid]()}</section>' for sid, _ in shown)
    nav = "".join(f'<a href="#{sid}">{label}</a>' for sid, label in shown)
    status = str((s.get("solver") or {}).get("status") or "unknown")
    badge = f'<span class="badge {"ok" if status == "optimal" else "warn"}">{escape(_solver_text(s.get("solver") or {}))}</span>'
    # A re-plan says so first: parent run, as-of date, frozen periods, what changed.
    change = s.get("replan") if isinstance(s.get("replan"), dict) else {}
    heading, title = f"Quota plan: {name}", f"Quota plan {name} ({year})"
    if change:
        heading = f"{escape(replan_title(change))}: {name}"
        title = f"{escape(replan_title(change))}: quota plan {name} ({year})"
        sections = replan_banner_html(change, s.get("exceptions")) + sections
    page = _assets.PAGE.format(
        title=title, heading=heading, year=year, badge=badge, nav=nav, sections=sections,
        version=escape(__version__), css=_assets.CSS, script=_assets.SCRIPT)
    return page.encode("utf-8")
