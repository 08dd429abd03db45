"""``generate_company``: a whole synthetic company folder with its hidden truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.company import parse_date_in_year
from quotaopt.datasets import books as books_mod
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


def _check_args(n_reps: Any, years: Any, seed: Any, end_year: Any, fmt: Any) -> list[Problem]:
    problems = []

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
    opportunities: bool = False,
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
    opportunities : bool
        With ``actuals_through``: also write ``opportunities.<fmt>``, the CRM pipeline behind
        the bookings as it stood on that date, with weekly snapshots
        (:mod:`quotaopt.datasets.pipeline`), and every opportunity's outcome in
        ``truth/opportunities``. Seeds of everything else stay as they are.

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
    shock per year, model parameters).
    """
    problems = _check_args(n_reps, years, seed, end_year, fmt)
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
    base, by_role = seasonality(rng_season)
    sales = sales_mod.simulate(org, staff, books, cal, by_role, rng_sales)
    quota = last_quotas(org, staff, sales, cal)

    ids = tables.Ids(staff, books)
    history = pd.concat([tables.bookings_table(sales, ids, t) for t in range(1, years + 1)], ignore_index=True)
    plan = tables.bookings_table(sales, ids, years + 1)
    data = {
        "teams": tables.teams_table(org),
        "reps": tables.reps_table(org, staff, ids, quota),
        "bookings": history,
        "accounts": tables.accounts_table(org, staff, books, ids),
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
    }
    meta = _meta(args, cal, sales, counts)

    return write_company_folder(out, {**data, **{f"truth/{name}": frame for name, frame in truth.items()}}, fmt,
                                meta=meta, overwrite=overwrite)
