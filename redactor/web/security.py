"""The guard in front of every request (an ASGI middleware): the photos are personal data.

In order, for each HTTP request:

1. **Host** must be on the allow-list (``localhost``, ``127.0.0.1``, ``::1``, plus the host the
   server was told to bind and any ``--allow-host``), written as a host name or ``[IPv6]``, with
   at most ``:PORT`` after it (``[::1]evil`` is refused): a DNS-rebinding page cannot reach us
   under its own name. Refused with 403.
2. **Token**: ``?token=T`` on a GET (the URL printed once at start) sets an HttpOnly,
   SameSite=Strict cookie holding a value derived from T (named after the port: cookies do not
   tell ports apart, and two servers must not log each other out), then redirects to the same path without
   the token, so it stays out of the history and the Referer; or ``Authorization: Bearer T``
   (API clients); or that cookie. Anything else: 401.
3. **CSRF**: a state-changing request (anything but GET/HEAD) authenticated by the cookie must
   carry ``X-CSRF-Token`` (the page has it in a ``<meta>``): 403 otherwise. Bearer requests are
   exempt: a browser never adds that header on its own, and no CORS is offered.
4. **Size**: a body over ``max_body`` bytes is refused with 413, from Content-Length before
   reading, or while reading a chunked body.
5. **Headers** on every response: a CSP allowing only this origin's scripts and styles (no
   inline script), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
   ``X-Frame-Options: DENY``, ``Cache-Control: no-store``, and
   ``Cross-Origin-Resource-Policy: same-origin`` with ``Cross-Origin-Opener-Policy: same-origin``:
   a page served from another port of 127.0.0.1 is *same-site*, so the SameSite cookie goes with
   its ``<img src=…/api/images/ID/image>``; CORP is what stops the browser from showing it the
   original.

Tokens are compared in constant time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "redactor_session"
CSRF_HEADER = "x-csrf-token"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD"})

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
#: A Host header: a name or IPv4 address, or [IPv6], then an optional :PORT, and nothing else.
_HOST = re.compile(r"(?:\[(?P<v6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9._-]+))(?::\d{1,5})?")


def derive(token: str, purpose: str) -> str:
    """A value derived from the token for one purpose (the cookie, the CSRF token)."""
    return hmac.new(token.encode(), purpose.encode(), hashlib.sha256).hexdigest()


class _TooLarge(Exception):
    pass


class Guard:
    """Wraps the app: host check, token, CSRF, body size, security headers (module docstring)."""

    def __init__(self, app: ASGIApp, *, token: str, allowed_hosts: frozenset[str], max_body: int) -> None:
        self.app = app
        self.token = token
        self.session = derive(token, "session")
        self.csrf = derive(token, "csrf")
        self.allowed_hosts = LOCAL_HOSTS | {h.lower() for h in allowed_hosts}
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        host = _hostname(headers.get("host", ""))
        if host not in self.allowed_hosts:
            await _json(secured, 403, f"host {host!r} is not allowed (DNS rebinding guard); open the URL redactor "
                        "printed, or start it with --allow-host NAME")
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        method = scope["method"]
        if "token" in query and method in SAFE_METHODS:
            if not hmac.compare_digest(query["token"].encode(), self.token.encode()):
                await _json(secured, 401, "wrong token; open the URL redactor printed")
                return
            rest = urlencode([(k, v) for k, v in query.items() if k != "token"])
            location = scope["path"] + (f"?{rest}" if rest else "")
            cookie = f"{cookie_name(scope)}={self.session}; Path=/; HttpOnly; SameSite=Strict"
            await secured({"type": "http.response.start", "status": 303,
                           "headers": [(b"location", location.encode()), (b"set-cookie", cookie.encode())]})
            await secured({"type": "http.response.body", "body": b""})
            return
        via = self._authenticated(headers, cookie_name(scope))
        if via is None:
            await _json(secured, 401, "authentication required: open the URL with ?token= that redactor printed, "
                        "or send Authorization: Bearer TOKEN")
            return
        if method not in SAFE_METHODS and via == "cookie" and not hmac.compare_digest(
                headers.get(CSRF_HEADER, "").encode(), self.csrf.encode()):
            await _json(secured, 403, "missing or wrong CSRF token (X-CSRF-Token header)")
            return
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _json(secured, 413, f"the upload is larger than the limit of {self.max_body:,} bytes")
            return
        await self._call_limited(scope, receive, secured)

    def _authenticated(self, headers: dict[str, str], cookie: str) -> str | None:
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer " and hmac.compare_digest(auth[7:].strip().encode(), self.token.encode()):
            return "bearer"
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == cookie and hmac.compare_digest(value.encode(), self.session.encode()):
                return "cookie"
        return None

    async def _call_limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count body bytes as the app reads them; past the limit, replace its answer with 413."""
        seen = 0
        state = {"too_large": False, "started": False}

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    state["too_large"] = True
                    raise _TooLarge
            return message

        async def guarded(message: Message) -> None:
            if state["too_large"]:
                return  # the app's own error answer is dropped; 413 goes out below
            state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except _TooLarge:
            pass
        except Exception:
            if not state["too_large"]:
                raise
        if state["too_large"] and not state["started"]:
            await _json(send, 413, f"the upload is larger than the limit of {self.max_body:,} bytes")


def cookie_name(scope: Scope) -> str:
    """The session cookie's name for the port this server listens on (``redactor_session_8766``)."""
    server = scope.get("server") or ("", None)
    return f"{COOKIE}_{server[1]}" if server[1] else COOKIE


def _hostname(host: str) -> str:
    """The Host header without its port ("[::1]:8765" -> "::1", "localhost:8765" -> "localhost");
    "" for anything that is not a host and an optional port ("[::1]evil", "a b", "x:y:z")."""
    m = _HOST.fullmatch(host.strip().lower())
    if m is None:
        return ""
    return m["v6"] or m["name"]


async def _json(send: Send, status: int, error: str) -> None:
    body = json.dumps({"error": error, "status": status}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
