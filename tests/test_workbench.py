"""The workbench without a browser: the same plan as ``quotaopt plan``, approvals, and the safety rules.

The app runs in-process (Starlette's TestClient); the plans are real solves of the
shipped example, shared by the tests of this module (the capacity model is fitted once).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from quotaopt.cli import main
from quotaopt.errors import InputError

from workbench_fixtures import copy_example

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

LOCAL = "http://127.0.0.1:8000"
TOKEN = "s3cret-token-for-tests-0123456789"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_example(tmp_path_factory.mktemp("bench"))


@pytest.fixture(scope="module")
def client(example: Path) -> TestClient:
    from quotaopt.workbench import build

    return TestClient(build([example], user="ana"), base_url=LOCAL)


def _settings(growth: float, locks: dict | None = None) -> dict:
    return {"knobs": {"growth": growth}, "locks": locks or {}}


def _save(client: TestClient, settings: dict, name: str) -> str:
    answer = client.post("/s/example/versions", json={"settings": settings, "name": name})
    assert answer.status_code == 200, answer.text
    run_id = answer.text.split('data-run="')[1].split('"')[0]
    return run_id


def test_saved_version_and_plan_give_the_same_files(client: TestClient, example: Path) -> None:
    """A version saved from the page = ``quotaopt plan`` of a scenario with its overrides, byte for byte."""
    settings = {"knobs": {"growth": 0.15, "flex": 0.08, "stretch": [0.7, 1.5], "fairness": "chance"},
                "locks": {"RP000003": 900000}}
    run_id = _save(client, settings, "the same as plan")
    saved = example.parent / "runs" / "example" / run_id
    manifest = json.loads((saved / "manifest.json").read_text())
    overrides = manifest["workbench"]["overrides"]
    assert overrides == {"target": {"growth": 0.15}, "allocation": {"flex": 0.08, "stretch": [0.7, 1.5],
                                                                    "fairness": "chance",
                                                                    "locks": {"RP000003": 900000.0}}}
    child = example.parent / "same_settings.yaml"
    child.write_text(yaml.safe_dump({"extends": "example.yaml", "name": "example", **overrides}))
    out = example.parent.parent / "cli-runs"
    result = CliRunner().invoke(main, ["plan", str(child), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (planned,) = [p for p in (out / "example").iterdir() if p.is_dir()]
    for name in ("plan.csv", "plan_periods.csv", "units.csv", "summary.json"):
        assert (planned / name).read_bytes() == (saved / name).read_bytes(), name
    plan = (saved / "plan.csv").read_text()
    assert "RP000003," in plan and ",900000," in plan.split("RP000003,")[1].split("\n")[0]


def test_a_knob_change_moves_the_headline_and_a_lock_names_the_teammates(client: TestClient) -> None:
    base = client.post("/s/example/solve", json={"settings": _settings(0.12)})
    assert base.status_code == 200
    assert "growth +12.0%" in base.text
    higher = client.post("/s/example/solve", json={"settings": _settings(0.18), "previous": _settings(0.12)})
    assert "growth +18.0%" in higher.text and "growth +12.0%" not in higher.text
    locked = client.post("/s/example/solve", json={"settings": _settings(0.18, {"RP000001": 3000000}),
                                                    "previous": _settings(0.18)})
    assert locked.status_code == 200
    assert "Locking RP000001 moved" in locked.text and "in TM0001" in locked.text
    assert 'data-rep="RP000001" data-team="TM0001" data-locked="page"' in locked.text


def test_approval_steps_are_on_the_audit_log_and_approved_is_read_only(client: TestClient, example: Path) -> None:
    run_id = _save(client, _settings(0.13), "to approve")
    runs = example.parent / "runs"
    wrong = client.post(f"/s/example/versions/{run_id}/status", json={"to": "approved", "comment": ""})
    assert wrong.status_code == 422
    assert "is draft: it can be submitted, not approved" in wrong.text
    for to in ("submitted", "approved"):
        answer = client.post(f"/s/example/versions/{run_id}/status", json={"to": to, "comment": f"{to} ok"})
        assert answer.status_code == 200, answer.text
        assert f"{run_id} is now {to}" in answer.text
    again = client.post(f"/s/example/versions/{run_id}/status", json={"to": "rejected", "comment": "no"})
    assert again.status_code == 422 and "approved and read-only" in again.text
    lines = [json.loads(x) for x in (runs / "audit.jsonl").read_text().splitlines()]
    steps = [(x["status"], x["from"], x["by"], x["comment"]) for x in lines
             if x.get("event") == "status" and x["run_id"] == run_id]
    assert steps == [("draft", None, "ana", "saved from the workbench"), ("submitted", "draft", "ana", "submitted ok"),
                     ("approved", "submitted", "ana", "approved ok")]
    folder = runs / "example" / run_id
    approval = json.loads((folder / "approval.json").read_text())
    assert approval["by"] == "ana" and approval["comment"] == "approved ok"
    assert "Approved by ana" in (folder / "report.html").read_text()
    served = client.get(f"/s/example/versions/{run_id}/report")
    assert served.status_code == 200 and "Approved by ana" in served.text
    assert served.headers["content-security-policy"].startswith("default-src 'none'; style-src 'unsafe-inline'")
    assert not os.access(folder / "plan.csv", os.W_OK) or os.geteuid() == 0
    assert not (folder / "plan.csv").stat().st_mode & 0o222


def test_script_in_a_comment_or_a_name_is_escaped(client: TestClient) -> None:
    evil = "<script>alert('x')</script>"
    run_id = _save(client, _settings(0.11), f"name {evil}")
    client.post(f"/s/example/versions/{run_id}/status", json={"to": "submitted", "comment": evil})
    page = client.get("/s/example/versions").text
    assert evil not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert page.count("<script") == 1  # only the page's own script tag


def test_path_traversal_is_refused(client: TestClient, example: Path, tmp_path: Path) -> None:
    secret = example.parent / "secret.txt"
    secret.write_text("do not serve me")
    for address in ("/s/example/versions/..%2F..%2Fsecret.txt/report", "/s/example/versions/../../secret.txt/report",
                    "/static/..%2F..%2F..%2Fpyproject.toml", "/static/../engine.py", "/s/..%2Fscenarios/history",
                    "/s/example/compare?run=..%2F..%2Fsecret.txt&run=x"):
        answer = client.get(address)
        assert answer.status_code in (404, 422), address
        assert "do not serve me" not in answer.text and "import" not in answer.text
    outside = tmp_path / "20260101T000000-deadbeef"
    outside.mkdir()
    (outside / "manifest.json").write_text("{}")
    (outside / "report.html").write_text("outside the runs")
    (example.parent / "runs" / "example").mkdir(parents=True, exist_ok=True)
    (example.parent / "runs" / "example" / outside.name).symlink_to(outside)
    answer = client.get(f"/s/example/versions/{outside.name}/report")
    assert answer.status_code == 422 and "outside the runs" not in answer.text


def test_token_is_needed_off_loopback(example: Path) -> None:
    from quotaopt.workbench import build

    with pytest.raises(InputError, match="give --token"):
        build([example], host="0.0.0.0")
    with pytest.raises(InputError, match="at least 16 characters"):
        build([example], host="0.0.0.0", token="short")
    app = build([example], host="0.0.0.0", token=TOKEN)
    client = TestClient(app, base_url="http://10.1.2.3:8000", follow_redirects=False)
    assert client.get("/s/example/history").status_code == 401
    assert client.get("/s/example/history", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 401
    assert client.get("/s/example/history", headers={"cookie": "quotaopt_token=nope"}).status_code == 401
    assert client.post("/s/example/solve", json=_settings(0.1)).status_code == 401
    assert client.get("/s/example/history", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    first = client.get(f"/s/example/history?token={TOKEN}")
    assert first.status_code == 303 and first.headers["location"] == "/s/example/history"
    assert "HttpOnly" in first.headers["set-cookie"] and "SameSite=Strict" in first.headers["set-cookie"]
    assert client.get("/s/example/history", headers={"cookie": f"quotaopt_token={TOKEN}"}).status_code == 200


def test_other_hosts_origins_and_form_posts_are_refused(client: TestClient) -> None:
    assert client.get("/s/example/history", headers={"host": "evil.example"}).status_code == 400
    form = client.post("/s/example/solve", data={"settings": "x"})
    assert form.status_code == 415
    foreign = client.post("/s/example/solve", json={"settings": _settings(0.1)},
                          headers={"origin": "http://evil.example"})
    assert foreign.status_code == 403
    page = client.get("/s/example")
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_bad_settings_and_impossible_plans_answer_in_business_words(client: TestClient) -> None:
    unknown = client.post("/s/example/solve", json={"settings": {"knobs": {"warp": 1}}})
    assert unknown.status_code == 422 and "unknown knob" in unknown.text
    bad = client.post("/s/example/solve", json={"settings": {"knobs": {"stretch": [1.5, 0.9]}}})
    assert bad.status_code == 422 and "Stretch band: low 1.5 is above high 0.9" in bad.text
    off_grid = client.post("/s/example/solve", json={"settings": _settings(0.1, {"RP000001": 1234.5})})
    assert off_grid.status_code == 422 and "not a whole multiple" in off_grid.text
    nobody = client.post("/s/example/solve", json={"settings": _settings(0.1, {"RP999999": 1000})})
    assert nobody.status_code == 422 and "no active rep &#39;RP999999&#39; to lock" in nobody.text
    impossible = client.post("/s/example/solve", json={"settings": _settings(0.1, {"RP000001": 900_000_000})})
    assert impossible.status_code == 409, impossible.text
    assert "Traceback" not in impossible.text and "cannot be planned" in impossible.text
    assert client.post("/s/example/versions", json={"settings": _settings(0.1), "name": "  "}).status_code == 422
    assert client.get("/s/nosuch").status_code == 404


def test_one_solve_at_a_time_per_scenario(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two requests with new settings at once: the second waits for the first (never two solves at once)."""
    from quotaopt import planning
    from quotaopt.workbench.engine import ScenarioSession
    from quotaopt.workbench.knobs import parse_settings

    session = ScenarioSession(example)
    active, most = [0], [0]
    real = planning.run_plan

    def counting(*args, **kwargs):
        active[0] += 1
        most[0] = max(most[0], active[0])
        try:
            time.sleep(0.2)  # widen the window in which a second solve could overlap
            return real(*args, **kwargs)
        finally:
            active[0] -= 1

    monkeypatch.setattr(planning, "run_plan", counting)
    threads = [threading.Thread(target=session.solve, args=(parse_settings(_settings(g), 1000),))
               for g in (0.05, 0.06, 0.07)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
    assert session.waiting == 0
    assert len(session.capacity_cache) == 1  # fitted once for the three


def test_analyze_writes_every_view(example: Path) -> None:
    result = CliRunner().invoke(main, ["analyze", str(example)])
    assert result.exit_code == 0, result.output
    page = example.parent / "runs" / "example" / "analysis.html"
    assert result.output.splitlines() == [f"page: {page}", "new customers: 2025 264, 2026 105",
                                          "repurchase rate: 2025 79.8% of 1,028, 2026 78.9% of 1,084"]
    html = page.read_text()
    for sid in ("periods", "units", "pareto", "growth", "customers", "repurchase"):
        assert f'<section id="{sid}">' in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html  # self-contained
    missing = CliRunner().invoke(main, ["analyze", str(example.parent / "nope.yaml")])
    assert missing.exit_code == 2 and "scenario file not found" in missing.output


def test_knobs_become_the_overrides_a_child_scenario_would_set(example: Path) -> None:
    from quotaopt.io import load_scenario
    from quotaopt.workbench.knobs import knob_values, overrides, parse_settings

    base = load_scenario(example)
    start = knob_values(base)
    assert start["growth"] == 0.12 and start["stretch"] == [0.75, 1.4] and start["company"] is None
    same = parse_settings({"knobs": start, "locks": {}}, 1000)
    assert overrides(same, base) == {}  # the file's own values change nothing
    amount = parse_settings({"knobs": {**start, "company": 90e6}}, 1000)
    assert overrides(amount, base) == {"target": {"company": 90e6, "growth": None}}
    assert load_scenario(example, overrides(amount, base)).target.company == 90e6
    by_share = load_scenario(example, {"target": {"growth": None, "reps_at_quota": 0.6}})
    back = parse_settings({"knobs": {"growth": 0.1}}, 1000)
    assert overrides(back, by_share) == {"target": {"growth": 0.1, "reps_at_quota": None}}
    none = parse_settings({"knobs": {"ka_share": None, "max_change": None}, "locks": {"RP1": None}}, 1000)
    assert overrides(none, base) == {"allocation": {"ka_share": None, "max_change": None, "locks": {"RP1": None}}}
    with pytest.raises(InputError, match="give a target growth or a target amount"):
        parse_settings({"knobs": {"growth": None, "company": None}}, 1000)
    with pytest.raises(InputError, match="Fairness: expected one of stretch, chance"):
        parse_settings({"knobs": {"fairness": "random"}}, 1000)
    with pytest.raises(InputError, match="Target growth: expected a finite number"):
        parse_settings({"knobs": {"growth": "nan"}}, 1000)


def test_the_frontier_around_the_page_settings(client: TestClient) -> None:
    answer = client.post("/s/example/frontier", json={"settings": _settings(0.12)})
    assert answer.status_code == 200, answer.text
    assert "The planning frontier" in answer.text and answer.text.count("<tr>") >= 9  # -10% .. +30% by 5
    assert "+30.0%" in answer.text and "<svg" in answer.text


def test_serve_refuses_other_hosts_without_a_token_before_listening(example: Path) -> None:
    result = CliRunner().invoke(main, ["serve", str(example), "--host", "0.0.0.0"], env={"QUOTAOPT_TOKEN": None})
    assert result.exit_code == 2
    assert "--host: listening on 0.0.0.0 lets other machines in: give --token" in result.output
    bad = CliRunner().invoke(main, ["serve", str(example.parent / "missing.yaml")])
    assert bad.exit_code == 2 and "scenario file not found" in bad.output
