"""What past years say about reading a year from its first months: luck scale and shape shift.

The forecast (:mod:`quotaopt.tracking._forecast`) reads a rep's level from what it booked
by the as-of date over the share ``u`` of the year the plan expected done by then, and
books the rest of the year as deal luck around that level. Two of its assumptions can be
checked on every past year of the history, at each quarter end ``k``: with ``A`` booked
by then and ``R`` after, ``d = log(A / u) - log(R / (1 - u))`` is, by the model, deal luck
with mean ``-(v(u) - v(1 - u)) / 2`` and variance ``v(u) + v(1 - u)``
(``v(f) = log(1 + kappa / f)``).

- **Luck scale.** The compound-Poisson ``kappa`` holds where bookings are independent
  deals; a smooth series (monthly billing, one booking per month) varies far less and
  its first months say far more about the rest. ``kappa`` is multiplied, per role, by the
  ``s`` that makes the model's variance of ``d`` equal the observed one (within each
  rep's own years where reps have two or more, so a rep's persistent shape below does
  not count as luck).
- **Shape shift.** The plan's period shape is its role's seasonality; a rep whose own
  year runs differently (a state whose high season is winter, a business that grows
  within the year) shows it in every year as a mean of ``d`` away from the model's. The
  share done is corrected on the logit scale, ``logit(u') = logit(u) + e``: exactly what
  a shape with ``u'`` done by the quarter end would make of ``d``. ``e`` is the role's
  mean excess (shrunk to zero unless it holds over the years: James-Stein on the year
  means) plus the rep's own excess over its role, shrunk by empirical Bayes (between-rep
  variance against each rep's noise over its years). Between quarter ends ``e`` is
  interpolated in ``u``; a rep without history takes its role's.

Only calendar years that the history covers from their January to their December count,
and for each plan rep only the years it worked whole and ramped (hired at least
``len(allocation.ramp)`` quarters before the year began): a rep still ramping books
more of its year late, which is its ramp, not its shape. With one such year per rep
nothing persistent can be told from luck, and the shape shift is zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from quotaopt.tracking._forecast import luck_var

#: Fewest past rep-year splits a role needs for its own luck scale (else all roles pooled).
MIN_POINTS = 30
#: Range of the luck scale (1 = the compound-Poisson model as it is).
MIN_SCALE, MAX_SCALE = 1e-3, 10.0
#: Winsorising quantiles of ``d`` per quarter end (a refund or a rep's odd year is not the rule).
CLIP = (0.01, 0.99)


@dataclass(frozen=True)
class HistoryFit:
    """Per plan rep: the luck scale and the logit shift of the share done at the quarter ends.

    Attributes
    ----------
    scale : ndarray
        Factor on ``kappa`` (and on the deal size it comes from).
    at, shift : ndarray
        (reps, 3): the plan's expected share done at the end of Q1, Q2 and Q3, and the
        logit shift ``e`` there.
    by_role : dict
        Role -> what was fitted (scale, points, observed and model variance, mean shift).
    """

    scale: np.ndarray
    at: np.ndarray
    shift: np.ndarray
    by_role: dict[str, dict[str, float]]

    def share_done(self, done: np.ndarray) -> np.ndarray:
        """The expected share done, corrected by the rep's shape shift (0 and 1 stay)."""
        u = np.clip(np.asarray(done, dtype=np.float64), 0.0, 1.0)
        e = np.array([np.interp(ui, at, sh) for ui, at, sh in zip(u, self.at, self.shift, strict=True)])
        inner = (u > 0) & (u < 1)
        with np.errstate(divide="ignore"):
            return np.where(inner, expit(logit(np.where(inner, u, 0.5)) + e), u)


def split_points(history: pd.DataFrame, hires: pd.Series, ramp_quarters: int = 4) -> pd.DataFrame:
    """One row per past whole rep-year and quarter end ``k``: booked to date and after.

    ``hires`` maps rep id to hire date (NaT = employed before the history). A rep-year
    counts when the history covers the calendar year from its January to its December and
    the rep was hired at least ``ramp_quarters`` quarters before it began: there all year
    (the plan's reps are still employed) and ramped (a rep still ramping books more of
    its year late, which is its ramp, not its shape).
    """
    columns = ["rep_id", "year", "k", "to_date", "rest"]
    if history.empty:
        return pd.DataFrame(columns=columns)
    dates = pd.to_datetime(history["date"])
    first, last = dates.min(), dates.max()
    # From its January to its December (monthly data is dated mid-month).
    whole = list(range(first.year + (first.month > 1), last.year + 1 - (last.month < 12)))
    frame = pd.DataFrame({"rep_id": history["rep_id"].astype("str").to_numpy(), "year": dates.dt.year.to_numpy(),
                          "quarter": dates.dt.quarter.to_numpy(), "amount": history["amount"].to_numpy(dtype=float)})
    frame = frame[frame["year"].isin(whole) & frame["rep_id"].isin(set(hires.index))]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    by_q = frame.pivot_table(index=["rep_id", "year"], columns="quarter", values="amount", aggfunc="sum",
                             fill_value=0.0).reindex(columns=[1, 2, 3, 4], fill_value=0.0)
    reps = by_q.index.get_level_values("rep_id")
    years = by_q.index.get_level_values("year").to_numpy()
    hired = pd.to_datetime(hires.reindex(reps)).to_numpy(dtype="datetime64[D]")
    ramped_by = (pd.to_datetime(pd.Series(years.astype(str)) + "-01-01")
                 - pd.DateOffset(months=3 * ramp_quarters)).to_numpy(dtype="datetime64[D]")
    keep = np.isnat(hired) | (hired <= ramped_by)
    cum = by_q.to_numpy().cumsum(axis=1)[keep]
    return pd.concat([pd.DataFrame({"rep_id": np.asarray(reps[keep]), "year": years[keep], "k": k,
                                    "to_date": cum[:, k - 1], "rest": cum[:, 3] - cum[:, k - 1]})
                      for k in (1, 2, 3)], ignore_index=True)


