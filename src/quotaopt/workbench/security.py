"""Safe by default: who may talk to the workbench, and what a request may carry.

- **Loopback unless told otherwise.** ``127.0.0.1``, ``::1`` and ``localhost`` need no
  token; any other address needs one (``--token`` or ``QUOTAOPT_TOKEN``), and then
  every request must carry it: the ``Authorization: Bearer`` header, the cookie the
  first visit sets, or ``?token=`` on that first visit (which sets the cookie and
  redirects to the address without it, so the token does not stay in the history).
  Tokens are compared in constant time.
- **The Host header must name the server** (a page on another site that rebinds its
  DNS to 127.0.0.1 is refused).
- **Changes are JSON posts from the page itself**: a POST needs ``Content-Type:
  application/json`` and, where the browser sends one, an ``Origin`` equal to the
  server's, so no other site's form can approve a plan.
- Every response forbids framing and any script or connection but the server's own; a
  stored ``report.html`` is served under the policy it carries itself (its own inline
  sort script, no network at all).
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from quotaopt.errors import InputError, Problem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "quotaopt_token"
LOOPBACK_NAMES = ("localhost",)
TOKEN_CHARS = re.compile(r"^[A-Za-z0-9._~-]+$")
#: Shortest token accepted (a guessable token is no protection).
MIN_TOKEN = 16
HEADERS = [
    (b"content-security-policy", b"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
     b"img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


def is_loopback(host: str) -> bool:
    """True for this machine's own addresses (127.0.0.0/8, ::1, localhost)."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Refuse to listen off loopback without a token, or with a short one.

    Raises
    ------
    InputError
        Naming ``--token`` (exit 2 from the command).
    """
    if token is not None and len(token) < MIN_TOKEN:
        raise InputError([Problem("--token", f"the token must be at least {MIN_TOKEN} characters (a long random "
                                  "string, e.g. python -c \"import secrets; print(secrets.token_urlsafe())\")")])
    if token is not None and not TOKEN_CHARS.match(token):
        raise InputError([Problem("--token", "the token may hold letters, digits and . _ ~ - only (it travels in a "
                                  "cookie and an address)")])
    if not is_loopback(host) and not token:
        raise InputError([Problem("--host", f"listening on {host} lets other machines in: give --token (or set "
                                  "QUOTAOPT_TOKEN) so every request must carry it, or keep --host 127.0.0.1")])


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


class Guard:
    """ASGI middleware: the host, token, origin and content-type rules above, and the safety headers."""

    def __init__(self, app: ASGIApp, token: str | None, allowed_hosts: set[str]) -> None:
        self.app = app
        self.token = token
        self.allowed_hosts = {h.lower() for h in allowed_hosts}

    def _token_ok(self, given: str | None) -> bool:
        return given is not None and self.token is not None and hmac.compare_digest(given.encode(), self.token.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get("host", "")
        name = urlsplit(f"//{host}").hostname or ""
        if "*" not in self.allowed_hosts and name.lower() not in self.allowed_hosts:
            await _plain(send, 400, "this server does not answer to that host name")
            return
        if self.token is not None:
            bearer = headers.get("authorization", "")
            given = bearer[7:] if bearer.lower().startswith("bearer ") else None
            given = given or _cookie(headers.get("cookie", ""), COOKIE)
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            if not self._token_ok(given):
                if scope["method"] == "GET" and self._token_ok(query.get("token")):
                    rest = urlencode([(k, v) for k, v in parse_qsl(scope["query_string"].decode("latin-1"))
                                      if k != "token"])
                    await _redirect_with_cookie(send, scope["path"] + (f"?{rest}" if rest else ""), self.token)
                    return
                await _plain(send, 401, "this workbench needs its token: open the address quotaopt serve printed")
                return
        if scope["method"] not in ("GET", "HEAD"):
            origin = headers.get("origin")
            if origin is not None and urlsplit(origin).netloc.lower() != host.lower():
                await _plain(send, 403, "changes are accepted from the workbench's own page only")
                return
            if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
                await _plain(send, 415, "changes are sent as JSON by the workbench's page")
                return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = list(message.get("headers") or [])
                has_policy = any(k.lower() == b"content-security-policy" for k, _ in own)
                # A route that sets its own policy (a stored report page) keeps it.
                message["headers"] = own + [h for h in HEADERS if not (has_policy and h[0] == HEADERS[0][0])]
            await send(message)

        await self.app(scope, receive, with_headers)


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            *HEADERS]})
    await send({"type": "http.response.body", "body": body})


async def _redirect_with_cookie(send: Send, location: str, token: str) -> None:
    cookie = f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/".encode("latin-1")
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", location.encode("latin-1")), (b"set-cookie", cookie),
                            (b"content-length", b"0"), *HEADERS]})
    await send({"type": "http.response.body", "body": b""})


def allowed_hosts(host: str) -> set[str]:
    """Host names a request may name: the bound one and loopback's; any when bound to every address."""
    if host in ("0.0.0.0", "::", ""):
        return {"*"}
    return {host.strip("[]").lower(), "127.0.0.1", "localhost", "::1"}
