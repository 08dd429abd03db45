"""Features from the optional accounts.csv and territories.csv: a rep's book and market.

``accounts.csv`` is a snapshot of today's owners (it has no dates): a departed rep's
book has moved on, so their ownership features are unknown (NaN), not empty. The
potential a rep *booked on* last year is dated, so it describes departed reps too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quotaopt.data import CompanyData
from quotaopt.rep_years import observed_years


def pool_features(company: CompanyData, rows: pd.DataFrame) -> pd.DataFrame | None:
    """Accounts owned by each rep of ``rows`` (index ``rep_id``); None without accounts.csv.

    Columns ``n_ka, n_lt, pot_ka, pot_lt, n_accounts, pot, ka_share, ka_pot_share``.
    """
    acc = company.accounts
    if acc is None:
        return None
    acc = acc.assign(potential=acc["potential"].fillna(0.0))
    ka = acc["tier"] == "ka"
    grouped = pd.DataFrame({
        "rep_id": acc["rep_id"], "n_ka": ka.astype("float64"), "n_lt": (~ka).astype("float64"),
        "pot_ka": acc["potential"].where(ka, 0.0), "pot_lt": acc["potential"].where(~ka, 0.0),
    }).groupby("rep_id").sum()
    out = grouped.reindex(rows.index).fillna(0.0)
    out["n_accounts"] = out["n_ka"] + out["n_lt"]
    out["pot"] = out["pot_ka"] + out["pot_lt"]
    out["ka_share"] = (out["n_ka"] / out["n_accounts"].where(out["n_accounts"] > 0)).fillna(0.0)
    out["ka_pot_share"] = (out["pot_ka"] / out["pot"].where(out["pot"] > 0)).fillna(0.0)
    gone = rows["status"] == "departed"
    out.loc[gone.to_numpy(), :] = np.nan
    return out


def booked_pool(company: CompanyData, rows: pd.DataFrame, year: int) -> pd.Series | None:
    """Potential of the distinct accounts each rep booked on in ``year - 1`` (``booked_pot1``)."""
    acc, b = company.accounts, company.bookings
    if acc is None:
        return None
    if year - 1 not in observed_years(company):
        return pd.Series(np.nan, index=rows.index, name="booked_pot1")
    last = b.loc[(b["date"].dt.year == year - 1) & b["account_id"].notna(), ["rep_id", "account_id"]]
    pairs = last.drop_duplicates()
    potential = pairs["account_id"].map(acc.set_index("account_id")["potential"].fillna(0.0)).astype("float64")
    booked = potential.groupby(pairs["rep_id"].to_numpy()).sum()
    return booked.reindex(rows.index).fillna(0.0).rename("booked_pot1")


def territory_features(company: CompanyData, rows: pd.DataFrame) -> pd.DataFrame | None:
    """Market potential per rep of the rep's main territory, its growth, and white space.

    A rep's main territory is the one holding most of their account potential; its
    potential is shared among the reps whose main territory it is. None unless both
    accounts.csv (with territory ids) and territories.csv exist.
    """
    terr, acc = company.territories, company.accounts
    if terr is None or acc is None or acc["territory_id"].isna().all():
        return None
    acc = acc.loc[acc["territory_id"].notna()].assign(potential=lambda a: a["potential"].fillna(0.0) + 1e-9)
    weight = acc.groupby(["rep_id", "territory_id"])["potential"].sum().reset_index()
    weight = weight.sort_values(["rep_id", "potential", "territory_id"], ascending=[True, False, True])
    main = weight.drop_duplicates("rep_id").set_index("rep_id")["territory_id"]
    info = terr.set_index("territory_id")
    # Crowding counts every rep of the company, not only this year's rows.
    crowd = main.value_counts()
    out = pd.DataFrame(index=rows.index)
    main_here = main.reindex(rows.index)
    out["terr_pot"] = main_here.map(info["potential"]).astype("float64")
    out["terr_pot_per_rep"] = out["terr_pot"] / main_here.map(crowd).astype("float64")
    weight = weight.assign(growth=weight["territory_id"].map(info["market_growth"]).astype("float64"))
    weight["wg"] = weight["growth"] * weight["potential"]
    sums = weight.groupby("rep_id")[["wg", "potential"]].sum()
    out["market_growth"] = (sums["wg"] / sums["potential"]).reindex(rows.index)
    # White space: how much bigger the market is than the accounts mapped to it.
    mapped = acc.groupby("territory_id")["potential"].sum()
    ratio = info["potential"].reindex(mapped.index).clip(lower=1.0) / mapped.clip(lower=1.0)
    space = pd.Series(np.log(ratio.to_numpy(dtype="float64")), index=mapped.index)
    weight["ws"] = weight["territory_id"].map(space).astype("float64") * weight["potential"]
    out["white_space"] = (weight.groupby("rep_id")["ws"].sum() / sums["potential"]).reindex(rows.index)
    gone = (rows["status"] == "departed").to_numpy()
    out.loc[gone, :] = np.nan
    return out
