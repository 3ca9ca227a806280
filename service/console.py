"""The manager approval console: custom routes on the LangGraph server (`langgraph.json` → `http.app`).

- ``GET /approvals``: the page (a login form, then the pending approvals and the history). It holds
  no data itself: its script asks the JSON API with the manager's token, which it keeps in the
  tab's ``sessionStorage`` (gone when the tab closes).
- ``GET /approvals/api/me``, ``GET /approvals/api/approvals[?status=pending|approved|rejected]``,
  ``GET /approvals/api/approvals/{id}``, ``POST /approvals/api/approvals/{id}/approve`` (``{"note"}``,
  optional) and ``POST /approvals/api/approvals/{id}/reject`` (``{"reason"}``, required): manager
  tokens only; 401 without a known token, 403 for a customer token, 404 unknown, 409 decided.
- ``GET /approvals/api/threads/{thread_id}/transcript``: a thread's whole conversation on its live
  branch (archived turns included, those of a branch abandoned by time travel left out), for a
  manager reading a long thread that Studio's state shows only the recent part of.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, cast

from fastapi import FastAPI
from langchain_core.messages import AnyMessage, convert_to_messages
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from nodes.conversation import visible_transcript
from service.auth import registry
from service.chat import routes as chat_routes
from service.checkpointer import CHECKPOINTS_FILE
from service.engine import AEGRA, current_engine, server_client
from service.resume import DecisionConflict, UnknownApproval, database, decide_and_resume, is_live, resume_stranded
from service.studio_access import StudioGate, is_loopback
from service.tokens import Principal, TokenError, bearer_token
from service.transcript import thread_transcript
from tools.db import Database
from tools.records import Approval
from tools.refunds import get_approval, list_approvals
from tools.transcripts import archived_messages, thread_owner

__all__ = ["app"]

logger = logging.getLogger("support.console")

_PAGE = Path(__file__).with_name("console.html")
MAX_NOTE_CHARS = 2000
STRANDED_TRIES = 5


class _Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def _manager(request: Request) -> Principal:
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise _Refused(401, "send Authorization: Bearer <manager token>")
    try:
        principal = (await registry()).lookup(token)
    except TokenError as exc:
        raise _Refused(500, f"token configuration: {exc}") from exc
    if principal is None:
        raise _Refused(401, "unknown token")
    if principal.demo and not is_loopback(request.client.host if request.client else None):
        raise _Refused(401, "demo tokens work only from this machine")
    if principal.role != "manager":
        raise _Refused(403, "only managers can see and decide approvals")
    return principal


def _view(approval: Approval, now: datetime, *, live: bool | None = None) -> dict[str, Any]:
    data = approval.model_dump(mode="json")
    # For a pending approval: does its conversation still wait for it? False flags an orphan, which
    # cannot be approved until a manager resolves it by rejecting it.
    data["live"] = live
    requested = approval.requested_at if approval.requested_at.tzinfo else approval.requested_at.replace(tzinfo=UTC)
    end = approval.decided_at or now
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    data["waited_seconds"] = max(0, int((end - requested).total_seconds()))
    return data


@cache
def _page() -> str:
    return _PAGE.read_text(encoding="utf-8")


async def page(request: Request) -> Response:
    html = await asyncio.to_thread(_page)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


async def me(request: Request) -> Response:
    principal = await _manager(request)
    return JSONResponse({"name": principal.name, "role": principal.role})


async def list_all(request: Request) -> Response:
    await _manager(request)
    status = request.query_params.get("status") or None
    if status not in (None, "pending", "approved", "rejected"):
        return _error(400, "status must be pending, approved or rejected")
    db = await database()
    found = await asyncio.to_thread(list_approvals, db, status=status)
    now = datetime.now(UTC)
    views = [_view(a, now, live=await is_live(a) if a.status == "pending" else None) for a in found]
    return JSONResponse({"approvals": views, "now": now.isoformat()})


async def get_one(request: Request) -> Response:
    await _manager(request)
    db = await database()
    approval = await asyncio.to_thread(get_approval, db, request.path_params["approval_id"])
    if approval is None:
        return _error(404, f"unknown approval {request.path_params['approval_id']!r}")
    live = await is_live(approval) if approval.status == "pending" else None
    return JSONResponse(_view(approval, datetime.now(UTC), live=live))


async def transcript(request: Request) -> Response:
    await _manager(request)
    db = await database()
    thread_id = request.path_params["thread_id"]
    if current_engine() == AEGRA:
        found = await _served_transcript(db, thread_id)
    else:
        found = await asyncio.to_thread(thread_transcript, db, db.path.parent / CHECKPOINTS_FILE, thread_id)
    if found is None:
        return _error(404, f"unknown thread {thread_id!r}")
    return JSONResponse(found)


async def _served_transcript(db: Database, thread_id: str) -> dict[str, Any] | None:
    """The transcript on Aegra, where checkpoints live in Aegra's Postgres, read through this instance's API.

    Aegra keeps a thread to the identity that created it, so the call acts as the customer the domain
    data says the thread belongs to (its approvals or its archived turns); a thread they say nothing
    about is unknown here.
    """
    owner = await asyncio.to_thread(thread_owner, db, thread_id)
    if owner is None:
        return None
    client = server_client(f"customer:{owner}")
    try:
        state = await client.threads.get_state(thread_id)
    except Exception:  # no such thread on this server
        return None
    finally:
        await client.aclose()
    values = state.get("values")
    raw = values.get("messages") if isinstance(values, dict) else None
    messages = cast("list[AnyMessage]", convert_to_messages(raw or []))
    head = str((state.get("checkpoint") or {}).get("checkpoint_id") or "")
    in_checkpoint = {m.id for m in messages if m.id}
    # Aegra keeps no lineage table, so archived turns are not filtered by branch (they differ only after a fork).
    archived = await asyncio.to_thread(archived_messages, db, thread_id, skip=in_checkpoint)
    return {"thread_id": thread_id, "checkpoint_id": head, "messages": archived + visible_transcript(messages)}


async def _body(request: Request) -> dict[str, Any]:
    if not (await request.body()).strip():
        return {}
    try:
        body = await request.json()
    except ValueError as exc:
        raise _Refused(400, "the body must be JSON") from exc
    if not isinstance(body, dict):
        raise _Refused(400, "the body must be a JSON object")
    return body


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise _Refused(400, f"{key} must be a string")
    value = (value or "").strip()
    if len(value) > MAX_NOTE_CHARS:
        raise _Refused(400, f"{key} is {len(value)} characters long; the limit is {MAX_NOTE_CHARS}")
    return value or None


async def _decide(request: Request, *, approve: bool) -> Response:
    principal = await _manager(request)
    body = await _body(request)
    note = _text(body, "note" if approve else "reason")
    if not approve and note is None:
        return _error(400, "a rejection needs a reason (the customer reads it)")
    try:
        outcome = await decide_and_resume(
            request.path_params["approval_id"], approve=approve, by=principal.name, note=note
        )
    except UnknownApproval:
        return _error(404, f"unknown approval {request.path_params['approval_id']!r}")
    except DecisionConflict as exc:
        live = await is_live(exc.approval) if exc.approval.status == "pending" else None
        return JSONResponse(
            {"detail": str(exc), "approval": _view(exc.approval, datetime.now(UTC), live=live)}, status_code=409
        )
    return JSONResponse(
        {
            "approval": _view(outcome.approval, datetime.now(UTC)),
            "resumed": outcome.resumed,
            "run_id": outcome.run_id,
            "customer_reply": outcome.customer_reply,
            "delivered": outcome.delivered,
        }
    )


async def approve(request: Request) -> Response:
    return await _decide(request, approve=True)


async def reject(request: Request) -> Response:
    return await _decide(request, approve=False)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _Refused)
    return _error(exc.status, exc.detail)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At start-up, finish any decision whose thread was not resumed (in the background)."""

    async def finish() -> None:
        # On Aegra the resumes go through this instance's own address, which answers only once
        # start-up is over: a few tries a couple of seconds apart.
        for attempt in range(STRANDED_TRIES):
            try:
                if resumed := await resume_stranded():
                    logger.warning("resumed threads of decided approvals: %s", ", ".join(resumed))
                return
            except Exception:  # never stop the server over this; the next start tries again
                if attempt == STRANDED_TRIES - 1:
                    logger.exception("could not resume the threads of decided approvals")
                    return
                await asyncio.sleep(2)

    task = asyncio.create_task(finish())
    yield
    task.cancel()


# FastAPI, not plain Starlette: Aegra mounts only a FastAPI app as `http.app` (and `langgraph dev` takes
# any Starlette app, FastAPI included). Its own docs pages are off: they would shadow the server's /docs.
app = FastAPI(
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
    routes=[
        Route("/approvals", page, methods=["GET"]),
        Route("/approvals/api/me", me, methods=["GET"]),
        Route("/approvals/api/approvals", list_all, methods=["GET"]),
        Route("/approvals/api/approvals/{approval_id}", get_one, methods=["GET"]),
        Route("/approvals/api/approvals/{approval_id}/approve", approve, methods=["POST"]),
        Route("/approvals/api/approvals/{approval_id}/reject", reject, methods=["POST"]),
        Route("/approvals/api/threads/{thread_id}/transcript", transcript, methods=["GET"]),
        *chat_routes,  # the customers' page, /chat (service/chat.py)
    ],
    exception_handlers={_Refused: _refused},
    # `langgraph dev` runs our app's middleware ahead of its own routes and auth: the one place that
    # sees Studio's token-less header before the server turns it into a manager.
    middleware=[Middleware(StudioGate)],
    lifespan=_lifespan,
)
