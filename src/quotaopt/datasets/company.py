"""``generate_company``: a whole synthetic company folder with its hidden truth."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.company import parse_date_in_year
from quotaopt.datasets import books as books_mod
from quotaopt.datasets import customers as customers_mod
from quotaopt.datasets import lines as lines_mod
from quotaopt.datasets import org as org_mod
from quotaopt.datasets import sales as sales_mod
from quotaopt.datasets import tables
from quotaopt.datasets._calendar import RAMP, Year, seasonality
from quotaopt.datasets.quotas import last_quotas
from quotaopt.errors import InputError, Problem
from quotaopt.io import check_company_out_dir, write_company_folder

FORMATS = ("csv", "parquet")
GENERATOR = "quotaopt.datasets/1"


def _problem(arg: str, message: str) -> Problem:
    return Problem("generate_company", message, column=arg)


def _check_args(n_reps: Any, years: Any, seed: Any, end_year: Any, fmt: Any, books: dict[str, Any]) -> list[Problem]:
    problems = []
    for name, value in books.items():
        high = 3.0 if name == "imbalance" else 1.0
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= high:
            problems.append(_problem(name, f"must be a number in [0, {high:g}] (got {value!r})"))

    def whole(name: str, value: Any, low: int, high: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
            problems.append(_problem(name, f"must be a whole number in [{low}, {high}] (got {value!r})"))

    whole("n_reps", n_reps, 1, 1_000_000)
    whole("years", years, 1, 50)
    whole("seed", seed, 0, 2**63 - 1)
    whole("end_year", end_year, 1901, 2199)
    if fmt not in FORMATS:
        problems.append(_problem("fmt", f"not allowed (got {fmt!r}, expected one of {', '.join(FORMATS)})"))
    return problems


def _meta(args: dict[str, Any], years: list[Year], sales: sales_mod.Sales, counts: dict[str, int]) -> dict[str, Any]:
    log_team = np.log(sales.team_shock)
    return {
        "generator": GENERATOR,
        **args,
        "history_years": [y.year for y in years[1:-1]],
        "plan_year": years[-1].year,
        "counts": counts,
        "shocks": {
            str(y.year): {
                "company": float(sales.company_shock[t]),
                "team_log_sd": round(float(log_team[:, t].std()), 6),
            }
            for t, y in enumerate(years)
            if t > 0
        },
        "team_shocks_file": "team_shocks",
        "params": {
            "base_rate": sales_mod.BASE_RATE,
            "deal_mean": sales_mod.DEAL_MEAN,
            "deal_sigma": sales_mod.DEAL_SIGMA,
            "deal_size_elasticity": sales_mod.DEAL_SIZE_ELASTICITY,
            "company_shock_sd": sales_mod.COMPANY_SHOCK_SD,
            "team_shock_sd": sales_mod.TEAM_SHOCK_SD,
            "credit_rate": sales_mod.CREDIT_RATE,
            "skill_sd": org_mod.SKILL_SD,
            "skill_rho": org_mod.SKILL_RHO,
            "attrition": org_mod.ATTRITION,
            "ramp": RAMP.tolist(),
            "book_elasticity": books_mod.BOOK_ELASTICITY,
            "white_space_elasticity": books_mod.WHITE_SPACE_ELASTICITY,
            "capacity": "base_rate[role] * exp(log_skill) * (book/median book of role)^book_elasticity"
            " * exp(white_space_elasticity * log white space rel. median) * market growth * fte,"
            " spread by role month weights, x ramp by quarter of tenure x share of business days employed",
        },
    }


def generate_company(
    out_dir: str | Path,
    n_reps: int = 60,
    years: int = 3,
    seed: int = 0,
    end_year: int = 2026,
    actuals_through: str | dt.date | None = None,
    fmt: str = "csv",
    *,
    overwrite: bool = False,
    product_lines: int = 0,
    unowned: float = 0.0,
    vacant: float = 0.0,
    imbalance: float = 0.0,
    opportunities: bool = False,
    churn: float = 0.0,
    activities: bool = False,
) -> Path:
    """Generate a synthetic company data folder (contract §1) with a known ground truth.

    History covers ``end_year - years + 1 .. end_year``; the plan year is ``end_year + 1``.
    The same arguments always give byte-identical files.

    Parameters
    ----------
    out_dir : str or Path
        Folder to create. It may exist only if empty (or with ``overwrite=True``); it is
        built beside itself and renamed into place, so it appears whole or not at all.
    n_reps : int
        Seats (reps employed at any time); departures and hires add rows to reps.csv.
    years : int
        Years of booking history.
    seed : int
        Seed of all randomness.
    end_year : int
        Last history year.
    actuals_through : str or date, optional
        A date in the plan year: also write ``actuals.<fmt>`` with the plan-year deals up
        to and including that date.
    fmt : {"csv", "parquet"}
        File format of the tables (``truth/meta.json`` is always JSON).
    overwrite : bool
        Replace an existing, non-empty ``out_dir`` that an earlier ``generate`` wrote
        (it has ``truth/meta.json``); any other folder, a link, the working directory
        and its parents are refused.
    product_lines : int
        0 (default): no ``product_line`` column, and every file as it always was. 1 to 6:
        each deal gets a line (:mod:`quotaopt.datasets.lines`), with ``truth/line_mix``;
        revenue and every other file stay exactly what they are without lines.
    unowned : float
        New accounts nobody owns yet, as a share of each team's accounts (0 to 1): an empty
        ``rep_id`` in accounts.csv, no bookings, in the team's territories. Default 0.
    vacant : float
        Share of seats (0 to 1, at least one seat when > 0) whose rep leaves during the last
        history year and is not replaced: accounts.csv still names the departed rep and
        nobody sells to those accounts in the plan year. Default 0.
    imbalance : float
        Log-sd (0 to 3) of the weights by which each team's accounts are dealt to its seats,
        before any history: books of uneven size from the first year on. Default 0 (each seat
        its own draw of 10-20 key or 20-40 long-tail accounts).
    opportunities : bool
        With ``actuals_through``: also write ``opportunities.<fmt>``, the CRM pipeline behind
        the bookings as it stood on that date, with weekly snapshots
        (:mod:`quotaopt.datasets.pipeline`), and every opportunity's outcome in
        ``truth/opportunities``. Seeds of everything else stay as they are.
    churn : float
        Yearly probability (0 to 0.5) that an active account stops buying; each seat acquires
        as many of its prospects as it lost (:mod:`quotaopt.datasets.customers`). Deals keep
        their count, date, rep and amount, only their accounts move; ``truth/account_life``
        (account_id, start_year, end_year) says when each account could buy. Default 0:
        every account buys all along, and every file is as without the option.
    activities : bool
        Also write ``activities.<fmt>`` (rep_id, date, metric, value: visits, conversion,
        collection_days, satisfaction per rep and month of the history), correlated with the
        rep's bookings (:mod:`quotaopt.datasets.activities`); with ``actuals_through``,
        ``activities_actuals.<fmt>`` holds the plan year's rows to that date. Truth:
        ``truth/plan_year_activities`` and ``truth/activity_levels``. Default off.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    InputError
        An argument out of range, an unknown format, ``actuals_through`` outside the
        plan year, or ``out_dir`` not empty without ``overwrite``.

    Notes
    -----
    ``truth/`` holds what no model may see: ``plan_year_bookings`` (the plan year's deals),
    ``capacity`` (rep_id, year, capacity, capacity_with_shocks for every rep-year worked,
    plan year included), ``seasonality`` (month, weight, and the per-role weights),
    ``team_shocks`` (team_id, year, shock) and ``meta.json`` (arguments, counts, company
    shock per year, model parameters). When ``unowned``, ``vacant`` or ``imbalance`` is set,
    ``truth/`` also holds ``account_value`` (account_id, potential, white_space, growth) and
    ``rep_rate`` (rep_id, role, rate), from which :func:`quotaopt.datasets.book_capacity`
    gives every plan-year rep's expected bookings for any assignment of accounts; the
    defaults leave every file byte for byte as without them.
    """
    book_options = {"unowned": unowned, "vacant": vacant, "imbalance": imbalance}
    problems = _check_args(n_reps, years, seed, end_year, fmt, book_options)
    if isinstance(churn, bool) or not isinstance(churn, int | float) or not 0.0 <= churn <= customers_mod.MAX_CHURN:
        problems.append(_problem("churn", f"must be a number in [0, {customers_mod.MAX_CHURN:g}] (got {churn!r})"))
    if isinstance(product_lines, bool) or not isinstance(product_lines, int | np.integer) \
            or not 0 <= product_lines <= len(lines_mod.LINE_NAMES):
        problems.append(_problem("product_lines", f"must be a whole number in [0, {len(lines_mod.LINE_NAMES)}] "
                                 f"(got {product_lines!r})"))
    if problems:
        raise InputError(problems)
    plan_year = end_year + 1
    through = (None if actuals_through is None
               else parse_date_in_year(actuals_through, plan_year, "generate_company", "actuals_through"))
    out = Path(out_dir)
    check_company_out_dir(out, overwrite)  # before the work, not after

    first_year = end_year - years  # a warm-up year: gives every history year a previous year
    cal = [Year.of(first_year + t) for t in range(years + 2)]
    # A sixth child for the pipeline: spawning more children leaves the first five unchanged.
    rng_org, rng_staff, rng_books, rng_season, rng_sales, rng_pipeline = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)
    )
    org = org_mod.build_org(n_reps, rng_org)
    staff = org_mod.staff_seats(org, first_year, years, rng_staff)
    books = books_mod.build_books(org, rng_books)
    # The book options draw from a stream of their own, so without them nothing changes.
    rng_extra = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(5,)))
    with_books = any(v > 0 for v in book_options.values())
    if vacant > 0 and n_reps > 1:
        staff = org_mod.leave_vacant(staff, vacant, cal[years], rng_extra)
    if imbalance > 0:
        books = books_mod.unbalance(books, org, imbalance, rng_extra)
    logos = books_mod.new_logos(books, org, unowned, rng_extra) if unowned > 0 else None
    base, by_role = seasonality(rng_season)
    sales = sales_mod.simulate(org, staff, books, cal, by_role, rng_sales)
    quota = last_quotas(org, staff, sales, cal)
    lives = None
    if churn > 0:
        # Its own stream (child 7 of the seed): only the accounts deals land on move.
        rng_customers = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
        lives = customers_mod.account_lives(books, len(cal), float(churn), rng_customers)
        sales = dataclasses.replace(sales, deals=customers_mod.repick_accounts(sales.deals, books, staff, lives,
                                                                                rng_customers))

    ids = tables.Ids(staff, books, 0 if logos is None else len(logos.team))
    line_names = None
    if product_lines:
        # Its own stream (child 6 of the seed; 5 is the pipeline's), so the other streams and files do not move.
        rng_lines = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(6,)))
        line_index, line_truth = lines_mod.assign_lines(sales.deals, len(staff.seat), product_lines, rng_lines)
        line_names = np.asarray(line_truth.names, dtype=object)[line_index]
    history = pd.concat([tables.bookings_table(sales, ids, t, line_names) for t in range(1, years + 1)],
                        ignore_index=True)
    plan = tables.bookings_table(sales, ids, years + 1, line_names)
    data = {
        "teams": tables.teams_table(org),
        "reps": tables.reps_table(org, staff, ids, quota),
        "bookings": history,
        "accounts": tables.accounts_table(org, staff, books, ids, logos),
        "territories": tables.territories_table(books, ids),
    }
    if through is not None:
        data["actuals"] = tables.until(plan, through.isoformat())
    truth = {
        "plan_year_bookings": plan,
        "capacity": tables.capacity_table(sales, ids, cal),
        "seasonality": tables.seasonality_table(base, by_role),
        "team_shocks": tables.team_shocks_table(org, sales, cal),
    }
    if product_lines:
        truth["line_mix"] = lines_mod.line_mix_table(line_truth, ids.rep, sales.employed,
                                                     [y.year for y in cal[1:]])
    if lives is not None:
        truth["account_life"] = customers_mod.account_life_table(lives, ids.account, [y.year for y in cal])
    if activities:
        from quotaopt.datasets import activities as activities_mod

        # Child 8 of the seed, drawn after everything else: no other file moves.
        rng_activities = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(8,)))
        rows = activities_mod.simulate_activities(org, staff, books, sales, cal, rng_activities)
        data["activities"] = activities_mod.activities_table(rows[:-1], ids.rep)
        plan_rows = activities_mod.activities_table(rows[-1:], ids.rep)
        if through is not None:
            data["activities_actuals"] = tables.until(plan_rows, through.isoformat())
        truth["plan_year_activities"] = plan_rows
        truth["activity_levels"] = activities_mod.levels_table(rows, ids.rep, [y.year for y in cal[1:]])
    if with_books:
        truth["account_value"] = tables.account_value_table(books, logos, ids, years)
        truth["rep_rate"] = tables.rep_rate_table(org, staff, books, sales, ids, years)
    if opportunities and through is not None:
        from quotaopt.datasets import pipeline

        opp = pipeline.simulate_opportunities(sales.deals, org.seat_ka[staff.seat],
                                              {t for t in (years - 1, years, years + 1) if t >= 1}, rng_pipeline)
        data["opportunities"] = pipeline.snapshots(opp, np.datetime64(through.isoformat(), "D"), ids.rep, ids.account)
        truth["opportunities"] = pipeline.truth_table(opp, ids.rep)
    counts = {name: len(frame) for name, frame in {**data, **truth}.items()}
    args = {
        "seed": int(seed), "n_reps": int(n_reps), "years": int(years), "end_year": int(end_year),
        "actuals_through": None if through is None else through.isoformat(), "fmt": fmt,
        **({"opportunities": True} if opportunities else {}),
        **({"churn": float(churn)} if churn > 0 else {}),
        **({"activities": True} if activities else {}),
    }
    meta = _meta(args, cal, sales, counts)
    if product_lines:
        meta["product_lines"] = {"names": list(line_truth.names),
                                 "company_mix": np.round(line_truth.company_mix, 6).tolist(),
                                 "relative_growth": np.round(line_truth.growth, 6).tolist(),
                                 "season": np.round(line_truth.season, 6).tolist()}
    if lives is not None:
        meta["customers"] = {"churn": float(churn), "initial_active_share": round(customers_mod.initial_active_share(churn, len(cal)), 6),
                             "anchor": "each seat's account of largest potential stays active"}
    if activities:
        from quotaopt.datasets import activities as activities_mod

        meta["activities"] = {"metrics": list(activities_mod.METRICS), "visits": activities_mod.VISITS,
                              "conversion": activities_mod.CONVERSION,
                              "collection_days": activities_mod.COLLECTION_DAYS,
                              "satisfaction": activities_mod.SATISFACTION, "elasticity": activities_mod.ELASTICITY,
                              "rep_sd": activities_mod.REP_SD, "month_sd": activities_mod.MONTH_SD}
    if with_books:
        meta.update(book_options)
        meta["params"]["median_book"] = {k: round(v, 2) for k, v in books.median_book.items()}

    return write_company_folder(out, {**data, **{f"truth/{name}": frame for name, frame in truth.items()}}, fmt,
                                meta=meta, overwrite=overwrite)
