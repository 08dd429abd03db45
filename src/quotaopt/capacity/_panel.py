"""The rep x year panel every capacity computation reads, built once, in arrays.

Bookings are summed per rep and observed year into matrices (total, positive deals and
their sum, second-half total, accounts booked); reps.csv becomes aligned vectors. All
later steps (company level, features, candidates, backtest) are array operations on
this, which is what keeps a 100,000-rep company within seconds.

Two rules make the capacity model independent of how the files happen to be written:

* **Sums that do not depend on row order.** Per rep-year sums are rounded to the cent
  (money) after summing, so the last bits that floating-point addition in another order
  could change never reach the model: shuffled rows give the same panel.
* **A key from the data, not the id.** Every rep carries ``key``, a hash of their own
  data (hire date, fte, role, status, yearly totals). Cross-fitting folds and the order
  of training rows come from it, so renaming a rep, or shuffling reps.csv, moves no
  other rep's capacity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quotaopt.capacity._calendar import employed_share, ns, observed_years, year_bounds
from quotaopt.company import CompanyData


@dataclass(frozen=True)
class RepPanel:
    """Reps (rows, sorted by id) and observed years (columns) of one company.

    Attributes
    ----------
    ids : ndarray of str
        rep_id, ascending.
    team : ndarray of int
        Code of each rep's team in ``team_ids``.
    team_ids : ndarray of str
    ka, fte : ndarray of float
        1.0 for role ``ka``; full-time equivalent.
    hire : ndarray of datetime64[ns]
    departed : ndarray of bool
    last_year : ndarray of float
        Year of each rep's last booking (NaN without bookings).
    years : ndarray of int
        Observed years, ascending (see :func:`~quotaopt.capacity._calendar.observed_years`).
    total, deals, deal_sum, h2 : ndarray of shape (reps, years)
        Net bookings, positive deals, their sum, bookings from July on.
    accounts : ndarray of shape (reps, years)
        Distinct accounts booked (NaN when bookings carry no account ids).
    key : ndarray of uint64
        Hash of each rep's own data (see the module docstring).
    booked_pairs : tuple of ndarray
        ``(rep, year column, account code)`` of every distinct account each rep booked on
        in each observed year (empty without account ids); codes index ``account_ids``.
    account_ids : ndarray of str
        The distinct account ids of the bookings.
    """

    ids: np.ndarray
    team: np.ndarray
    team_ids: np.ndarray
    ka: np.ndarray
    fte: np.ndarray
    hire: np.ndarray
    departed: np.ndarray
    last_year: np.ndarray
    years: np.ndarray
    total: np.ndarray
    deals: np.ndarray
    deal_sum: np.ndarray
    h2: np.ndarray
    accounts: np.ndarray
    key: np.ndarray
    booked_pairs: tuple[np.ndarray, np.ndarray, np.ndarray]
    account_ids: np.ndarray

    @property
    def n_reps(self) -> int:
        return len(self.ids)

    def col(self, year: int) -> int | None:
        """Column of an observed ``year`` (None when it is not observed)."""
        j = int(np.searchsorted(self.years, year))
        return j if j < len(self.years) and int(self.years[j]) == year else None

    def share(self, year: int) -> np.ndarray:
        """Fraction of ``year`` each rep was employed (hire date to December 31)."""
        return employed_share(self.hire, year)

    def employed(self, year: int) -> np.ndarray:
        """Reps employed at some point in ``year`` who had not left before it.

        A departed rep is present up to the year of their last booking; one without
        bookings cannot be placed in time and counts as gone.
        """
        _, end = year_bounds(year)
        hired = self.hire < ns(end)
        gone = self.departed & ~(self.last_year >= year)
        return hired & ~gone

    def full_year(self, year: int) -> np.ndarray:
        """Reps employed from January 1 to December 31 of ``year`` (as far as the data tell)."""
        start, _ = year_bounds(year)
        stayed = ~self.departed | (self.last_year > year)
        return (self.hire <= ns(start)) & stayed

    def booked(self, year: int) -> np.ndarray:
        """Net bookings of ``year`` per rep (NaN when the year is not observed)."""
        j = self.col(year)
        return np.full(self.n_reps, np.nan) if j is None else self.total[:, j]


def _factorize(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes and distinct values; free for a categorical column (no pass over the rows)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(dtype="int64"), pd.Index(values.cat.categories)
    codes, uniques = pd.factorize(values)
    return codes, pd.Index(uniques)


def _rep_codes(values: pd.Series, ids: np.ndarray) -> np.ndarray:
    """Position of each value in the sorted ``ids`` (-1 when absent): one hash pass over the rows."""
    codes, uniques = _factorize(values)
    where = pd.Index(ids).get_indexer(pd.Index(uniques).astype(str))
    return np.where(codes >= 0, where[np.maximum(codes, 0)], -1).astype("int64")


def _sum(bucket: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Per-bucket sums, rounded to the cent (see the module docstring)."""
    return np.round(np.bincount(bucket, weights=values, minlength=size), 2)


