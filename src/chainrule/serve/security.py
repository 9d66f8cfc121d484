"""What wraps the whole web app: a body limit, security headers, and cross-site checks.

- A request body over the limit gets 413 before a view sees it.
- Every response says: no external sources (CSP), no framing, no sniffing, no referrer.
- A POST from another origin gets 403. JSON endpoints take only ``application/json`` (a
  cross-site form cannot send it); form posts carry a token matching their CSRF cookie
  (checked by :func:`check_csrf` where the form is read).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "CSRF_COOKIE", "Guard", "check_csrf", "new_csrf_token"]

CSRF_COOKIE = "chainrule_csrf"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class _TooLarge(Exception):
    pass


class Guard:
    """ASGI middleware: body limit (413), security headers, same-origin POSTs."""

    def __init__(self, app: ASGIApp, max_body: int = 64 * 1024) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[(k, v) for k, v in _HEADERS if k not in names]]
            await send(message)

        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _reply(scope, receive, send_secured, 413, "Request body too large.")
            return
        if scope["method"] == "POST":
            problem = _cross_site(scope, headers)
            if problem:
                await _reply(scope, receive, send_secured, *problem)
                return
        seen = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send_secured(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _reply(scope, receive, send_secured, 413, "Request body too large.")


def _cross_site(scope: Scope, headers: Headers) -> tuple[int, str] | None:
    origin = headers.get("origin")
    host = headers.get("host", "")
    if origin and origin != "null" and origin.split("://", 1)[-1] != host:
        return 403, "Cross-site request refused."
    if headers.get("sec-fetch-site") == "cross-site":
        return 403, "Cross-site request refused."
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if scope["path"].startswith("/api/"):
        if kind != "application/json":
            return 415, "Send JSON (Content-Type: application/json)."
    elif kind not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return 415, "Send a form."
    return None


async def _reply(scope: Scope, receive: Receive, send: Send, status: int, text: str) -> None:
    await PlainTextResponse(text, status_code=status)(scope, receive, send)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def check_csrf(cookies: dict[str, str], form: Any) -> bool:
    """Whether a form post carries the token of its CSRF cookie."""
    cookie = cookies.get(CSRF_COOKIE, "")
    sent = form.get("csrf", "")
    return bool(cookie) and isinstance(sent, str) and hmac.compare_digest(cookie, sent)
