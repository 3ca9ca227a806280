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

The same module serves both engines (`service.engine`): `langgraph dev` calls the authenticate handler
with the parameters it names (``headers`` as bytes, ``request``) and hands the run handlers
``{"kwargs": {"input", "context", "command", ...}}``; Aegra calls it with the headers dict (text) alone,
hands the run handlers the request's fields at the top level, and applies only what they write into
``context`` (merged over the body's) and ``metadata``, never ``input`` or ``command``. So on Aegra a
run's ``context`` is written in place and the handler returns no filter (Aegra then takes the written
value), and an input or a resume that would have to be rewritten is refused with a 400 instead.

LangGraph Studio talks to `langgraph dev` with its own token-less scheme. Such requests count as a
manager only where `service.studio_access` lets them through (off by default; see there); the
handlers below refuse them again whenever the switch is off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from langgraph_sdk import Auth

from service.engine import ACT_AS_HEADER, AEGRA, DECIDER_HEADER, current_engine, is_internal_token, server_client
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
    if getattr(user, "internal", None) is True:  # the server itself, for a manager (service.engine)
        return Principal("manager", str(getattr(user, "display_name", "") or "Acme Support Desk"))
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


def _header(headers: Mapping[Any, Any], name: str) -> str | None:
    """A header from either engine's dict: bytes keys and values (`langgraph dev`) or text (Aegra)."""
    for key, value in headers.items():
        text_key = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if text_key.lower() == name:
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return None


def _internal_user(headers: Mapping[Any, Any]) -> Auth.types.MinimalUserDict:
    """The server's own call on Aegra (`service.engine.server_client`): it acts as the thread's owner."""
    act_as = (_header(headers, ACT_AS_HEADER) or "").strip()
    role, _, rest = act_as.partition(":")
    if role not in ("customer", "manager") or not rest:
        raise Auth.exceptions.HTTPException(status_code=401, detail=f"the internal token needs {ACT_AS_HEADER}")
    decider = unquote(_header(headers, DECIDER_HEADER) or "").strip() or "Acme Support Desk"
    user: dict[str, Any] = {"identity": act_as, "display_name": decider, "permissions": ["manager"], "internal": True}
    return user  # type: ignore[return-value]  # Aegra keeps a handler's extra fields on its user


@auth.authenticate
async def authenticate(headers: Mapping[Any, Any], request: Any = None) -> Auth.types.MinimalUserDict:
    """Who is calling, from the bearer token alone.

    ``headers`` is the only argument Aegra passes; `langgraph dev` also passes ``request``, whose
    client address keeps the demo tokens to this machine. On Aegra, `support serve` keeps demo
    tokens to servers bound to loopback.
    """
    token = bearer_token(_header(headers, "authorization"))
    if token is None:
        raise Auth.exceptions.HTTPException(status_code=401, detail="send Authorization: Bearer <token>")
    if is_internal_token(token):
        return _internal_user(headers)
    try:
        principal = (await registry()).lookup(token)
    except TokenError as exc:  # an operator's mistake: say so instead of a bare 500
        raise Auth.exceptions.HTTPException(status_code=500, detail=f"token configuration: {exc}") from exc
    if principal is None:
        raise Auth.exceptions.HTTPException(status_code=401, detail="unknown token")
    client = getattr(request, "client", None)
    if principal.demo and request is not None and not is_loopback(client.host if client else None):
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
    metadata = value.get("metadata")
    if not isinstance(metadata, dict):  # Aegra sends None when the request has none
        metadata = value["metadata"] = {}
    # In place: `langgraph dev` keeps the dict it passed, not the key.
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


def _run_fields(value: Any) -> dict[str, Any]:
    """Where a run's input, context and command are: ``value["kwargs"]`` on `langgraph dev`, ``value`` on Aegra."""
    if current_engine() == AEGRA:
        return value
    return value.setdefault("kwargs", {})


def _same_on_aegra(original: Any, checked: Any, message: str) -> None:
    """Aegra runs the body's input and command as sent: one that would need rewriting is refused (400)."""
    if current_engine() == AEGRA and checked != original:
        raise _bad_request(message)


@auth.on.threads.create_run
async def runs(ctx: Auth.types.AuthContext, value: Auth.types.RunsCreate) -> Any:
    customer = _customer(ctx)
    kwargs = _run_fields(value)
    if customer is None:
        await _staff_run(ctx, value, kwargs)
        return None
    if kwargs.get("command"):
        raise _forbidden("customers may not resume or steer a run; a manager decides approvals")
    # "interrupt" and "rollback" cancel the run already working on this thread, whose message was
    # acknowledged: a customer's runs queue ("enqueue", the default) or are refused ("reject", 409).
    if value.get("multitask_strategy") not in (None, "enqueue", "reject"):
        raise _bad_request("multitask_strategy must be 'enqueue' or 'reject'")
    context = kwargs.get("context")
    if current_engine() == AEGRA and isinstance(context, dict) and set(context) - {"customer_id"}:
        raise _bad_request("a customer's run takes no context: the token says who you are")  # Aegra would merge it
    kwargs["context"] = {"customer_id": customer}  # identity comes from the token, never the body
    checked = _checked(customer_input, kwargs.get("input"))
    _same_on_aegra(
        kwargs.get("input"), checked, 'send input={"messages": [{"role": "user", "content": "..."}]} and nothing else'
    )
    kwargs["input"] = checked
    metadata = value.get("metadata")
    if isinstance(metadata, dict):
        metadata[OWNER_KEY] = customer  # stamps a thread this run creates
    # A thread waiting for a manager takes new messages too: the turn ends paused on the approval again
    # (graph.routing.turn_end), so the decision still reaches it.
    # Aegra takes the handler's returned dict, when there is one, instead of the value written above,
    # and keeps threads to their creator itself; `langgraph dev` filters the thread by its owner.
    return None if current_engine() == AEGRA else {OWNER_KEY: customer}


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
        stamped = stamp_decider(command["resume"], name)
        _same_on_aegra(command["resume"], stamped, f'a decision\'s "by" is whoever holds the token: set it to {name!r}')
        command["resume"] = stamped
    raw_context = kwargs.get("context")
    context: dict[str, Any] = raw_context if isinstance(raw_context, dict) else {}
    named = str(context.get("customer_id") or "").strip() or None
    thread_id = value.get("thread_id")
    identity = ctx.user.identity
    exists, owner = await _thread_owner(str(thread_id), identity) if thread_id is not None else (False, None)
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
        await _stamp_owner(str(thread_id), customer, identity)
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


async def _thread_owner(thread_id: str, identity: str) -> tuple[bool, str | None]:
    """Whether the thread exists, and the customer it belongs to (its ``metadata.customer_id``) if any."""
    client = server_client(identity)  # created at call time
    try:
        thread = await client.threads.get(thread_id)
    except Exception:  # no such thread yet: the run will create it
        return False, None
    finally:
        await client.aclose()
    owner = (thread.get("metadata") or {}).get(OWNER_KEY)
    return True, str(owner) if owner else None


async def _stamp_owner(thread_id: str, customer: str, identity: str) -> None:
    client = server_client(identity)
    try:
        await client.threads.update(thread_id, metadata={OWNER_KEY: customer})
    finally:
        await client.aclose()