def _scored(points: pd.DataFrame, own: pd.DataFrame, at: dict[str, np.ndarray]) -> pd.DataFrame:
    """Points of plan reps with ``u``, ``d`` and that year's ``kappa``."""
    points = points.merge(own, on="rep_id", how="inner")
    points = points[points["role"].isin(list(at))]
    if points.empty:
        return points.assign(u=[], d=[])
    u = np.array([at[r][k - 1] for r, k in zip(points["role"], points["k"], strict=True)])
    floor = 0.5 * points["size"].to_numpy()
    total = points["to_date"].to_numpy() + points["rest"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (np.log(np.maximum(points["to_date"].to_numpy(), floor) / u)
             - np.log(np.maximum(points["rest"].to_numpy(), floor) / (1.0 - u)))
    # That year's own deal luck: kappa scales with the deal size over the year's bookings.
    kappa = points["kappa"].to_numpy() * points["p50"].to_numpy() / np.maximum(total, floor)
    keep = (u > 0) & (u < 1) & np.isfinite(d) & (total > floor)
    out = points.assign(u=u, d=d, kappa=kappa)[keep]
    for k in (1, 2, 3):  # winsorise per quarter end
        at_k = (out["k"] == k).to_numpy()
        if at_k.any():
            lo, hi = np.quantile(out.loc[at_k, "d"], CLIP)
            out.loc[at_k, "d"] = out.loc[at_k, "d"].clip(lo, hi)
    return out


def _within(group: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, float]:
    """Squared deviations to fit the luck to, their weights, and the pooled within-rep variance.

    Around each rep's own mean (dof-corrected) where reps have two or more years, else
    around the mean at each quarter end.
    """
    key = [group["rep_id"], group["k"]]
    n = group.groupby(key)["d"].transform("size").to_numpy()
    if (n >= 2).sum() >= MIN_POINTS:
        mean = group.groupby(key)["d"].transform("mean").to_numpy()
        several = n >= 2
        dev2 = (group["d"].to_numpy() - mean) ** 2 * n / np.maximum(n - 1, 1)
        return dev2[several], several, float(np.mean(dev2[several]))
    mean = group.groupby("k")["d"].transform("mean").to_numpy()
    dev2 = (group["d"].to_numpy() - mean) ** 2
    return dev2, np.ones(len(group), dtype=bool), float("nan")


def _fit_scale(group: pd.DataFrame) -> tuple[float, float, float]:
    """The luck scale ``s`` of one group: (s, observed variance, model variance at s = 1)."""
    dev2, used, _ = _within(group)
    observed = float(np.mean(dev2))
    kap, u = group["kappa"].to_numpy()[used], group["u"].to_numpy()[used]

    def model(s: float) -> float:
        return float(np.mean(luck_var(s * kap, u) + luck_var(s * kap, 1.0 - u)))

    lo, hi = MIN_SCALE, MAX_SCALE
    for _ in range(60):  # bisection in log s: the model's variance rises with s
        mid = float(np.sqrt(lo * hi))
        lo, hi = (mid, hi) if model(mid) < observed else (lo, mid)
    return float(np.sqrt(lo * hi)), observed, model(1.0)


def _excess(group: pd.DataFrame, scale: float) -> np.ndarray:
    """``d`` less the model's mean of it at the fitted scale."""
    kap, u = scale * group["kappa"].to_numpy(), group["u"].to_numpy()
    return group["d"].to_numpy() + (luck_var(kap, u) - luck_var(kap, 1.0 - u)) / 2.0


def _role_shift(part: pd.DataFrame) -> float:
    """The role's mean excess at one quarter end, kept only as far as it holds over the years."""
    by_year = part.groupby("year")["excess"].mean()
    if len(by_year) < 2:
        return 0.0  # one year cannot tell a pattern from that year's luck
    mean = float(by_year.mean())
    se2 = float(by_year.var(ddof=1)) / len(by_year)
    return mean * max(0.0, 1.0 - se2 / mean**2) if mean != 0 else 0.0  # James-Stein toward 0


def _rep_shifts(part: pd.DataFrame) -> pd.Series:
    """Each rep's own excess over its role at one quarter end, shrunk by empirical Bayes (0 if none)."""
    stats = part.groupby("rep_id")["excess"].agg(["mean", "var", "size"])
    several = stats[stats["size"] >= 2]
    if len(several) < 2:
        return pd.Series(dtype=np.float64)
    noise = float(several["var"].mean())  # within-rep variance of one year's excess
    between = max(0.0, float(stats["mean"].var(ddof=1)) - float(np.mean(noise / stats["size"])))
    weight = between / (between + noise / stats["size"]) if noise > 0 else stats["size"] * 0.0 + 1.0
    return weight * (stats["mean"] - float(part["excess"].mean()))


def _shifts(group: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Role shift per quarter end (3,), and each rep's shift (rep -> (3,))."""
    parts = [group[group["k"] == k] for k in (1, 2, 3)]
    role = np.array([_role_shift(p) if len(p) else 0.0 for p in parts])
    reps: dict[str, np.ndarray] = {}
    for k, part in enumerate(parts):
        if len(part):
            for rep, own in _rep_shifts(part).items():
                reps.setdefault(str(rep), role.copy())[k] += float(own)
    return role, reps


def fit_history(history: pd.DataFrame, rep_ids: pd.Series, roles: pd.Series, hires: pd.Series, p50: np.ndarray,
                deal_size: np.ndarray, kappa: np.ndarray, at: dict[str, np.ndarray],
                ramp_quarters: int = 4) -> HistoryFit:
    """Fit the luck scale and the shape shift of every plan rep on the history (see the module notes).

    Parameters
    ----------
    history : DataFrame
        Bookings before the plan year (``date, rep_id, amount``).
    rep_ids, roles, hires : Series
        The plan's reps, their roles and hire dates (NaT = before the history).
    p50, deal_size, kappa : ndarray
        Annual capacity P50 and what :func:`~quotaopt.tracking.deal_noise` made
        of it, per plan rep (a past year's luck is ``kappa x p50 / that year's bookings``).
    at : dict
        Role -> the plan's expected share done at the end of Q1, Q2 and Q3.
    ramp_quarters : int
        Quarters a new hire ramps (``len(allocation.ramp)``): its years before that are left out.

    Returns
    -------
    HistoryFit
        Scale 1 and shift 0 for a role with fewer than :data:`MIN_POINTS` splits (the
        scale falls back to every role pooled).

    Examples
    --------
    >>> import pandas as pd, numpy as np
    >>> fit = fit_history(pd.DataFrame(columns=["date", "rep_id", "amount"]), pd.Series(["R1"]),
    ...                   pd.Series(["ka"]), pd.Series([pd.NaT]), np.array([1e6]), np.array([2e4]), np.array([0.04]),
    ...                   {"ka": np.array([0.25, 0.5, 0.75])})
    >>> float(fit.scale[0]), float(fit.share_done(np.array([0.5]))[0])
    (1.0, 0.5)
    """
    ids = rep_ids.astype("str").to_numpy()
    role = roles.astype("str").to_numpy()
    own = pd.DataFrame({"rep_id": ids, "role": role, "size": deal_size, "kappa": kappa, "p50": p50})
    points = _scored(split_points(history, pd.Series(pd.to_datetime(hires).to_numpy(), index=ids), ramp_quarters),
                     own, at)
    pooled = _fit_scale(points) if len(points) >= MIN_POINTS else None
    by_role: dict[str, dict[str, float]] = {}
    role_shift: dict[str, np.ndarray] = {}
    rep_shift: dict[str, np.ndarray] = {}
    for name in sorted(set(role)):
        group = points[points["role"] == name]
        if len(group) >= MIN_POINTS:
            s, observed, model = _fit_scale(group)
            shift, per_rep = _shifts(group.assign(excess=_excess(group, s)))
            role_shift[name] = shift
            rep_shift.update(per_rep)
            by_role[name] = {"scale": s, "points": float(len(group)), "observed_var": observed, "model_var": model,
                             "shift_q1": float(shift[0]), "shift_q2": float(shift[1]), "shift_q3": float(shift[2]),
                             "reps_with_own_shift": float(len(per_rep))}
        elif pooled is not None:
            by_role[name] = {"scale": pooled[0], "points": float(len(group)), "pooled": 1.0}
        else:
            by_role[name] = {"scale": 1.0, "points": float(len(group))}
    scale = np.array([by_role[r]["scale"] for r in role], dtype=np.float64)
    at_rep = np.array([at.get(r, np.array([0.25, 0.5, 0.75])) for r in role], dtype=np.float64).reshape(-1, 3)
    shift = np.array([rep_shift.get(i, role_shift.get(r, np.zeros(3))) for i, r in zip(ids, role, strict=True)],
                     dtype=np.float64).reshape(-1, 3)
    return HistoryFit(scale, at_rep, shift, by_role)
