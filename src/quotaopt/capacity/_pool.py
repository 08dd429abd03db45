"""A rep's book and market, from the optional accounts.csv and territories.csv, aligned to the panel.

``accounts.csv`` is a snapshot of today's owners (it has no dates): a departed rep's
book has moved on, so their ownership features are unknown (NaN), not empty. The
potential a rep *booked on* in a year is dated, so it describes departed reps too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quotaopt.capacity._panel import RepPanel
from quotaopt.company import CompanyData


@dataclass(frozen=True)
class Pools:
    """Book and territory facts per panel rep (NaN where unknown).

    Attributes
    ----------
    owned : DataFrame or None
        ``n_accounts, pot, ka_share, ka_pot_share`` (index: panel order); None without accounts.csv.
    booked_pot : ndarray of shape (reps, years) or None
        Potential of the distinct accounts each rep booked on in each observed year.
    territory : DataFrame or None
        ``terr_pot_per_rep, market_growth, white_space``; None unless accounts.csv maps
        accounts to territories.csv.
    """

    owned: pd.DataFrame | None
    booked_pot: np.ndarray | None
    territory: pd.DataFrame | None


def _owned(company: CompanyData, panel: RepPanel) -> pd.DataFrame | None:
    acc = company.accounts
    if acc is None:
        return None
    potential = acc["potential"].fillna(0.0).to_numpy(dtype="float64")
    ka = (acc["tier"] == "ka").to_numpy()
    rep = pd.Index(panel.ids).get_indexer(acc["rep_id"].astype(str))
    ok = rep >= 0
    n = panel.n_reps

    def per_rep(values: np.ndarray) -> np.ndarray:
        return np.bincount(rep[ok], weights=values[ok], minlength=n)

    n_ka, n_all = per_rep(ka.astype("float64")), per_rep(np.ones(len(acc)))
    pot_ka, pot = per_rep(np.where(ka, potential, 0.0)), per_rep(potential)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({"n_accounts": n_all, "pot": pot,
                            "ka_share": np.where(n_all > 0, n_ka / n_all, 0.0),
                            "ka_pot_share": np.where(pot > 0, pot_ka / pot, 0.0)})
    out.loc[panel.departed, :] = np.nan
    return out


def _booked(company: CompanyData, panel: RepPanel) -> np.ndarray | None:
    acc = company.accounts
    if acc is None:
        return None
    rep, col, code = panel.booked_pairs
    potential = acc.set_index("account_id")["potential"].fillna(0.0)
    # One lookup per distinct account id, not per booked pair.
    where = pd.Index(potential.index).get_indexer(pd.Index(panel.account_ids))
    per_account = np.where(where >= 0, potential.to_numpy(dtype="float64")[np.maximum(where, 0)], 0.0)
    pot = per_account[code] if len(code) else np.zeros(0)
    out = np.zeros((panel.n_reps, len(panel.years)))
    np.add.at(out, (rep, col), pot)
    return out


def _territory(company: CompanyData, panel: RepPanel) -> pd.DataFrame | None:
    """Market per rep of the rep's main territory, its growth, and white space.

    A rep's main territory is the one holding most of their account potential; its
    potential is shared among the reps whose main territory it is.
    """
    terr, acc = company.territories, company.accounts
    if terr is None or acc is None or acc["territory_id"].isna().all():
        return None
    acc = acc.loc[acc["territory_id"].notna()].assign(potential=lambda a: a["potential"].fillna(0.0) + 1e-9)
    weight = acc.groupby(["rep_id", "territory_id"])["potential"].sum().reset_index()
    weight = weight.sort_values(["rep_id", "potential", "territory_id"], ascending=[True, False, True])
    main = weight.drop_duplicates("rep_id").set_index("rep_id")["territory_id"]
    info = terr.set_index("territory_id")
    crowd = main.value_counts()
    out = pd.DataFrame(index=pd.Index(panel.ids, name="rep_id"))
    main_here = main.reindex(out.index)
    out["terr_pot_per_rep"] = main_here.map(info["potential"]).astype("float64") / main_here.map(crowd).astype("float64")
    growth = info["market_growth"] if "market_growth" in info.columns else pd.Series(np.nan, index=info.index)
    weight = weight.assign(growth=weight["territory_id"].map(growth).astype("float64"))
    weight["wg"] = weight["growth"] * weight["potential"]
    sums = weight.groupby("rep_id")[["wg", "potential"]].sum(min_count=1)
    out["market_growth"] = (sums["wg"] / sums["potential"]).reindex(out.index)
    mapped = acc.groupby("territory_id")["potential"].sum()
    ratio = info["potential"].reindex(mapped.index).clip(lower=1.0) / mapped.clip(lower=1.0)
    space = pd.Series(np.log(ratio.to_numpy(dtype="float64")), index=mapped.index)
    weight["ws"] = weight["territory_id"].map(space).astype("float64") * weight["potential"]
    out["white_space"] = (weight.groupby("rep_id")["ws"].sum() / sums["potential"]).reindex(out.index)
    out = out.reset_index(drop=True)
    out.loc[panel.departed, :] = np.nan
    return out


def pools(company: CompanyData, panel: RepPanel) -> Pools:
    """The :class:`Pools` of a company, aligned with ``panel``."""
    return Pools(owned=_owned(company, panel), booked_pot=_booked(company, panel),
                 territory=_territory(company, panel))
