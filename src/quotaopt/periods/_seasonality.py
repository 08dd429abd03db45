"""Seasonality learned from bookings: month weights per group, shrunk where history is thin.

A group's weight for calendar month ``m`` is its mean booking total in month ``m`` over
the years where that month is covered by the data, normalised to sum to 1. Averaging
per calendar month (rather than pooling whole years) keeps partial first and last
years from biasing the shape. A month's negative total (credit notes) counts as 0.

Learned shapes copy noise unless they are shrunk, and how much depends on how noisy
they are, so the default shrinkage is empirical Bayes (``shrink="auto"``):

- each month's raw share has a noise variance, the larger of its sampling variance
  ``p (1 - p) / n_eff`` (``n_eff = (sum |amount|)^2 / sum amount^2``, Kish: a few big deals
  count as few) and the variance of that month's share between full years divided by
  their number;
- the shape's signal is what its spread around the prior exceeds that noise by
  (method of moments), and the raw shape keeps ``signal / (signal + noise)`` of its
  deviation from the prior (James-Stein);
- the pooled ``__all__`` row is shrunk toward flat (1/12), each group row toward
  ``__all__``, so a small role gets the company's shape rather than noise, a company
  whose bookings fall at random dates gets a flat year, and with no history at all
  everything is flat.

A number for ``shrink`` uses a fixed pseudo-count instead: ``l = n_eff / (n_eff + shrink)``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from quotaopt.metrics import wape

ALL = "__all__"
MONTHS = list(range(1, 13))
#: Default shrinkage: empirical Bayes from the shape's own noise (module docstring).
DEFAULT_SHRINK = "auto"
#: Slack (days) for a month at either end of the data to count as fully observed.
_EDGE_SLACK_DAYS = 7


def _covered_months(dates: pd.Series) -> pd.PeriodIndex:
    """Calendar months fully inside the data span (give or take a week at the edges)."""
    first, last = dates.min(), dates.max()
    months = pd.period_range(first.to_period("M"), last.to_period("M"), freq="M")
    starts = months.to_timestamp(how="start")
    ends = months.to_timestamp(how="end").normalize()
    slack = pd.Timedelta(days=_EDGE_SLACK_DAYS)
    keep = (starts + slack >= first) & (ends - slack <= last)
    return months[np.asarray(keep)]


def _shares(monthly: pd.DataFrame) -> pd.DataFrame:
    """Rows = groups, columns = (year, month) totals -> weights per calendar month."""
    months = monthly.columns.get_level_values(1)
    mean = monthly.T.groupby(months).mean().T.reindex(columns=MONTHS, fill_value=0.0)
    mean = mean.clip(lower=0.0)
    total = mean.sum(axis=1)
    flat = pd.DataFrame(1.0 / 12, index=mean.index, columns=MONTHS)
    shares = mean.div(total.where(total > 0), axis=0)
    return shares.where(total > 0, flat, axis=0)


def _keep(raw: np.ndarray, prior: np.ndarray, n_eff: float, yearly: np.ndarray | None,
          shrink: float | str) -> float:
    """Share of the raw shape's deviation from ``prior`` that is kept (module docstring).

    Parameters
    ----------
    raw, prior : ndarray of shape (12,)
    n_eff : float
        Effective number of bookings behind ``raw``.
    yearly : ndarray of shape (years, 12), optional
        Month shares of each full year, for the between-year noise.
    shrink : float or "auto"
    """
    if not isinstance(shrink, str):
        return n_eff / (n_eff + shrink) if n_eff + shrink > 0 else 1.0
    if n_eff <= 0:
        return 0.0
    noise = raw * (1.0 - raw) / n_eff
    if yearly is not None and len(yearly) >= 2:
        noise = np.maximum(noise, yearly.var(axis=0, ddof=1) / len(yearly))
    noise_level = float(noise.mean())
    signal = max(0.0, float(np.mean((raw - prior) ** 2)) - noise_level)
    return signal / (signal + noise_level) if signal + noise_level > 0 else 1.0


def _yearly_shares(monthly: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per group: month shares of each full (12-month) year, rows = years."""
    out: dict[str, np.ndarray] = {}
    years = monthly.columns.get_level_values(0)
    full = [y for y in sorted(set(years)) if int((years == y).sum()) == 12]
    for key, row in monthly.iterrows():
        shares = []
        for y in full:
            values = np.clip(row.loc[y].reindex(MONTHS, fill_value=0.0).to_numpy(dtype=float), 0.0, None)
            if values.sum() > 0:
                shares.append(values / values.sum())
        if shares:
            out[str(key)] = np.vstack(shares)
    return out


