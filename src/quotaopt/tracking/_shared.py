"""What past years say about how much of a rep's year its team shares.

The forecast (:mod:`quotaopt.tracking._forecast`) lets every rep's level share a team
shock of log-variance ``s_T^2``. How large it is decides how far a team's pace speaks for
each of its reps, and how much a team's total can still move at once: taken too small,
the reps' errors cancel in the team's sum and its chance of making the year is too sure.
It is learned here from the company's own history, not assumed.

**Moment.** For each pair of consecutive whole calendar years in the history, each rep
counted in both (employed all year and ramped, as :func:`~quotaopt.tracking.split_points`
counts them) gives its log growth ``g = log(B_y / B_{y-1})``. Within a year, one-way
analysis of variance by the rep's team (its team in the plan) splits ``g`` into a part the
team's reps share and the rest (the rep's own drift and its deal luck). The year's mean
is removed, so the company's shock of that year counts for nothing here. Pooled over the
year pairs, the method-of-moments (ANOVA) estimate of the between-team variance is
``(MSB - MSW) / n0`` with ``n0 = (N - sum n_j^2 / N) / (J - 1)``. Its sampling variance
follows from the mean squares being scaled chi-squares (``2 MS^2 / dof`` each), and the
estimate is shrunk toward the caller's fallback by positive-part James-Stein: a company of a
few teams and years keeps little of it, one of hundreds of teams nearly all; held at 0 or above.

What it measures is the team part of a *change* from one year to the next: where team
shocks are fresh each year that is twice their variance, which is about what a plan
built on last year's bookings gets wrong by; where they persist it is less. It errs
towards a wider forecast for units, not a narrower one.

Years with fewer than :data:`MIN_TEAMS` teams of two or more such reps count for nothing;
a history with none (fewer than two whole years, or too few teams) returns ``None`` and
the caller falls back on ``simulation.correlation.team``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quotaopt.tracking._history import CLIP, split_points

#: Fewest teams (of two or more counted reps) a year pair needs to count.
MIN_TEAMS = 5


@dataclass(frozen=True)
class TeamShare:
    """The learned team variance and what it rests on.

    Attributes
    ----------
    team_var : float
        ``s_T^2``, log-variance of the team shock (after shrinkage).
    raw, se : float
        The moment estimate before shrinkage (held at 0 or above) and its standard error.
    weight : float
        The weight the estimate kept against the fallback (1 = the history's alone).
    within_var : float
        Pooled within-team variance of one rep's growth (MSW).
    year_pairs, teams, reps : int
        Year pairs used, and teams and rep-years summed over them.
    """

    team_var: float
    raw: float
    se: float
    weight: float
    within_var: float
    year_pairs: int
    teams: int
    reps: int

    def as_dict(self) -> dict[str, float]:
        """For track.json: every field as a number."""
        return {"team_var": round(self.team_var, 6), "raw": round(self.raw, 6), "se": round(self.se, 6),
                "weight": round(self.weight, 4), "within_var": round(self.within_var, 6),
                "year_pairs": float(self.year_pairs), "teams": float(self.teams), "reps": float(self.reps)}


def _one_year(growth: pd.Series, team: pd.Series) -> tuple[float, float, float, float, float] | None:
    """``(SSW, dof W, SSB, dof B, n0)`` of one year's growth by team, or None when too few teams."""
    frame = pd.DataFrame({"g": growth.to_numpy(dtype=np.float64), "team": team.to_numpy()})
    size = frame.groupby("team")["g"].transform("size")
    frame = frame[size >= 2]
    stats = frame.groupby("team")["g"].agg(["mean", "size"])
    n, j = len(frame), len(stats)
    if j < MIN_TEAMS:
        return None
    ssw = float(((frame["g"] - frame.groupby("team")["g"].transform("mean")) ** 2).sum())
    ssb = float((stats["size"] * (stats["mean"] - frame["g"].mean()) ** 2).sum())
    n0 = (n - float((stats["size"] ** 2).sum()) / n) / (j - 1)
    return ssw, float(n - j), ssb, float(j - 1), n0


def team_share(history: pd.DataFrame, rep_ids: pd.Series, team_ids: pd.Series, hires: pd.Series,
               ramp_quarters: int = 4, toward: float = 0.0) -> TeamShare | None:
    """Learn the team shock's log-variance from past years (see the module notes).

    Parameters
    ----------
    history : DataFrame
        Bookings before the plan year (``date, rep_id, amount``).
    rep_ids, team_ids, hires : Series
        The plan's reps, their teams and hire dates (NaT = before the history).
    ramp_quarters : int
        Quarters a new hire ramps (``len(allocation.ramp)``).
    toward : float
        What the estimate is shrunk toward (the caller's fallback), as far as its sampling
        error says the history cannot tell them apart.

    Returns
    -------
    TeamShare or None
        None when no year pair has :data:`MIN_TEAMS` teams to compare.

    Examples
    --------
    >>> import pandas as pd
    >>> team_share(pd.DataFrame(columns=["date", "rep_id", "amount"]), pd.Series(["R1"]), pd.Series(["T1"]),
    ...            pd.Series([pd.NaT])) is None
    True
    """
    ids = rep_ids.astype("str").to_numpy()
    points = split_points(history, pd.Series(pd.to_datetime(hires).to_numpy(), index=ids), ramp_quarters)
    if points.empty:
        return None
    first = points[points["k"] == 1]
    totals = pd.Series((first["to_date"] + first["rest"]).to_numpy(dtype=np.float64),
                       index=pd.MultiIndex.from_arrays([first["rep_id"].astype("str"), first["year"]])).unstack()
    team_of = pd.Series(team_ids.astype("str").to_numpy(), index=ids)
    parts = []
    years = sorted(int(y) for y in totals.columns)
    for year in years[1:]:
        if year - 1 not in totals.columns:
            continue
        now, before = totals[year], totals[year - 1]
        both = (now > 0) & (before > 0)  # a year of credit notes only has no growth to read
        growth = pd.Series(np.log((now[both] / before[both]).to_numpy(dtype=np.float64)), index=now.index[both])
        if len(growth) < 2 * MIN_TEAMS:
            continue
        lo, hi = np.quantile(growth, CLIP)  # a rep's odd year is not the rule
        got = _one_year(growth.clip(lo, hi), team_of.reindex(growth.index))
        if got is not None:
            parts.append(got)
    if not parts:
        return None
    ssw, dfw, ssb, dfb, n0 = (np.array(col) for col in zip(*parts, strict=True))
    msw = float(ssw.sum() / max(dfw.sum(), 1.0))
    msb = float(ssb.sum() / dfb.sum())
    n0_pooled = float((n0 * dfb).sum() / dfb.sum())
    raw = (msb - msw) / n0_pooled
    # Sampling variance of the estimate (mean squares are scaled chi-squares), then
    # positive-part James-Stein toward the fallback: a few teams over a year or two say little.
    se2 = (2.0 * msb**2 / dfb.sum() + 2.0 * msw**2 / max(dfw.sum(), 1.0)) / n0_pooled**2
    gap = raw - toward
    weight = max(0.0, 1.0 - se2 / gap**2) if gap != 0 else 1.0
    return TeamShare(max(0.0, toward + weight * gap), max(0.0, raw), float(np.sqrt(se2)), weight, msw, len(parts),
                     int(dfb.sum() + len(parts)), int(dfw.sum() + dfb.sum() + len(parts)))
