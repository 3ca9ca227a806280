"""The customer chat page: custom routes on the LangGraph server, mounted by `service.console`.

- ``GET /chat``: the page (`chat.html`). Like the console it holds no data itself: its script keeps
  the customer's token in the tab's ``sessionStorage`` and talks to the server's own Agent Protocol
  API with it (``/threads``, ``/threads/search``, ``/threads/{id}/state``,
  ``/threads/{id}/runs/stream``), where `service.auth` already decides what a customer may see and do.
- ``GET /chat/api/me``: who the token belongs to, ``{"customer_id", "name"}``, so the page can greet
  the customer and refuse a token before showing anything. 401 without a known token; 403 for a
  manager's token (managers read conversations elsewhere, and a manager's message would run as no one).
"""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from service.auth import registry
from service.resume import database
from service.studio_access import is_loopback
from service.tokens import TokenError, bearer_token
from tools.db import Database

__all__ = ["routes"]

_PAGE = Path(__file__).with_name("chat.html")


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


@cache
def _page() -> str:
    return _PAGE.read_text(encoding="utf-8")


async def page(request: Request) -> Response:
    html = await asyncio.to_thread(_page)
    # no-store: a new deployment's page must not be mixed with an old script from the cache.
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


async def me(request: Request) -> Response:
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        return _error(401, "send Authorization: Bearer <customer token>")
    try:
        principal = (await registry()).lookup(token)
    except TokenError:
        # An operator's misconfiguration; the customer gets a plain line, the log has the rest.
        return _error(500, "sign-in is not available right now")
    if principal is None:
        return _error(401, "unknown token")
    # As the server's auth does where demo tokens are known (they are published in the README): they count only
    # from this machine. getattr: a registry without demo tokens has no such flag.
    if getattr(principal, "demo", False) and not is_loopback(request.client.host if request.client else None):
        return _error(401, "demo tokens work only from this machine")
    if principal.role != "customer" or principal.customer_id is None:
        return _error(403, "this page is for customers; managers use the approval console at /approvals")
    name = await asyncio.to_thread(_customer_name, await database(), principal.customer_id)
    return JSONResponse({"customer_id": principal.customer_id, "name": name or principal.customer_id})


def _customer_name(db: Database, customer_id: str) -> str | None:
    with db.connect() as conn:
        row = conn.execute("SELECT name FROM customers WHERE id = ?", (customer_id,)).fetchone()
    return str(row[0]) if row else None


routes = [
    Route("/chat", page, methods=["GET"]),
    Route("/chat/api/me", me, methods=["GET"]),
]
