"""Tracking from the pipeline: the opportunities file, learned conversion, the quarter's chance, the funnel."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from quotaopt.cli import main
from quotaopt.commands import track as track_run
from quotaopt.datasets import generate_company
from quotaopt.errors import InputError
from quotaopt.tracking.pipeline import parse_horizon, target_quarter
from quotaopt.tracking.pipeline.conversion import learn_conversion

from tracking_fixtures import build_run, truth_capacity

AS_OF = "2027-03-01"
COLUMNS = ["snapshot_date", "opportunity_id", "rep_id", "amount", "stage", "status", "close_date", "created_date",
           "probability"]


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("pipeline")
    data = generate_company(base / "data", n_reps=40, seed=2, actuals_through=AS_OF, opportunities=True)
    return build_run(base, data, truth_capacity(data)), data


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
    return path


def _status(out_status: pd.DataFrame, rep: str) -> pd.Series:
    return out_status[(out_status["kind"] == "rep") & (out_status["id"] == rep)].iloc[0]


# --- the generator -------------------------------------------------------------------------------

def test_generated_opportunities_are_the_bookings_won_plus_the_lost(company: tuple[Path, Path]) -> None:
    _, data = company
    truth = pd.read_csv(data / "truth" / "opportunities.csv", dtype={"rep_id": "str"})
    booked = pd.read_csv(data / "truth" / "plan_year_bookings.csv", dtype={"rep_id": "str"})
    won_2027 = truth[truth["won"] & truth["resolved_date"].str.startswith("2027")]
    deals = booked[booked["amount"] > 0]
    assert len(won_2027) == len(deals)
    assert np.isclose(won_2027["amount_won"].sum(), deals["amount"].sum())
    assert (won_2027.groupby("rep_id")["amount_won"].sum().round(2)
            == deals.groupby("rep_id")["amount"].sum().round(2)).all()
    assert (~truth["won"]).sum() > truth["won"].sum()  # most opportunities are lost
    opps = pd.read_csv(data / "opportunities.csv", dtype={"rep_id": "str"})
    assert opps["snapshot_date"].nunique() > 10 and opps["snapshot_date"].max() == AS_OF
    assert (opps["close_date"] >= opps["created_date"]).all()
    assert set(opps["stage"]) == {"qualify", "discover", "propose", "commit"}
    now = opps[opps["snapshot_date"] == AS_OF]
    # The as-of snapshot's won rows are bookings before the as-of date, for the booked amount.
    won_now = now[(now["status"] == "won") & (now["close_date"] >= "2027-01-01")]
    actuals = pd.read_csv(data / "actuals.csv", dtype={"rep_id": "str"})
    assert np.isclose(won_now["amount"].sum(), actuals.loc[actuals["amount"] > 0, "amount"].sum())
    assert (now.loc[now["status"] == "open", "close_date"] < AS_OF).any()  # stale close dates exist


# --- the file is checked like every other ----------------------------------------------------------

@pytest.mark.parametrize(("change", "column", "needle"), [
    ({"rep_id": "NOBODY"}, "rep_id", "unknown id"),
    ({"amount": -5.0}, "amount", "must be >= 0"),
    ({"stage": "daydream"}, "stage", "not allowed"),
    ({"close_date": "2026-12-01", "created_date": "2027-01-10"}, "close_date", "before the created_date"),
    ({"probability": 40}, "probability", "out of range"),
    ({"status": "maybe"}, "status", "not allowed"),
])
def test_bad_opportunities_exit_2_with_file_row_and_column(company: tuple[Path, Path], tmp_path: Path,
                                                           change: dict[str, object], column: str, needle: str) -> None:
    run, data = company
    rep = pd.read_csv(run / "plan.csv", dtype={"rep_id": "str"})["rep_id"].iloc[0]
    good = {"snapshot_date": AS_OF, "opportunity_id": "A", "rep_id": rep, "amount": 10.0, "stage": "commit",
            "status": "open", "close_date": "2027-03-20", "created_date": "2027-01-05", "probability": 0.5}
    path = _write(tmp_path / "opportunities.csv", [good, {**good, "opportunity_id": "B", **change}])
    result = CliRunner().invoke(main, ["track", str(run), "--actuals", str(data / "actuals.csv"), "--as-of", AS_OF,
                                       "--opportunities", str(path)])
    assert result.exit_code == 2, result.output
    assert f"opportunities.csv:3:{column}:" in result.output and needle in result.output
    assert "Traceback" not in result.output
    assert not (run / f"track-{AS_OF}").exists()


def test_horizon_picks_the_quarter_ending_within_it() -> None:
    assert parse_horizon("30d") == 30 and parse_horizon("2w") == 14
    assert target_quarter(dt.date(2027, 5, 31), 30)[0] == "2027-Q2"
    assert target_quarter(dt.date(2027, 3, 15), 120)[0] == "2027-Q2"
    with pytest.raises(InputError, match="no quarter ends within 30 days"):
        target_quarter(dt.date(2027, 1, 10), 30)
    with pytest.raises(InputError, match="--horizon"):
        parse_horizon("soon")


# --- the forecast --------------------------------------------------------------------------------

def test_track_with_the_generated_pipeline_writes_the_quarter_and_the_funnel(company: tuple[Path, Path]) -> None:
    run, data = company
    out = track_run(run, data / "actuals.csv", AS_OF, draws=300, opportunities_path=data / "opportunities.csv",
                    horizon="30d")
    names = sorted(p.name for p in out.track_path.iterdir())
    assert names == ["funnel.csv", "stalled.csv", "status.csv", "status.html", "track.json"]
    status = pd.read_csv(out.track_path / "status.csv", dtype={"id": "str"})
    assert status["p_attain_quarter"].between(0, 1).all() and (status["quarter"] == "2027-Q1").all()
    assert (status["quarter_p10"] <= status["quarter_p90"]).all()
    assert status["pipeline_weighted"].notna().all()
    assert out.meta.quarter.pipeline is not None and out.meta.quarter.pipeline.conversion.method == "snapshots"
    page = (out.track_path / "status.html").read_text(encoding="utf-8")
    assert "Funnel: stage conversion by week and unit" in page and "Stalled opportunities" in page
    assert "Pipeline coverage by rep" in page
    again = track_run(run, data / "actuals.csv", AS_OF, draws=300, opportunities_path=data / "opportunities.csv",
                      horizon="30d")
    assert again.status.equals(out.status)  # same inputs and seed: same numbers


def test_an_empty_pipeline_gives_the_bookings_only_forecast(company: tuple[Path, Path], tmp_path: Path) -> None:
    run, data = company
    plain = track_run(run, data / "actuals.csv", AS_OF, draws=300).status
    empty = track_run(run, data / "actuals.csv", AS_OF, draws=300,
                      opportunities_path=_write(tmp_path / "opportunities.csv", [])).status
    for column in ("p_attain_quarter", "quarter_p50", "p_attain_year", "forecast_p50"):
        assert np.array_equal(plain[column].to_numpy(), empty[column].to_numpy()), column


def _history(rep: str, outcomes: list[tuple[str, int | None]], due_in: int) -> list[dict[str, object]]:
    """Past opportunities of ``rep``: open at a snapshot 150 days back with a close date ``due_in`` days
    ahead, each then won after the given number of days (None: lost)."""
    snap = dt.date(2027, 3, 1) - dt.timedelta(days=150)
    rows = []
    for i, (oid, won_after) in enumerate(outcomes):
        close = snap + dt.timedelta(days=due_in)
        rows.append({"snapshot_date": snap.isoformat(), "opportunity_id": oid, "rep_id": rep, "amount": 1000.0,
                     "stage": "commit", "status": "open", "close_date": close.isoformat(), "created_date": "",
                     "probability": 0.75})
        end = snap + dt.timedelta(days=won_after if won_after is not None else 20 + i % 10)
        rows.append({**rows[-1], "snapshot_date": AS_OF, "status": "won" if won_after is not None else "lost",
                     "close_date": end.isoformat()})
    return rows


def test_one_sure_deal_covering_the_quota_gives_a_chance_near_one(company: tuple[Path, Path], tmp_path: Path) -> None:
    run, data = company
    plain = track_run(run, data / "actuals.csv", AS_OF, draws=300).status
    reps = plain[plain["kind"] == "rep"].sort_values("p_attain_quarter")
    rep = str(reps["id"].iloc[0])  # the rep least likely to make the quarter on bookings alone
    row = _status(plain, rep)
    history = _history(rep, [(f"H{i:03d}", 12) for i in range(200)], due_in=15)  # commit, due soon: always won
    need = float(row["quarter_quota"]) * 1.2
    deal = {"snapshot_date": AS_OF, "opportunity_id": "SURE", "rep_id": rep, "amount": need, "stage": "commit",
            "status": "open", "close_date": "2027-03-12", "created_date": "2027-02-01", "probability": 0.9}
    out = track_run(run, data / "actuals.csv", AS_OF, draws=300,
                    opportunities_path=_write(tmp_path / "opportunities.csv", [*history, deal])).status
    assert float(row["p_attain_quarter"]) < 0.5
    assert float(_status(out, rep)["p_attain_quarter"]) >= 0.99
    assert float(_status(out, rep)["pipeline_weighted"]) == pytest.approx(need, rel=1e-6)


def test_a_pipeline_past_its_close_dates_is_discounted_by_learned_slippage(company: tuple[Path, Path],
                                                                         tmp_path: Path) -> None:
    run, data = company
    rep = str(pd.read_csv(run / "plan.csv", dtype={"rep_id": "str"})["rep_id"].iloc[0])
    # Overdue at the snapshot: 3 in 10 won within the next 30 days, the rest later or never.
    late = _history(rep, [(f"L{i:03d}", 10 if i % 10 < 3 else (60 if i % 10 < 6 else None)) for i in range(300)],
                    due_in=-20)
    soon = _history(rep, [(f"S{i:03d}", 10 if i % 10 < 9 else None) for i in range(300)], due_in=15)
    open_rows = [{"snapshot_date": AS_OF, "opportunity_id": f"O{i}", "rep_id": rep, "amount": 5000.0,
                  "stage": "commit", "status": "open", "close_date": close, "created_date": "2026-12-01",
                  "probability": 0.75} for i in range(4) for close in ["2027-02-10"]]
    out = track_run(run, data / "actuals.csv", AS_OF, draws=300,
                    opportunities_path=_write(tmp_path / "late.csv", [*late, *soon, *open_rows]))
    weighted = float(_status(out.status, rep)["pipeline_weighted"])
    # 20,000 open, all past their close dates: weighted at the learned 30% (shrinkage pulls a little toward 60%).
    assert weighted == pytest.approx(0.30 * 20_000, rel=0.1)
    on_time = [{**r, "close_date": "2027-03-15"} for r in open_rows]
    out2 = track_run(run, data / "actuals.csv", AS_OF, draws=300,
                     opportunities_path=_write(tmp_path / "soon.csv", [*late, *soon, *on_time]))
    assert float(_status(out2.status, rep)["pipeline_weighted"]) == pytest.approx(0.90 * 20_000, rel=0.1)
    assert float(_status(out2.status, rep)["p_attain_quarter"]) >= float(_status(out.status, rep)["p_attain_quarter"])


def test_without_snapshots_the_funnel_learns_from_won_and_lost() -> None:
    as_of = pd.Timestamp(AS_OF)
    # 10 won (passed every stage), 10 lost at stage 0, 10 lost at stage 1.
    status = ["won"] * 10 + ["lost"] * 20
    stage = [1] * 10 + [0] * 10 + [1] * 10
    opps = pd.DataFrame({"opportunity_id": [f"o{i}" for i in range(30)], "rep_id": "r", "amount": 100.0,
                         "stage_index": stage, "status": status, "close_date": pd.Timestamp("2027-02-01"),
                         "created_date": pd.Timestamp("2027-01-01"), "snapshot_date": as_of})
    conv = learn_conversion(opps, pd.Series({"r": "ka"}), ("ka",), ("early", "late"), as_of)
    assert conv.method == "won_lost"
    # Reached early: all 30, 10 won -> 1/3 (= the pooled rate). Reached late: 10 won + 10 lost there -> 1/2,
    # shrunk by 30 pseudo-rows at each level (stage, stage x bucket, role x stage x bucket): 0.4, 0.44, 0.464.
    assert conv.funnel[0, 0] == pytest.approx(1 / 3)
    assert conv.funnel[0, 1] == pytest.approx(0.464)


def test_generate_writes_the_pipeline_only_when_asked(tmp_path: Path) -> None:
    runner = CliRunner()
    plain = runner.invoke(main, ["generate", "--reps", "8", "--out", str(tmp_path / "a"), "--actuals-through", AS_OF])
    piped = runner.invoke(main, ["generate", "--reps", "8", "--out", str(tmp_path / "b"), "--actuals-through", AS_OF,
                                 "--opportunities"])
    assert plain.exit_code == 0 and piped.exit_code == 0, plain.output + piped.output
    assert not (tmp_path / "a" / "opportunities.csv").exists()
    assert (tmp_path / "b" / "opportunities.csv").exists() and (tmp_path / "b" / "truth" / "opportunities.csv").exists()
    # The pipeline has its own seed stream: every other file is byte for byte the same.
    for name in ("bookings.csv", "actuals.csv", "reps.csv", "truth/plan_year_bookings.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


# --- at scale the pipeline is read and drawn column-wise; the results are those of the plain definitions -----

def test_pipeline_draws_are_the_sparse_product_of_the_won_flags() -> None:
    import scipy.sparse as sp

    from quotaopt.tracking.pipeline.forecast import OpenPipeline

    rng = np.random.default_rng(4)
    n_reps, n_opps, n_draws = 30, 701, 9  # odd sizes: the float32 stream must not depend on row boundaries
    pipe = OpenPipeline(rng.integers(0, n_reps, n_opps), rng.random(n_opps), rng.lognormal(9, 1, n_opps), n_reps)
    won = (np.random.default_rng(8).random((n_draws, n_opps), dtype=np.float32) < pipe.p.astype(np.float32))
    to_rep = sp.csr_matrix((pipe.amount, (pipe.rep, np.arange(n_opps))), shape=(n_reps, n_opps))
    expected = np.asarray(to_rep @ won.astype(np.float32).T).T
    assert pipe.draw(np.random.default_rng(8), n_draws).tobytes() == expected.tobytes()


def test_a_clean_file_is_read_as_the_text_reader_reads_it(company: tuple[Path, Path], tmp_path: Path) -> None:
    from quotaopt.io import load_company, load_opportunities

    _, data = company
    opps = pd.read_csv(data / "opportunities.csv", dtype="str", keep_default_na=False)
    opps.loc[opps.index[:3], "stage"] = " COMMIT "  # case and space as a CRM export may have them
    path = tmp_path / "opportunities.csv"
    opps.to_csv(path, index=False)
    got = load_opportunities(path, load_company(data), ["qualify", "discover", "propose", "commit"])
    assert got["stage"].iloc[:3].tolist() == ["commit"] * 3 and (got["stage_index"] >= 0).all()
    for column in ("close_date", "created_date", "snapshot_date"):
        assert got[column].dtype == "datetime64[ns]"
        parsed = pd.to_datetime(opps[column].where(opps[column] != ""), format="%Y-%m-%d")
        assert got[column].equals(parsed.astype("datetime64[ns]"))
    assert np.array_equal(got["amount"].to_numpy(), pd.to_numeric(opps["amount"]).to_numpy(dtype=float))
    twice = pd.concat([opps, opps.iloc[[5]]], ignore_index=True)
    twice.to_csv(path, index=False)
    with pytest.raises(InputError, match=rf"opportunities.csv:{len(twice) + 1}:opportunity_id: listed twice"):
        load_opportunities(path, load_company(data), ["qualify", "discover", "propose", "commit"])