def _distinct(bucket: np.ndarray, account: np.ndarray, n_accounts: int) -> np.ndarray:
    """Sorted distinct ``bucket * n_accounts + account`` keys (a sort: faster than hashing here)."""
    keys = np.sort(bucket * n_accounts + account)
    return keys[np.concatenate([[True], np.diff(keys) != 0])] if len(keys) else keys


def build_panel(company: CompanyData) -> RepPanel:
    """The :class:`RepPanel` of ``company`` (see the module docstring)."""
    reps = company.reps.sort_values("rep_id", kind="stable")
    ids = reps["rep_id"].astype(str).to_numpy()
    team_ids = np.asarray(sorted(reps["team_id"].astype(str).unique()), dtype=object)
    years = np.asarray(observed_years(company), dtype="int64")
    b = company.bookings
    rep = _rep_codes(b["rep_id"], ids)
    year = b["date"].dt.year.to_numpy(dtype="int64")
    amount = b["amount"].to_numpy(dtype="float64")
    n, k = len(ids), len(years)
    last = np.full(n, np.nan)
    if len(b):
        seen = rep >= 0
        np.fmax.at(last, rep[seen], year[seen].astype("float64"))

    col = np.searchsorted(years, year)
    inside = (col < k) & (rep >= 0)
    inside[inside] &= years[col[inside]] == year[inside]
    rep, col, amount = rep[inside], col[inside], amount[inside]
    month = b["date"].dt.month.to_numpy()[inside]
    bucket = rep * k + col
    size = n * k
    positive = amount > 0
    total = _sum(bucket, amount, size).reshape(n, k)
    deals = _sum(bucket, positive.astype("float64"), size).reshape(n, k)
    deal_sum = _sum(bucket, np.where(positive, amount, 0.0), size).reshape(n, k)
    h2 = _sum(bucket, np.where(month >= 7, amount, 0.0), size).reshape(n, k)
    accounts = np.full((n, k), np.nan)
    empty = np.zeros(0, dtype="int64")
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray] = (empty, empty, empty)
    acc_ids: np.ndarray = np.zeros(0, dtype=object)
    if "account_id" in b.columns:
        acc_code, acc_found = _factorize(b["account_id"])
        acc_ids = np.asarray(acc_found, dtype=object)
        acc_code = acc_code[inside]
        has = acc_code >= 0
        if has.any():
            width = len(acc_ids)
            keys = _distinct(bucket[has], acc_code[has].astype("int64"), width)
            pair_bucket = keys // width
            accounts = np.bincount(pair_bucket, minlength=size).astype("float64").reshape(n, k)
            pairs = (pair_bucket // k, pair_bucket % k, keys % width)

    hire = reps["hire_date"].to_numpy(dtype="datetime64[ns]")
    fte = reps["fte"].to_numpy(dtype="float64")
    ka = (reps["role"] == "ka").to_numpy(dtype="float64")
    departed = (reps["status"] == "departed").to_numpy()
    facts = pd.DataFrame({"hire": hire.astype("int64"), "fte": fte, "ka": ka, "departed": departed})
    totals = pd.DataFrame(total, columns=[f"y{y}" for y in years])
    key = pd.util.hash_pandas_object(pd.concat([facts, totals], axis=1), index=False).to_numpy(dtype="uint64")
    team = pd.Index(team_ids).get_indexer(reps["team_id"].astype(str)).astype("int64")
    return RepPanel(ids=ids, team=team, team_ids=team_ids, ka=ka, fte=fte, hire=hire, departed=departed,
                    last_year=last, years=years, total=total, deals=deals, deal_sum=deal_sum, h2=h2,
                    accounts=accounts, key=key, booked_pairs=pairs, account_ids=acc_ids)
