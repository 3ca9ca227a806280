"""Custom auth for the LangGraph server (`langgraph.json` → `auth.path`).

Every request carries ``Authorization: Bearer <token>`` (see `service.tokens`). A customer token
belongs to one customer, who may create and use only their own threads: each thread is stamped
with ``metadata.customer_id`` and every read, search and run is filtered on it. The customer id in
a run's context is always taken from the token, whatever the request says; the run's input is
reduced to the one checked user message (`service.validation.customer_input`); and a customer can
never send a command (so never resume a manager's approval) or cancel a run already accepted.

A manager token may do everything, but a manager's run names the customer it acts for (no
default customer: `graph.context`), never another customer than the thread's owner, and is
written to the audit log with both names. A resume's decider is the token's holder, whatever the
body says. Demo tokens are accepted from the loopback interface only.

LangGraph Studio talks to `langgraph dev` with its own token-less scheme. Such requests count as a
manager only where `service.studio_access` lets them through (off by default; see there); the
handlers below refuse them again whenever the switch is off.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph_sdk import Auth

from service.errors import InvalidRequest
from service.resume import database
from service.studio_access import StudioPolicy, is_loopback
from service.tokens import Principal, TokenError, TokenRegistry, bearer_token
from service.validation import customer_input, new_messages
from tools import audit
from tools.accounts import customer_exists
from tools.db import Database

__all__ = ["auth", "principal_of", "registry", "stamp_decider"]

OWNER_KEY = "customer_id"

auth = Auth()

_registry: TokenRegistry | None = None


async def registry() -> TokenRegistry:
    """The token registry, read from the environment once (off the event loop)."""
    global _registry
    if _registry is None:
        _registry = await asyncio.to_thread(TokenRegistry.from_env)
    return _registry


def _studio_allowed() -> bool:
    policy = StudioPolicy.from_env()
    return policy.enabled and policy.dev_server


def principal_of(user: Any) -> Principal | None:
    """The caller behind an authenticated server user; None for a Studio user."""
    if isinstance(user, Auth.types.StudioUser):
        return None
    role, _, rest = str(user.identity).partition(":")
    if role == "customer":
        return Principal("customer", rest, rest)
    return Principal("manager", str(getattr(user, "display_name", "") or rest))


def _forbidden(message: str) -> Auth.exceptions.HTTPException:
    return Auth.exceptions.HTTPException(status_code=403, detail=message)


def _customer(ctx: Auth.types.AuthContext) -> str | None:
    """The customer id of a customer caller; None for a manager or Studio (when allowed)."""
    if isinstance(ctx.user, Auth.types.StudioUser):
        if not _studio_allowed():
            raise _forbidden("Studio access is off on this server; send Authorization: Bearer <token>")
        return None
    principal = principal_of(ctx.user)
    return principal.customer_id if principal and principal.role == "customer" else None


@auth.authenticate
async def authenticate(authorization: str | None, request: Any) -> Auth.types.MinimalUserDict:
    token = bearer_token(authorization)
    if token is None:
        raise Auth.exceptions.HTTPException(status_code=401, detail="send Authorization: Bearer <token>")
    try:
        principal = (await registry()).lookup(token)
    except TokenError as exc:  # an operator's mistake: say so instead of a bare 500
        raise Auth.exceptions.HTTPException(status_code=500, detail=f"token configuration: {exc}") from exc
    if principal is None:
        raise Auth.exceptions.HTTPException(status_code=401, detail="unknown token")
    client = getattr(request, "client", None)
    if principal.demo and not is_loopback(client.host if client else None):
        # Published tokens: even if an operator turned them on behind a proxy, only this machine may use them.
        raise Auth.exceptions.HTTPException(status_code=401, detail="demo tokens work only from this machine")
    return {"identity": principal.identity, "display_name": principal.name, "permissions": [principal.role]}


@auth.on
async def staff_only(ctx: Auth.types.AuthContext, value: Any) -> None:
    """Anything not allowed below (assistants changes, crons, the store) is for managers only."""
    if _customer(ctx) is not None:
        raise _forbidden(f"customers may not {ctx.action} {ctx.resource}")


@auth.on.assistants.read
async def anyone_reads_assistants(ctx: Auth.types.AuthContext, value: Auth.types.AssistantsRead) -> None:
    """Running the graph needs its assistant; reading it reveals nothing about anyone."""
    _customer(ctx)


@auth.on.assistants.search
async def anyone_searches_assistants(ctx: Auth.types.AuthContext, value: Auth.types.AssistantsSearch) -> None:
    _customer(ctx)


@auth.on.threads.create
async def own_new_threads(ctx: Auth.types.AuthContext, value: Auth.types.ThreadsCreate) -> Any:
    customer = _customer(ctx)
    if customer is None:
        return None
    metadata = value.setdefault("metadata", {})
    metadata[OWNER_KEY] = customer  # whatever the request claimed
    return {OWNER_KEY: customer}


def _owner_filter(ctx: Auth.types.AuthContext) -> dict[str, str] | None:
    customer = _customer(ctx)
    return None if customer is None else {OWNER_KEY: customer}


@auth.on.threads.read
async def read_own_threads(ctx: Auth.types.AuthContext, value: Auth.types.ThreadsRead) -> Any:
    return _owner_filter(ctx)


@auth.on.threads.search
async def search_own_threads(ctx: Auth.types.AuthContext, value: Auth.types.ThreadsSearch) -> Any:
    return _owner_filter(ctx)


@auth.on.threads.delete
async def delete_own_threads(ctx: Auth.types.AuthContext, value: Auth.types.ThreadsDelete) -> Any:
    return _owner_filter(ctx)


@auth.on.threads.update
async def staff_updates_threads(ctx: Auth.types.AuthContext, value: Auth.types.ThreadsUpdate) -> Any:
    """Editing a thread's state or metadata could skip the approval: managers only."""
    if _customer(ctx) is not None:
        raise _forbidden("customers may not change a conversation's state; send a message instead")
    return None


