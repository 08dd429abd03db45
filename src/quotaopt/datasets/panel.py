"""A company folder from a long panel of values (entity x period), e.g. a real public data set.

Real panels (gross product of states, takings of regions, imports of countries, revenue of
routes) can play "reps x years of bookings": each entity becomes a rep, a grouping column
becomes the teams under one root, and each period's value becomes bookings spread evenly
over its months, so every year is observed January to December. The capacity benchmark on
real data (``benchmarks/real_data.py``) is built on this.

Conventions, and why:

* A rep is hired on the first day of its first period with a value (an entity that enters
  the panel late is a rep hired late), and is ``departed`` when it has no value in the
  panel's last year (it left; its last year is then probably partial).
* A missing value inside an entity's span is a period with no bookings (nothing was sold
  as far as the data tell); a zero value books nothing either.
* Values are split into whole cents, the months of a period summing exactly to it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from quotaopt.io import write_csv_tables

Frequency = Literal["year", "quarter"]

__all__ = ["panel_company", "period_start"]


def period_start(values: pd.Series, freq: Frequency) -> pd.Series:
    """First month (as a ``Period[M]``) of each period: ``1998`` or ``"1998 Q3"`` style labels.

    Examples
    --------
    >>> period_start(pd.Series([1998, 1999]), "year").astype(str).tolist()
    ['1998-01', '1999-01']
    >>> period_start(pd.Series(["1998 Q1", "1998 Q3"]), "quarter").astype(str).tolist()
    ['1998-01', '1998-07']
    """
    if freq == "year":
        years = pd.to_numeric(values, errors="raise").astype("int64")
        return pd.Series([pd.Period(year=int(y), month=1, freq="M") for y in years], index=values.index)
    labels = values.astype(str).str.replace(r"\s+", "", regex=True).str.upper()
    quarters = pd.PeriodIndex(labels.to_numpy(), freq="Q")
    return pd.Series(quarters.asfreq("M", how="S"), index=values.index)


def _ids(names: pd.Series, prefix: str) -> pd.Series:
    """Readable, file-safe ids: ``"New South Wales"`` -> ``NEW_SOUTH_WALES`` (numbered when two collide)."""
    taken: dict[str, str] = {}
    for name in sorted(set(names.astype(str))):
        base = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").upper() or prefix
        candidate, k = base, 1
        while candidate in taken.values():
            k += 1
            candidate = f"{base}_{k}"
        taken[name] = candidate
    return names.astype(str).map(taken)


def _most_frequent(values: pd.Series) -> str:
    """The most frequent value as text (the first in sort order on a tie)."""
    counts = values.astype(str).value_counts().sort_index()
    return str(counts.index[int(np.argmax(counts.to_numpy()))])


def _monthly(amounts: np.ndarray, months: int) -> np.ndarray:
    """Each amount split into ``months`` whole-cent parts that sum to it exactly."""
    cents = np.round(amounts * 100.0).astype("int64")
    base = np.floor_divide(cents, months)
    extra = cents - base * months  # 0 .. months-1 cents go to the first months
    parts = np.repeat(base[:, None], months, axis=1)
    parts += (np.arange(months)[None, :] < extra[:, None]).astype("int64")
    return parts / 100.0


def panel_company(panel: pd.DataFrame, out: str | Path, *, entity: str, period: str, value: str,
                  team: str | None = None, freq: Frequency = "year", until: int | None = None,
                  ka_share: float = 0.0, team_names: dict[str, str] | None = None) -> Path:
    """Write a company folder (teams.csv, reps.csv, bookings.csv) from a long panel.

    Parameters
    ----------
    panel : DataFrame
        One row per entity and period.
    out : str or Path
        Folder to write (created; existing files in it are replaced).
    entity, period, value : str
        Columns naming the rep, the period (a year, or a quarter label such as
        ``"1998 Q1"``) and the amount booked in it.
    team : str, optional
        Column grouping entities into teams under one root ``CO`` (default: every rep
        in one team ``T1``). An entity's team is its most frequent value.
    freq : {"year", "quarter"}
        What one period is; its value is spread evenly over its 12 or 3 months.
    until : int, optional
        Last calendar year kept (a backtest of year Y sees nothing after Y).
    ka_share : float, default 0
        Share of reps, largest first by their first year's value, given role ``ka``
        (the rest ``longtail``).
    team_names : dict, optional
        Team value -> display name.

    Returns
    -------
    Path
        The folder written.

    Examples
    --------
    >>> import tempfile
    >>> frame = pd.DataFrame({"who": ["a", "a", "b", "b"], "year": [2020, 2021, 2020, 2021],
    ...                       "sales": [1200.0, 2400.0, 600.0, 0.0]})
    >>> folder = panel_company(frame, tempfile.mkdtemp(), entity="who", period="year", value="sales")
    >>> pd.read_csv(folder / "bookings.csv")["amount"].sum()
    np.float64(4200.0)
    """
    months = 12 if freq == "year" else 3
    frame = panel[[entity, period, value] + ([team] if team else [])].copy()
    frame["month0"] = period_start(frame[period], freq)
    frame["year"] = np.array([p.year for p in frame["month0"]], dtype="int64")
    if until is not None:
        frame = frame.loc[frame["year"] <= until]
    frame = frame.loc[frame[value].notna()]
    frame["rep_id"] = _ids(frame[entity], "REP")
    frame = frame.sort_values(["rep_id", "month0"], kind="stable")
    last_year = int(frame["year"].max())

    first = frame.groupby("rep_id")["month0"].min()
    active = frame.loc[frame["year"] == last_year, "rep_id"].unique()
    team_values = (frame.groupby("rep_id")[team].agg(_most_frequent) if team
                   else pd.Series("T1", index=first.index))
    team_ids = _ids(pd.Series(sorted(team_values.unique())), "T")
    team_id_of = dict(zip(sorted(team_values.unique()), team_ids, strict=True))
    if not team:
        team_id_of = {"T1": "T1"}
    opening = frame.loc[frame["month0"] == frame["rep_id"].map(first)].groupby("rep_id")[value].sum()
    n_ka = int(round(ka_share * len(first)))
    ka = set(opening.sort_values(ascending=False, kind="stable").index[:n_ka])

    names = team_names or {}
    teams = pd.DataFrame({"team_id": ["CO"] + [team_id_of[t] for t in sorted(team_id_of)],
                          "parent_id": [""] + ["CO"] * len(team_id_of),
                          "name": ["Company"] + [names.get(t, str(t)) for t in sorted(team_id_of)]})
    rep_names = frame.groupby("rep_id")[entity].first().astype(str)
    reps = pd.DataFrame({
        "rep_id": first.index,
        "team_id": [team_id_of[str(team_values[r])] for r in first.index],
        "role": ["ka" if r in ka else "longtail" for r in first.index],
        "hire_date": [p.to_timestamp().strftime("%Y-%m-%d") for p in first],
        "status": ["active" if r in set(active) else "departed" for r in first.index],
        "name": rep_names.reindex(first.index).to_numpy(),
    })
    parts = _monthly(frame[value].to_numpy(dtype="float64"), months)
    start = frame["month0"].to_numpy()
    dates = [(p + k).to_timestamp() + pd.Timedelta(days=14) for p in start for k in range(months)]
    bookings = pd.DataFrame({"date": pd.DatetimeIndex(dates).strftime("%Y-%m-%d"),
                             "rep_id": np.repeat(frame["rep_id"].to_numpy(), months),
                             "amount": parts.reshape(-1)})
    bookings = bookings.loc[bookings["amount"] != 0]
    return write_csv_tables(Path(out), {"teams": teams, "reps": reps, "bookings": bookings})
