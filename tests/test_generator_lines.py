"""The generator's product lines: revenue untouched, lines with a known truth, bad counts refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quotaopt.datasets import generate_company
from quotaopt.errors import InputError


def test_product_lines_leave_revenue_alone_and_carry_their_truth(tmp_path: Path) -> None:
    plain = generate_company(tmp_path / "plain", n_reps=40, years=2, seed=4)
    lined = generate_company(tmp_path / "lined", n_reps=40, years=2, seed=4, product_lines=3)
    a = pd.read_csv(plain / "bookings.csv")
    b = pd.read_csv(lined / "bookings.csv")
    pd.testing.assert_frame_equal(a, b.drop(columns="product_line"))
    for name in ("reps.csv", "teams.csv", "accounts.csv", "truth/capacity.csv"):
        assert (plain / name).read_bytes() == (lined / name).read_bytes()
    assert set(b["product_line"]) == {"Devices", "Services", "Software"}
    mix = pd.read_csv(lined / "truth" / "line_mix.csv")
    np.testing.assert_allclose(mix.groupby(["rep_id", "year"])["share"].sum(), 1.0, atol=1e-5)
    meta = json.loads((lined / "truth" / "meta.json").read_text())["product_lines"]
    assert meta["names"] == ["Devices", "Services", "Software"] and len(meta["season"]) == 3
    # The realised mix follows the truth: a line's share of the bookings is near its expected share.
    realised = b[b["amount"] > 0].groupby("product_line")["amount"].sum() / b.loc[b["amount"] > 0, "amount"].sum()
    assert abs(float(realised["Devices"]) - float(mix[mix["product_line"] == "Devices"]["share"].mean())) < 0.15
    # Same arguments, same bytes.
    again = generate_company(tmp_path / "again", n_reps=40, years=2, seed=4, product_lines=3)
    assert (again / "bookings.csv").read_bytes() == (lined / "bookings.csv").read_bytes()


def test_bad_product_line_count_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="product_lines"):
        generate_company(tmp_path / "x", n_reps=5, product_lines=9)