@auth.on.threads.create_run
async def runs(ctx: Auth.types.AuthContext, value: Auth.types.RunsCreate) -> Any:
    customer = _customer(ctx)
    kwargs = value.setdefault("kwargs", {})
    if customer is None:
        return await _staff_run(ctx, value, kwargs)
    if kwargs.get("command"):
        raise _forbidden("customers may not resume or steer a run; a manager decides approvals")
    # "interrupt" and "rollback" cancel the run already working on this thread, whose message was
    # acknowledged: a customer's runs queue ("enqueue", the default) or are refused ("reject", 409).
    if value.get("multitask_strategy") not in (None, "enqueue", "reject"):
        raise _bad_request("multitask_strategy must be 'enqueue' or 'reject'")
    kwargs["context"] = {"customer_id": customer}  # identity comes from the token, never the body
    kwargs["input"] = _checked(customer_input, kwargs.get("input"))
    metadata = value.get("metadata")
    if isinstance(metadata, dict):
        metadata[OWNER_KEY] = customer  # stamps a thread this run creates
    thread_id = value.get("thread_id")
    if thread_id is not None and await _waiting_for_manager(str(thread_id), customer):
        raise Auth.exceptions.HTTPException(
            status_code=409, detail="this conversation is waiting for a manager's decision on a refund"
        )
    return {OWNER_KEY: customer}


def _bad_request(message: str) -> Auth.exceptions.HTTPException:
    return Auth.exceptions.HTTPException(status_code=400, detail=message)


def _checked(check: Any, payload: Any) -> Any:
    """``check(payload)``, with a refusal turned into a 400 that says why."""
    try:
        return check(payload)
    except InvalidRequest as exc:
        raise _bad_request(str(exc)) from exc


def _staff_input(payload: Any) -> Any:
    """A manager's (or Studio's) run input: any new messages pass the same checks as a customer's."""
    if payload is None:
        return None
    if not isinstance(payload, dict):
        raise InvalidRequest("input must be an object")
    if "messages" in payload:
        new_messages(payload["messages"])
    return payload


def _decider_name(ctx: Auth.types.AuthContext) -> str:
    principal = principal_of(ctx.user)
    return principal.name if principal is not None else "LangGraph Studio"