def _n_eff(amount: pd.Series, key: pd.Series) -> pd.Series:
    a = amount.abs()
    frame = pd.DataFrame({"key": key.to_numpy(), "a": a.to_numpy(), "a2": (a * a).to_numpy()})
    g = frame.groupby("key")[["a", "a2"]].sum()
    return (g["a"] ** 2 / g["a2"].where(g["a2"] > 0)).fillna(0.0)


def learn_month_weights(
    bookings: pd.DataFrame,
    groups: pd.Series | Mapping[str, str] | None = None,
    shrink: float | str = DEFAULT_SHRINK,
) -> pd.DataFrame:
    """Learn month-of-year weights per group from booking history.

    Parameters
    ----------
    bookings : DataFrame
        Columns ``date`` (datetime64), ``rep_id`` (str), ``amount`` (float).
    groups : Series or mapping, optional
        ``rep_id -> group key`` (e.g. role or team). Reps without a group count in
        ``__all__`` only.
    shrink : float or "auto"
        ``"auto"`` (default): empirical Bayes from each shape's noise (module docstring).
        A number: pseudo-count of effective bookings; larger pulls thin groups harder
        toward ``__all__`` (and ``__all__`` toward flat). 0 disables shrinkage.

    Returns
    -------
    DataFrame
        Index: group keys plus ``__all__`` (last); columns 1..12; rows sum to 1.
    """
    if isinstance(shrink, str) and shrink != "auto" or not isinstance(shrink, str) and shrink < 0:
        raise ValueError(f"shrink must be 'auto' or >= 0, got {shrink!r}")
    flat = np.full(12, 1.0 / 12)
    if bookings.empty:
        return pd.DataFrame([flat], index=pd.Index([ALL], name="group"), columns=MONTHS)
    dates = pd.to_datetime(bookings["date"])
    covered = _covered_months(dates)
    # Months as integers (year x 12 + month - 1): Period objects cost minutes on millions of rows.
    month_no = (dates.dt.year * 12 + dates.dt.month - 1).to_numpy()
    inside = np.isin(month_no, np.asarray(covered.year) * 12 + np.asarray(covered.month) - 1)
    b = pd.DataFrame({
        "rep_id": bookings["rep_id"].astype(str).to_numpy()[inside],
        "year": month_no[inside] // 12,
        "month": month_no[inside] % 12 + 1,
        "amount": bookings["amount"].astype(float).to_numpy()[inside],
    })
    group_map = pd.Series(dict(groups)) if isinstance(groups, Mapping) else groups
    b["group"] = b["rep_id"].map(group_map.astype(str)) if group_map is not None else np.nan
    cols = pd.MultiIndex.from_arrays([covered.year, covered.month])

    def monthly(keys: pd.Series) -> pd.DataFrame:
        t = b.assign(key=keys).dropna(subset=["key"])
        tot = t.groupby(["key", "year", "month"])["amount"].sum().unstack([1, 2], fill_value=0)
        return tot.reindex(columns=cols, fill_value=0.0)

    all_monthly = monthly(pd.Series(ALL, index=b.index))
    all_raw = _shares(all_monthly).loc[ALL].to_numpy()
    n_all = float(_n_eff(b["amount"], pd.Series(ALL, index=b.index)).get(ALL, 0.0))
    lam = _keep(all_raw, flat, n_all, _yearly_shares(all_monthly).get(ALL), shrink)
    pooled = lam * all_raw + (1 - lam) * flat

    rows: dict[str, np.ndarray] = {}
    grouped = b.dropna(subset=["group"])
    if not grouped.empty:
        group_monthly = monthly(b["group"])
        raw = _shares(group_monthly)
        yearly = _yearly_shares(group_monthly)
        n = _n_eff(grouped["amount"], grouped["group"])
        for key in sorted(raw.index):
            lam_g = _keep(raw.loc[key].to_numpy(), pooled, float(n[key]), yearly.get(str(key)), shrink)
            rows[str(key)] = lam_g * raw.loc[key].to_numpy() + (1 - lam_g) * pooled
    if group_map is not None:
        # Groups named in the mapping but with no bookings in the covered span get the pooled shape.
        for key in sorted(set(group_map.astype(str))):
            rows.setdefault(key, pooled.copy())
    rows[ALL] = pooled
    out = pd.DataFrame.from_dict(rows, orient="index", columns=MONTHS)
    out = out.div(out.sum(axis=1), axis=0)
    out.index.name = "group"
    return out


