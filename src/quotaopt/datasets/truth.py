"""The generator's truth about books: what any assignment of accounts would sell in the plan year.

A company generated with ``unowned``, ``vacant`` or ``imbalance`` carries
``truth/account_value`` and ``truth/rep_rate``; with them, :func:`book_capacity` gives
the plan-year capacity (expected bookings before luck) of every rep for any owner of
each account, so an assignment's benefit can be measured against the truth, not a model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from quotaopt.datasets.tables import book_factor
from quotaopt.errors import InputError, Problem


def _table(folder: Path, stem: str) -> pd.DataFrame:
    for suffix in (".csv", ".parquet"):
        path = folder / "truth" / f"{stem}{suffix}"
        if path.is_file():
            if suffix == ".csv":
                return pd.read_csv(path, dtype={"rep_id": str, "account_id": str})
            return pd.read_parquet(path)
    raise InputError([Problem(str(folder / "truth"), f"no {stem} file: generate the company with unowned, vacant "
                              "or imbalance to get the truth of its books")])


def book_capacity(folder: str | Path, owners: pd.Series | Mapping[str, str | None]) -> pd.Series:
    """Plan-year capacity of every plan-year rep under the truth, when ``owners`` hold the accounts.

    Parameters
    ----------
    folder : str or Path
        A generated company folder with ``truth/account_value`` and ``truth/rep_rate``.
    owners : Series or mapping
        account_id -> rep_id. Accounts missing from it, or held by an empty, departed or
        unknown rep, are worked by nobody.

    Returns
    -------
    Series
        rep_id -> expected plan-year bookings (the generator's capacity), in rep_rate order.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from quotaopt.datasets import generate_company
    >>> folder = generate_company(tempfile.mkdtemp(), n_reps=30, seed=1, unowned=0.1)
    >>> accounts = pd.read_csv(folder / "accounts.csv", dtype=str)
    >>> today = book_capacity(folder, accounts.set_index("account_id")["rep_id"])
    >>> truth = pd.read_csv(folder / "truth" / "capacity.csv", dtype={"rep_id": str})
    >>> plan = truth[truth["year"] == 2027].set_index("rep_id")["capacity"]
    >>> bool((today / plan.reindex(today.index) - 1).abs().max() < 1e-5)
    True
    """
    folder = Path(folder)
    value = _table(folder, "account_value")
    rates = _table(folder, "rep_rate")
    meta = json.loads((folder / "truth" / "meta.json").read_text(encoding="utf-8"))
    median = meta["params"]["median_book"]
    owner = pd.Series(owners, dtype=object).reindex(value["account_id"].astype(str))
    holder = pd.Index(rates["rep_id"].astype(str)).get_indexer(pd.Index(owner.fillna("").astype(str)))
    factor = book_factor(value["potential"].to_numpy(dtype=float), value["white_space"].to_numpy(dtype=float),
                         value["growth"].to_numpy(dtype=float), holder, len(rates),
                         rates["role"].map(median).to_numpy(dtype=float))
    return pd.Series(rates["rate"].to_numpy(dtype=float) * factor, index=pd.Index(rates["rep_id"].astype(str),
                                                                                name="rep_id"), name="capacity")
