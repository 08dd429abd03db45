"""The workbench's web app: a few server-rendered pages and JSON posts that return HTML fragments.

Every page is rendered here from Jinja templates with autoescaping on, so any text a
user typed (a version name, a comment) reaches the browser escaped; the page's script
only swaps in those fragments. Requests name scenarios by their slug and versions by
their run id (checked against the run id pattern and resolved inside the scenario's
runs folder), never by a path. A failing solve answers with the business message of
the error (what ``quotaopt plan`` would print), never a traceback; anything unexpected
is logged on the server and shown as one line.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from quotaopt.errors import InputError, Problem, QuotaOptError
from quotaopt.io import WrittenRun
from quotaopt.workbench.engine import ScenarioSession
from quotaopt.workbench.knobs import KNOBS, Settings, parse_settings

LOG = logging.getLogger("quotaopt.workbench")
HERE = Path(__file__).resolve().parent
#: HTTP status for each exit code of the contract (2 input, 3 infeasible, 4 solver).
STATUS_OF_EXIT = {2: 422, 3: 409, 4: 503}
#: The policy report.html carries in its own meta tag: its inline style and script, nothing fetched.
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
#: Largest request body read (settings with thousands of locks fit easily).
MAX_BODY = 2_000_000


class Workbench:
    """The scenarios being served, the user name for approvals, and the page templates."""

    def __init__(self, sessions: list[ScenarioSession], user: str) -> None:
        import jinja2

        self.sessions = {s.slug: s for s in sessions}
        self.user = user
        self.templates = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                                             autoescape=True, undefined=jinja2.StrictUndefined)
        self.templates.filters["money"] = lambda v: "\u2014" if v is None or v != v else f"{float(v):,.0f}"
        self.templates.filters["pct"] = lambda v: "\u2014" if v is None or v != v else f"{float(v):.1%}"
        self.templates.filters["signed"] = lambda v: "" if not v or v != v else f"{float(v):+,.0f}"

    def session(self, slug: str) -> ScenarioSession:
        """The scenario named by the address, or a 404-style business error."""
        found = self.sessions.get(slug)
        if found is None:
            raise InputError([Problem("scenario", f"no scenario {slug[:60]!r} on this workbench")])
        return found

    def render(self, template: str, **context: Any) -> str:
        """A page or fragment, every value escaped by the template."""
        return self.templates.get_template(template).render(sessions=list(self.sessions.values()), user=self.user,
                                                        **context)


def _status_of(exc: QuotaOptError) -> int:
    return STATUS_OF_EXIT.get(exc.exit_code, 500)


def create_app(workbench: Workbench, token: str | None = None, allowed: set[str] | None = None) -> Any:
    """The ASGI app (Starlette) behind :class:`~quotaopt.workbench.security.Guard`.

    Parameters
    ----------
    workbench : Workbench
    token : str, optional
        When given, every request must carry it.
    allowed : set of str, optional
        Host names requests may name (default: loopback's).
    """
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from quotaopt.workbench import pages, versions
    from quotaopt.workbench.security import Guard

    def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(workbench.render(template, **context), status_code=status)

    def failure(exc: Exception, fragment: bool) -> HTMLResponse:
        if isinstance(exc, QuotaOptError):
            text, status = str(exc), _status_of(exc)
            if isinstance(exc, InputError) and "no scenario" in text:
                status = 404
        else:  # our bug, not the user's: the log has the traceback, the page one line
            LOG.exception("workbench request failed")
            text, status = f"internal error ({type(exc).__name__}); the server's log has the details", 500
        if fragment:
            return page("_error.html", status=status, message=text)
        return page("error.html", status=status, message=text)

    async def body_of(request: Request) -> Any:
        import json

        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise InputError([Problem("request", f"the request is larger than {MAX_BODY:,} bytes")])
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            raise InputError([Problem("request", "the request is not valid JSON")]) from None

    Handler = Callable[[Request, ScenarioSession], Awaitable[Response]]

    def scenario_route(fragment: bool) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
        """The scenario the address names handed to ``handler``; every failure becomes a message."""
        def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            async def endpoint(request: Request) -> Response:
                try:
                    return await handler(request, workbench.session(request.path_params["slug"]))
                except Exception as exc:  # noqa: BLE001 - users see a message, the log our bugs
                    return failure(exc, fragment)
            return endpoint
        return wrap

    async def posted(request: Request, session: ScenarioSession, key: str = "settings") -> tuple[dict[str, Any], Settings]:
        payload = await body_of(request)
        if not isinstance(payload, dict):
            raise InputError([Problem("request", "expected a JSON object")])
        return payload, parse_settings(payload.get(key) or {}, session.unit)

    async def index(request: Request) -> Response:
        if len(workbench.sessions) == 1:
            return RedirectResponse(f"/s/{next(iter(workbench.sessions))}", status_code=303)
        return page("index.html")

    @scenario_route(fragment=False)
    async def scenario_page(request: Request, session: ScenarioSession) -> Response:
        return page("workbench.html", s=session, knobs=KNOBS, start={"knobs": session.start, "locks": {}})

    @scenario_route(fragment=True)
    async def solve(request: Request, session: ScenarioSession) -> Response:
        payload, settings = await posted(request, session)
        previous = parse_settings(payload["previous"], session.unit) if payload.get("previous") else None
        waiting = session.waiting
        view = await run_in_threadpool(pages.plan_view, session, settings, previous)
        response = page("_plan.html", s=session, v=view, waited=waiting)
        response.headers["x-solve-seconds"] = f"{view.seconds:.3f}"
        return response

    @scenario_route(fragment=True)
    async def save(request: Request, session: ScenarioSession) -> Response:
        payload, settings = await posted(request, session)
        written = await run_in_threadpool(session.save, settings, str(payload.get("name") or ""), workbench.user)
        return page("_saved.html", s=session, run_id=written.run_id, name=_version_name(written))

    @scenario_route(fragment=False)
    async def versions_page(request: Request, session: ScenarioSession) -> Response:
        listed = versions.list_versions(session.runs_root, session.name)
        return page("versions.html", s=session, versions=listed, steps=versions.STEPS)

    @scenario_route(fragment=True)
    async def move(request: Request, session: ScenarioSession) -> Response:
        payload, _ = await posted(request, session, key="-")
        line = await run_in_threadpool(versions.move, session.runs_root, session.name, request.path_params["run_id"],
                                       str(payload.get("to") or ""), workbench.user, str(payload.get("comment") or ""))
        listed = versions.list_versions(session.runs_root, session.name)
        return page("_versions.html", s=session, versions=listed, steps=versions.STEPS,
                    notice=f"{line['run_id']} is now {line['status']}")

    @scenario_route(fragment=False)
    async def report(request: Request, session: ScenarioSession) -> Response:
        folder = versions.run_folder(session.runs_root, session.name, request.path_params["run_id"])
        return FileResponse(folder / "report.html", media_type="text/html",
                            headers={"content-security-policy": REPORT_POLICY})

    @scenario_route(fragment=False)
    async def compare(request: Request, session: ScenarioSession) -> Response:
        view = await run_in_threadpool(pages.compare_view, session, request.query_params.getlist("run"))
        return page("compare.html", s=session, v=view)

    @scenario_route(fragment=False)
    async def history(request: Request, session: ScenarioSession) -> Response:
        body = await run_in_threadpool(pages.history_html, session)
        return page("history.html", s=session, body=body)

    @scenario_route(fragment=True)
    async def frontier(request: Request, session: ScenarioSession) -> Response:
        _, settings = await posted(request, session)
        view = await run_in_threadpool(pages.frontier_view, session, settings)
        return page("_frontier.html", s=session, v=view)

    async def report_css(request: Request) -> Response:
        from quotaopt.report._assets import CSS

        return Response(CSS, media_type="text/css")

    async def not_found(request: Request, exc: Exception) -> Response:
        return page("error.html", status=404, message="no such page on this workbench")

    routes = [
        Route("/", index),
        Route("/s/{slug}", scenario_page),
        Route("/s/{slug}/solve", solve, methods=["POST"]),
        Route("/s/{slug}/frontier", frontier, methods=["POST"]),
        Route("/s/{slug}/versions", versions_page),
        Route("/s/{slug}/versions", save, methods=["POST"]),
        Route("/s/{slug}/versions/{run_id}/status", move, methods=["POST"]),
        Route("/s/{slug}/versions/{run_id}/report", report),
        Route("/s/{slug}/compare", compare),
        Route("/s/{slug}/history", history),
        Route("/assets/report.css", report_css),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found})
    return Guard(app, token, allowed or {"127.0.0.1", "localhost", "::1"})


def _version_name(written: WrittenRun) -> str:
    """The name a version was saved under (its manifest's ``workbench.version``)."""
    assert written.manifest.workbench is not None
    return written.manifest.workbench.version