def quarter_weights(month_weights: np.ndarray | pd.Series) -> np.ndarray:
    """Sum 12 month weights into 4 quarter weights."""
    w = np.asarray(month_weights, dtype=np.float64)
    return w.reshape(4, 3).sum(axis=1)


def company_quarter_weights(month_weights: pd.DataFrame) -> np.ndarray:
    """Company-wide quarter shares from learned month weights (the ``__all__`` row, else the mean row)."""
    row = month_weights.loc[ALL] if ALL in month_weights.index else month_weights.mean()
    months = np.asarray(row, dtype=float)[:12]
    return quarter_weights(months) / months.sum()


def average_deal_size(bookings: pd.DataFrame) -> pd.Series:
    """Mean positive booking amount per rep (credit notes are not deals)."""
    pos = bookings[bookings["amount"] > 0]
    return pos.groupby(pos["rep_id"].astype(str))["amount"].mean().rename("avg_deal_size")


def learn_quarter_noise(
    bookings: pd.DataFrame,
    groups: pd.Series | Mapping[str, str] | None = None,
    month_weights: pd.DataFrame | None = None,
    floor_share: float = 0.02,
) -> float:
    """Within-year noise of a rep's quarter shares, for the simulator's ``quarter_noise``.

    For every rep-year strictly inside the rep's booking history (so hires and leavers do
    not count), ``r_q = log(share_q / w_q)`` with ``w`` the group's seasonal quarter
    shares (``month_weights``, learned when not given) and shares floored at
    ``floor_share``. The simulator multiplies quarters by ``exp(noise x e_q)`` and
    renormalises, which leaves ``noise^2`` as the within-year variance of ``r``; the
    estimate is the root of the mean sample variance (ddof 1) over rep-years.

    Returns
    -------
    float
        The log-sd, clipped to [0, 1.5]; 0 when no rep-year qualifies.
    """
    if bookings.empty:
        return 0.0
    weights = month_weights if month_weights is not None else learn_month_weights(bookings, groups)
    dates = pd.to_datetime(bookings["date"])
    covered = _covered_months(dates)
    full = [y for y in sorted(set(covered.year)) if int((covered.year == y).sum()) == 12]
    b = pd.DataFrame({"rep_id": bookings["rep_id"].astype(str).to_numpy(), "year": dates.dt.year.to_numpy(),
                      "q": dates.dt.quarter.to_numpy(), "amount": bookings["amount"].to_numpy(dtype=float)})
    span = b.groupby("rep_id")["year"].agg(["min", "max"])
    b = b[b["year"].isin(full)]
    tot = b.pivot_table(index=["rep_id", "year"], columns="q", values="amount", aggfunc="sum", fill_value=0.0)
    tot = tot.reindex(columns=[1, 2, 3, 4], fill_value=0.0).clip(lower=0.0)
    reps = tot.index.get_level_values("rep_id")
    years = tot.index.get_level_values("year")
    inner = (years > span["min"].reindex(reps).to_numpy()) & (years < span["max"].reindex(reps).to_numpy())
    year_total = tot.sum(axis=1).to_numpy()
    keep = inner & (year_total > 0)
    if not keep.any():
        return 0.0
    group_map = pd.Series(dict(groups)) if isinstance(groups, Mapping) else groups
    keys = pd.Series(reps[keep]).map(group_map.astype(str)) if group_map is not None else pd.Series([ALL] * keep.sum())
    keys = keys.where(keys.isin(weights.index), ALL).fillna(ALL)
    w = np.stack([quarter_weights(weights.loc[k].to_numpy()) for k in keys])
    share = tot.to_numpy()[keep] / year_total[keep, None]
    r = np.log(np.maximum(share, floor_share) / np.maximum(w, floor_share))
    return float(np.clip(np.sqrt(np.mean(r.var(axis=1, ddof=1))), 0.0, 1.5))


