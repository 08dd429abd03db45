"""A database as the company's source, through SQLAlchemy: a real PostgreSQL server and SQLite.

A generated company is loaded into tables (typed as a CRM keeps them: DATE, double
precision, text) in a schema ``crm``; the scenario names them with ``data.tables`` and
reads the bookings with a query. The plan is byte for byte the plan of the same company
read from its files, the manifest records each query, its row count and a hash of the
rows, and a bad value is named by table and row key, as files are by file and line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner

import quotaopt as qo
from quotaopt.cli import main
from quotaopt.datasets import generate_company
from quotaopt.errors import InputError
from quotaopt.io import load_company, load_scenario

from postgres_server import postgres_url

TABLES = ("teams", "reps", "bookings", "accounts", "territories")
PLAN_FILES = ("plan.csv", "units.csv", "plan_periods.csv", "summary.json")
BOOKINGS_QUERY = "SELECT date, rep_id, amount, account_id FROM {schema}bookings"


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated") / "data"
    return generate_company(folder, n_reps=30, years=3, seed=5, end_year=2026)


@pytest.fixture(scope="module")
def file_plan(company: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("files")
    return _plan(_scenario(folder, str(company)), folder / "runs")


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    yield from postgres_url()


def _scenario(folder: Path, data: Any) -> Path:
    path = folder / "db.yaml"
    path.write_text(yaml.safe_dump({"name": "db", "plan_year": 2027, "simulation": {"draws": 300}, "data": data}))
    return path


def _plan(scenario: Path, out: Path) -> dict[str, bytes]:
    _, written = qo.plan(scenario, out=out)
    return {name: (written.path / name).read_bytes() for name in PLAN_FILES}


def _load_tables(url: str, company: Path, schema: str | None, dates_as_text: bool) -> None:
    """The company's CSV files as typed database tables (dates as DATE, or ISO text for SQLite)."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        if schema:
            connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        for table in TABLES:
            frame = pd.read_csv(company / f"{table}.csv", dtype={c: str for c in ("team_id", "parent_id", "rep_id",
                                                                                  "account_id", "territory_id")})
            types: dict[str, Any] = {}
            for column in ("date", "hire_date"):
                if column in frame.columns and not dates_as_text:
                    frame[column] = pd.to_datetime(frame[column]).dt.date
                    types[column] = sa.Date()
            frame.to_sql(table, connection, schema=schema, index=False, dtype=types)  # type: ignore[arg-type]
    engine.dispose()


def _database_source(url: str, schema: str | None) -> dict[str, Any]:
    prefix = f"{schema}." if schema else ""
    return {"url": url, "tables": {t: f"{prefix}{t}" for t in TABLES if t != "bookings"},
            "queries": {"bookings": BOOKINGS_QUERY.format(schema=prefix)}}


def _check_database_plan(tmp_path: Path, url: str, schema: str | None, file_plan: dict[str, bytes],
                         company: Path) -> None:
    scenario = _scenario(tmp_path, _database_source(url, schema))
    assert _plan(scenario, tmp_path / "runs") == file_plan
    manifest = json.loads(next((tmp_path / "runs" / "db").glob("*/manifest.json")).read_text())
    read = manifest["data_read"]
    assert read["kind"] == "database"
    assert read["tables"]["bookings"]["query"] == BOOKINGS_QUERY.format(schema=f"{schema}." if schema else "")
    assert read["tables"]["reps"]["rows"] == len(pd.read_csv(company / "reps.csv"))
    assert len(read["tables"]["bookings"]["sha256"]) == 64
    assert manifest["inputs"]["data/data.queries.bookings"] == read["tables"]["bookings"]["sha256"]


def test_sqlite_tables_plan_byte_for_byte_like_the_files(tmp_path: Path, company: Path,
                                                         file_plan: dict[str, bytes]) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    _load_tables(url, company, None, dates_as_text=True)
    _check_database_plan(tmp_path, url, None, file_plan, company)


@pytest.mark.slow
def test_postgres_tables_plan_byte_for_byte_like_the_files(tmp_path: Path, company: Path, postgres: str,
                                                           file_plan: dict[str, bytes]) -> None:
    _load_tables(postgres, company, "crm", dates_as_text=False)
    _check_database_plan(tmp_path, postgres, "crm", file_plan, company)


def _bad_value_is_named_by_table_and_key(tmp_path: Path, url: str, schema: str | None, company: Path) -> None:
    prefix = f"{schema}." if schema else ""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(f"UPDATE {prefix}reps SET fte = 7 WHERE rep_id = 'RP000003'"))
        connection.execute(sa.text(f"DROP TABLE {prefix}territories"))
    engine.dispose()
    data = _database_source(url, schema)
    result = CliRunner().invoke(main, ["validate", str(_scenario(tmp_path, data))])
    assert result.exit_code == 2, result.output
    assert f"{prefix}territories: table not found in the database" in result.stderr
    data["tables"].pop("territories")
    accounts = data["tables"].pop("accounts")
    data["queries"]["accounts"] = f"SELECT account_id, rep_id, tier, potential FROM {accounts}"
    result = CliRunner().invoke(main, ["validate", str(_scenario(tmp_path, data))])
    assert result.exit_code == 2, result.output
    assert f"{prefix}reps:rep_id=RP000003:fte: out of range (got 7.0, expected 0 < fte <= 1)" in result.stderr


def test_sqlite_bad_values_are_named_by_table_and_row_key(tmp_path: Path, company: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    _load_tables(url, company, None, dates_as_text=True)
    _bad_value_is_named_by_table_and_key(tmp_path, url, None, company)


@pytest.mark.slow
def test_postgres_bad_values_are_named_by_table_and_row_key(tmp_path: Path, company: Path, postgres: str) -> None:
    engine = sa.create_engine(postgres)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS bad CASCADE"))
    engine.dispose()
    _load_tables(postgres, company, "bad", dates_as_text=False)
    _bad_value_is_named_by_table_and_key(tmp_path, postgres, "bad", company)


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    data = {"url": "postgresql+psycopg://ops:secret@127.0.0.1:1/crm"}
    result = CliRunner().invoke(main, ["validate", str(_scenario(tmp_path, data))])
    assert result.exit_code == 2, result.output
    assert "cannot read the database" in result.stderr and "secret" not in result.output
    assert "postgresql+psycopg://ops:***@127.0.0.1:1/crm" in result.stderr
    with pytest.raises(InputError):
        load_company(load_scenario(_scenario(tmp_path, data)).data_source)
