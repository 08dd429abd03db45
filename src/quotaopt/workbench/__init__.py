"""``quotaopt serve``: the what-if workbench, a local web page over the same library calls as the CLI.

Sales ops move the knobs of a scenario (target, over-assignment, market growth,
stretch, flex, ka_share, max_change, fairness, seasonality) and see the plan re-solve;
lock a rep's quota in the grid and see which teammates moved; save versions as normal
run folders; compare them with the numbers of ``quotaopt compare``; move a version
through draft -> submitted -> approved or rejected on ``runs/audit.jsonl``; and read
the history view of the data (the same as ``quotaopt analyze``).

The web libraries (Starlette, Jinja2, uvicorn) are imported only when the workbench
starts, so ``quotaopt --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["build", "serve"]


def default_user() -> str:
    """The OS account's name (what approvals record without ``--user``)."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - some containers have no user name
        return "unknown"


def build(scenarios: list[Path], runs_dir: Path | None = None, user: str | None = None,
          token: str | None = None, host: str = "127.0.0.1") -> Any:
    """The ASGI app over ``scenarios`` (each loaded and checked now, before any page is served).

    Parameters
    ----------
    scenarios : list of Path
        Scenario files; each gets a page at ``/s/<name>``.
    runs_dir : Path, optional
        Parent of the run folders (default ``runs/`` beside each scenario).
    user : str, optional
        Recorded on saves and approvals (default: the OS account).
    token, host : str
        See :func:`serve`.

    Raises
    ------
    InputError
        A scenario or its data is invalid (the same messages as ``quotaopt validate``).

    Examples
    --------
    >>> from starlette.testclient import TestClient  # doctest: +SKIP
    >>> client = TestClient(build([Path("scenarios/example.yaml")]))  # doctest: +SKIP
    >>> client.get("/s/example").status_code  # doctest: +SKIP
    200
    """
    from quotaopt.workbench.app import Workbench, create_app
    from quotaopt.workbench.engine import ScenarioSession
    from quotaopt.workbench.security import allowed_hosts, check_binding

    check_binding(host, token)
    sessions: list[ScenarioSession] = []
    for path in scenarios:
        session = ScenarioSession(Path(path), runs_dir)
        taken = {s.slug for s in sessions}
        slug, n = session.slug, 2
        while slug in taken:  # two files of the same scenario name
            slug, n = f"{session.slug}-{n}", n + 1
        session.slug = slug
        sessions.append(session)
    return create_app(Workbench(sessions, user or default_user()), token=token, allowed=allowed_hosts(host))


def serve(scenarios: list[Path], host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
          user: str | None = None, runs_dir: Path | None = None, echo: Callable[[str], None] = print) -> None:
    """Load the scenarios and serve the workbench until interrupted.

    Binds ``127.0.0.1`` unless told otherwise; any other address needs ``token``, and
    every request must then carry it (see :mod:`quotaopt.workbench.security`).
    """
    import uvicorn

    app = build(scenarios, runs_dir=runs_dir, user=user, token=token, host=host)
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    echo(f"quotaopt workbench on {address} (Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