def seasonality_backtest(
    bookings: pd.DataFrame,
    year: int,
    groups: pd.Series | Mapping[str, str] | None = None,
    shrink: float | str = DEFAULT_SHRINK,
) -> dict[str, float]:
    """Score learned month weights against a held-out year, versus a flat 1/12 split.

    Weights are learned on bookings before ``year``. For every rep booking in ``year``,
    its actual annual total is split by the learned weights (its group's row, else
    ``__all__``) and by 1/12; both are compared with the actual monthly bookings.

    Returns
    -------
    dict
        ``wape_learned`` / ``wape_flat`` at rep-month level, the same at group-month
        (``group_*``) and company-month (``company_*``) level, and ``improvement``
        (``1 - wape_learned / wape_flat`` at rep level).
    """
    dates = pd.to_datetime(bookings["date"])
    weights = learn_month_weights(bookings[dates.dt.year < year], groups, shrink)
    held = bookings[dates.dt.year == year].assign(month=dates[dates.dt.year == year].dt.month)
    held = held.assign(rep_id=held["rep_id"].astype(str))
    actual = held.pivot_table(index="rep_id", columns="month", values="amount", aggfunc="sum", fill_value=0.0)
    actual = actual.reindex(columns=MONTHS, fill_value=0.0)
    group_map = pd.Series(dict(groups)) if isinstance(groups, Mapping) else groups
    keys = (actual.index.to_series().map(group_map.astype(str)) if group_map is not None
            else pd.Series(ALL, index=actual.index)).fillna(ALL)
    keys = keys.where(keys.isin(weights.index), ALL)
    w = weights.reindex(keys.tolist()).to_numpy()
    total = actual.sum(axis=1).to_numpy()[:, None]
    a = actual.to_numpy()
    learned, flat = total * w, np.repeat(total / 12, 12, axis=1)

    def by(key: np.ndarray, m: np.ndarray) -> np.ndarray:
        return pd.DataFrame(m).groupby(key).sum().to_numpy()

    k = keys.to_numpy()
    out = {
        "wape_learned": wape(learned, a),
        "wape_flat": wape(flat, a),
        "group_wape_learned": wape(by(k, learned), by(k, a)),
        "group_wape_flat": wape(by(k, flat), by(k, a)),
        "company_wape_learned": wape(learned.sum(axis=0), a.sum(axis=0)),
        "company_wape_flat": wape(flat.sum(axis=0), a.sum(axis=0)),
        "reps": float(len(actual)),
    }
    out["improvement"] = 1.0 - out["wape_learned"] / out["wape_flat"] if out["wape_flat"] else float("nan")
    return out
