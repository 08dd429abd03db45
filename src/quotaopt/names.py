"""People's names beside the ids in every output: reps, teams and, when the data has one, managers.

Ids stay the key everywhere (they are unique, names need not be); names ride along so
a table can be handed to a manager as it is. Where the data has no name, a rep's is
empty (never invented) and a unit's is its id (as teams.csv is read). A ``manager``
column appears only when ``reps.csv`` or ``teams.csv`` has one: a rep's own manager
wins, else their team's.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["MANAGER", "name_columns", "rep_names", "unit_names", "with_names"]

#: The optional column a company may give in reps.csv or teams.csv.
MANAGER = "manager"


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    """A text column as clean strings ('' where missing); '' throughout when the column is absent."""
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    values = frame[column]
    return values.astype(object).where(values.notna(), "").map(lambda v: str(v).strip())


def unit_names(teams: pd.DataFrame) -> pd.DataFrame:
    """unit_id, name[, manager] of every unit of teams.csv.

    Examples
    --------
    >>> teams = pd.DataFrame({"team_id": ["CO", "T1"], "parent_id": [None, "CO"], "name": ["Company", "North"]})
    >>> unit_names(teams).to_dict("records")
    [{'unit_id': 'CO', 'name': 'Company'}, {'unit_id': 'T1', 'name': 'North'}]
    """
    out = pd.DataFrame({"unit_id": teams["team_id"].astype(str).to_numpy()})
    names = _text(teams, "name").to_numpy()
    out["name"] = [n or u for n, u in zip(names, out["unit_id"], strict=True)]
    if MANAGER in teams.columns:
        out[MANAGER] = _text(teams, MANAGER).to_numpy()
    return out


def rep_names(reps: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    """rep_id, name, team_name[, manager] of every rep.

    Examples
    --------
    >>> teams = pd.DataFrame({"team_id": ["T1"], "parent_id": [None], "name": ["North"], "manager": ["Ann Lee"]})
    >>> reps = pd.DataFrame({"rep_id": ["R1", "R2"], "team_id": ["T1", "T1"], "name": ["Bo Chen", None],
    ...                      "manager": ["", "Cy Diaz"]})
    >>> rep_names(reps, teams).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'rep_id': 'R1', 'name': 'Bo Chen', 'team_name': 'North', 'manager': 'Ann Lee'},
     {'rep_id': 'R2', 'name': '', 'team_name': 'North', 'manager': 'Cy Diaz'}]
    """
    units = unit_names(teams).set_index("unit_id")
    team = reps["team_id"].astype(str)
    out = pd.DataFrame({"rep_id": reps["rep_id"].astype(str).to_numpy(), "name": _text(reps, "name").to_numpy(),
                        "team_name": team.map(units["name"]).fillna(team).to_numpy()})
    if MANAGER in reps.columns or MANAGER in units.columns:
        own = _text(reps, MANAGER).to_numpy()
        teams_manager = (team.map(units[MANAGER]).fillna("") if MANAGER in units.columns
                         else pd.Series("", index=reps.index)).to_numpy()
        out[MANAGER] = [o or t for o, t in zip(own, teams_manager, strict=True)]
    return out


def name_columns(columns: list[str], frame: pd.DataFrame) -> list[str]:
    """``columns`` with ``manager`` after ``team_name`` (or ``name``) when ``frame`` has it.

    Examples
    --------
    >>> name_columns(["rep_id", "name", "team_id", "team_name", "quota"], pd.DataFrame(columns=["manager"]))
    ['rep_id', 'name', 'team_id', 'team_name', 'manager', 'quota']
    """
    if MANAGER not in frame.columns or MANAGER in columns:
        return list(columns)
    after = "team_name" if "team_name" in columns else "name"
    at = columns.index(after) + 1
    return [*columns[:at], MANAGER, *columns[at:]]


def with_names(frame: pd.DataFrame, names: pd.DataFrame, key: str) -> pd.DataFrame:
    """``frame`` with the name columns of ``names`` joined on ``key`` (replacing any it had)."""
    extra = [c for c in names.columns if c != key]
    return frame.drop(columns=[c for c in extra if c in frame.columns]).merge(names, on=key, how="left")