def stamp_decider(resume: Any, name: str) -> Any:
    """The resume value with every decision's ``by`` set to ``name``: who decided is whoever holds the token.

    Handles our own ``{"decision", "by", "note"}``, the human-interrupt shapes (``{"type": ...}``,
    alone or in a list) and resume values keyed by interrupt id.
    """
    if isinstance(resume, list):
        return [stamp_decider(item, name) for item in resume]
    if isinstance(resume, dict):
        if "decision" in resume or "type" in resume:
            return {**resume, "by": name}
        return {key: stamp_decider(item, name) for key, item in resume.items()}
    return resume


async def _staff_run(ctx: Auth.types.AuthContext, value: Auth.types.RunsCreate, kwargs: dict[str, Any]) -> None:
    """A manager's or Studio's run: it names the customer it acts for, and the audit log records both."""
    name = _decider_name(ctx)
    kwargs["input"] = _checked(_staff_input, kwargs.get("input"))
    command = kwargs.get("command")
    if isinstance(command, dict) and "resume" in command:
        command["resume"] = stamp_decider(command["resume"], name)
    raw_context = kwargs.get("context")
    context: dict[str, Any] = raw_context if isinstance(raw_context, dict) else {}
    named = str(context.get("customer_id") or "").strip() or None
    thread_id = value.get("thread_id")
    exists, owner = await _thread_owner(str(thread_id)) if thread_id is not None else (False, None)
    if owner is not None and named is not None and named != owner:
        raise _bad_request(f"this conversation belongs to {owner}, not {named}")
    customer = named or owner  # a thread's owner is named by the thread itself, never by default
    if customer is None:
        raise _bad_request('name the customer this run acts for: context={"customer_id": "cust_..."}')
    db = await database()
    if not await asyncio.to_thread(customer_exists, db, customer):
        raise _bad_request(f"unknown customer {customer!r}")
    kwargs["context"] = {**context, "customer_id": customer}
    metadata = value.get("metadata")
    if isinstance(metadata, dict) and owner is None:
        metadata[OWNER_KEY] = customer  # the customer sees a conversation run on their behalf
    if exists and owner is None:  # an unowned thread now belongs to the customer it runs for, and only to them
        await _stamp_owner(str(thread_id), customer)
    await asyncio.to_thread(
        _audit_staff_run,
        db,
        actor=name,
        customer=customer,
        thread_id=None if thread_id is None else str(thread_id),
        resume=isinstance(command, dict) and "resume" in command,
    )


def _audit_staff_run(db: Database, *, actor: str, customer: str, thread_id: str | None, resume: bool) -> None:
    with db.transaction() as conn:
        audit.record(
            conn,
            actor=actor,
            action="run.resume_for_customer" if resume else "run.for_customer",
            entity=f"customer:{customer}",
            details={"customer_id": customer, "by": actor, "thread_id": thread_id},
            at=db.clock.now(),
        )


async def _thread_owner(thread_id: str) -> tuple[bool, str | None]:
    """Whether the thread exists, and the customer it belongs to (its ``metadata.customer_id``) if any."""
    from langgraph_sdk import get_client  # the server's in-process client, created at call time

    client = get_client()
    try:
        thread = await client.threads.get(thread_id)
    except Exception:  # no such thread yet: the run will create it
        return False, None
    finally:
        await client.aclose()
    owner = (thread.get("metadata") or {}).get(OWNER_KEY)
    return True, str(owner) if owner else None


async def _stamp_owner(thread_id: str, customer: str) -> None:
    from langgraph_sdk import get_client

    client = get_client()
    try:
        await client.threads.update(thread_id, metadata={OWNER_KEY: customer})
    finally:
        await client.aclose()


async def _waiting_for_manager(thread_id: str, customer: str) -> bool:
    """Is the customer's own thread paused at an approval? A new message would start over past it.

    Read from the latest checkpoint rather than the thread's status, which a decision made
    through the CLI (straight into the shared checkpoint file) would leave behind.
    """
    from langgraph_sdk import get_client  # the server's in-process client, created at call time

    client = get_client()
    try:
        thread = await client.threads.get(thread_id)
        if (thread.get("metadata") or {}).get(OWNER_KEY) != customer:
            return False  # not theirs: the ownership filter answers 404
        state = await client.threads.get_state(thread_id)
    except Exception:  # no such thread yet: the run will create it
        return False
    finally:
        await client.aclose()
    return any(task.get("interrupts") for task in state.get("tasks") or [])
