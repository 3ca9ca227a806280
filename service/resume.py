"""Decide an approval from inside the LangGraph server and resume the customer's thread there.

The decision is committed first with `decide_approval` (atomic: of two managers exactly one
wins), then the customer's thread is resumed through the server's own run machinery
(`service.engine.server_client`: in process on `langgraph dev`, this instance's own address on
Aegra), so Studio and the API see the resumed run. The
approval node replays the same decision idempotently, so the refund is paid exactly once.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError

from nodes import replies
from nodes.approval import DECISION
from service.engine import AEGRA, current_engine, server_client
from service.live_branch import approval_ids, waiting_approval_ids_in
from service.settings import Settings
from tools.db import Database
from tools.errors import ApprovalAlreadyDecided, ApprovalNotFound, NothingToRefund
from tools.records import Approval
from tools.refunds import decide_approval, get_approval, list_approvals

__all__ = [
    "ASSISTANT",
    "ConversationBusy",
    "DecisionConflict",
    "DecisionOutcome",
    "OrphanedApproval",
    "UnknownApproval",
    "database",
    "decide_and_resume",
    "is_live",
    "resume_stranded",
]

ASSISTANT = "support"  # the graph id in langgraph.json
RESUME_TIMEOUT_S = 60.0
TURN_POLL_S = 0.1  # how often a decision looks whether the customer's turn has ended

_databases: dict[str, Database] = {}
# One decision at a time per approval in this process, so a double click cannot resume twice.
_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)


class UnknownApproval(LookupError):
    pass


class DecisionConflict(Exception):
    """Already decided (409), or nothing left to refund; `approval` is what stands."""

    def __init__(self, message: str, approval: Approval) -> None:
        super().__init__(message)
        self.approval = approval


class ConversationBusy(DecisionConflict):
    """A turn on the approval's conversation ran longer than a decision waits for it (409: try again)."""


class OrphanedApproval(DecisionConflict):
    """The approval's conversation no longer waits for it on its live branch: it may be rejected, not approved."""


@dataclass(frozen=True)
class DecisionOutcome:
    approval: Approval
    resumed: bool  # False when the thread was not waiting on this server (e.g. a CLI conversation)
    customer_reply: str | None
    run_id: str | None
    delivered: bool = False  # the customer's conversation received the decision


def _owner(approval: Approval) -> str:
    """The identity the approval's thread belongs to: its customer's (Aegra keeps threads to their creator)."""
    return f"customer:{approval.customer_id}"


async def is_live(approval: Approval) -> bool:
    """Does the approval's thread wait for it on its live branch? See `service.live_branch`.

    A thread answering a customer's message counts as live: that turn started past the pause and
    ends paused on the approval again (`graph.routing.turn_end`), and until it ends its checkpoints
    show no interrupt. Calling it orphaned then would hide the Approve button for a moment.
    `decide_and_resume` waits for such a turn to end and asks again.
    """
    return await _waits(approval) or await _busy(approval)


async def _waits(approval: Approval) -> bool:
    """Is the thread's latest checkpoint paused on this approval?

    On Aegra the checkpoints are in Postgres, behind the server: its latest state answers.
    """
    if current_engine() == AEGRA:
        client = server_client(_owner(approval))
        try:
            return _waits_for(dict(await client.threads.get_state(approval.thread_id)), approval.approval_id)
        except NotFoundError:
            return False
        finally:
            await client.aclose()
    data_dir = Settings.from_env().data_dir
    return approval.approval_id in await asyncio.to_thread(waiting_approval_ids_in, data_dir, approval.thread_id)


async def _busy(approval: Approval) -> bool:
    """Is this server running (or about to run) a turn on the approval's thread?

    False for a thread the server does not know (a CLI conversation: the CLI decides under its lock).
    """
    client = server_client(_owner(approval))
    try:
        return (await client.threads.get(approval.thread_id))["status"] == "busy"
    except NotFoundError:
        return False
    finally:
        await client.aclose()


async def _turn_over(approval: Approval, timeout: float) -> bool:
    """Wait for the turn running on the approval's thread to end; False if it still runs after ``timeout`` seconds.

    Called once `_busy` said a turn runs, so it waits before asking again.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        await asyncio.sleep(TURN_POLL_S)
        if not await _busy(approval):
            return True
    return False


async def database() -> Database:
    """The domain database of this server's data directory, ready to use."""
    settings = await asyncio.to_thread(Settings.from_env)  # off the event loop: it may read the cwd
    key = f"{settings.data_dir}|{settings.database_location()}"
    if key not in _databases:
        db = settings.database()
        await asyncio.to_thread(db.ensure_ready)
        _databases[key] = db
    return _databases[key]


async def decide_and_resume(approval_id: str, *, approve: bool, by: str, note: str | None) -> DecisionOutcome:
    """Commit the decision, then resume the waiting thread and wait for its reply.

    If the thread is answering the customer's next message, the decision waits for that turn to
    pause on the approval again first (see `is_live`).

    Raises:
        UnknownApproval: No approval has this id.
        DecisionConflict: It was already decided (by anyone), or there is nothing left to refund;
            `OrphanedApproval` when its thread no longer waits for it, `ConversationBusy` when a turn
            outlasts `RESUME_TIMEOUT_S`.
    """
    db = await database()
    async with _locks[approval_id]:
        current = await asyncio.to_thread(get_approval, db, approval_id)
        if current is None:
            raise UnknownApproval(approval_id)
        if current.status != "pending":
            raise DecisionConflict(f"{approval_id} was already {current.status} by {current.decided_by}", current)
        live = await _waits(current)
        if not live and await _busy(current):
            # The customer's message is being answered: read the thread once that turn has paused again.
            if not await _turn_over(current, RESUME_TIMEOUT_S):
                raise ConversationBusy(
                    f"{approval_id}'s conversation is still answering the customer; try again in a moment", current
                )
            live = await _waits(current)
        if approve and not live:
            raise OrphanedApproval(
                f"{approval_id} is no longer on its conversation's live branch (the thread was forked, edited or "
                "lost), so approving it would pay a refund the customer is never told about; reject it to resolve it",
                current,
            )
        try:
            decided = await asyncio.to_thread(decide_approval, db, approval_id, approve=approve, by=by, note=note)
        except ApprovalNotFound as exc:
            raise UnknownApproval(approval_id) from exc
        except ApprovalAlreadyDecided as exc:  # another process (the CLI, a second server) won
            raise DecisionConflict(str(exc), exc.approval) from exc
        except NothingToRefund as exc:
            raise DecisionConflict(f"{exc}; reject it with a note instead", exc.approval) from exc
    if not live:
        reply = await _deliver(decided)
        return DecisionOutcome(decided, resumed=False, customer_reply=reply, run_id=None, delivered=reply is not None)
    resume = {"decision": "approve" if approve else "reject", "by": by, "note": note, "approval_id": approval_id}
    resumed, reply, run_id = await _resume(decided, resume)
    return DecisionOutcome(decided, resumed=resumed, customer_reply=reply, run_id=run_id, delivered=resumed)


async def _deliver(decided: Approval) -> str | None:
    """Append the outcome of a decision its thread no longer waited for; None if it cannot be delivered.

    Only onto an idle conversation this server knows: a lost thread has nowhere to put it, and one
    that is running or paused on another approval must not be disturbed.
    """
    client = server_client(_owner(decided), decider=decided.decided_by)
    try:
        try:
            thread = await client.threads.get(decided.thread_id)
            state: dict[str, Any] = dict(await client.threads.get_state(decided.thread_id))
        except NotFoundError:
            return None
        interrupted = any(task.get("interrupts") for task in state.get("tasks") or [])
        if thread["status"] != "idle" or state.get("next") or interrupted:
            return None
        if not (state.get("values") or {}).get("messages"):
            return None
        text = replies.approval_outcome(decided.model_dump(mode="json"))
        marker = {DECISION: decided.approval_id}
        message = {"type": "ai", "content": text, "name": "RefundAgent", "response_metadata": marker}
        # As the approval node, with no route written: the thread stays idle.
        await client.threads.update_state(decided.thread_id, {"messages": [message]}, as_node="approval")
        return text
    finally:
        await client.aclose()


async def resume_stranded() -> list[str]:
    """Resume threads still paused on an approval that was already decided; returns their ids.

    That happens when the server stopped between committing a decision and resuming the
    thread, or when the decision was made elsewhere (the CLI). Called once at start-up.
    """
    db = await database()
    resumed = []
    for approval in await asyncio.to_thread(list_approvals, db):
        if approval.status == "pending" or approval.decided_by is None:
            continue
        decision = "approve" if approval.status == "approved" else "reject"
        resume = {"decision": decision, "by": approval.decided_by, "approval_id": approval.approval_id}
        if (await _resume(approval, {**resume, "note": approval.note}))[0]:
            resumed.append(approval.approval_id)
    return resumed


def _waits_for(state: dict[str, Any], approval_id: str) -> bool:
    """Is the thread's latest checkpoint paused on this very approval?

    Read from the checkpoint, not the server's thread record: the CLI may have resumed the
    thread directly in the shared checkpoint file, leaving the record's status behind.
    """
    for task in state.get("tasks") or []:
        for item in task.get("interrupts") or []:
            value = item.get("value")
            if approval_id in approval_ids(value):
                return True
    return False


async def _resume(approval: Approval, resume: dict[str, Any]) -> tuple[bool, str | None, str | None]:
    client = server_client(_owner(approval), decider=resume["by"])  # this server, as the thread's owner
    try:
        try:
            state = await client.threads.get_state(approval.thread_id)
        except NotFoundError:
            return False, None, None
        if not _waits_for(dict(state), approval.approval_id):
            return False, None, None
        run = await client.runs.create(
            approval.thread_id,
            ASSISTANT,
            command={"resume": resume},
            context={"customer_id": approval.customer_id},
            metadata={"approval_id": approval.approval_id, "decided_by": resume["by"]},
            multitask_strategy="enqueue",
        )
        values = await asyncio.wait_for(_finished(client, approval.thread_id, run["run_id"]), RESUME_TIMEOUT_S)
        return True, _last_reply(values), run["run_id"]
    finally:
        await client.aclose()


async def _finished(client: LangGraphClient, thread_id: str, run_id: str) -> Any:
    """The thread's values once the run is over.

    On Aegra `runs.join` learns of the end by polling every 2 s (its Redis executor's
    `wait_for_completion`), while the run's stream ends as soon as the run does: follow the stream, then
    read the state (the stream may have ended before we joined it).
    """
    if current_engine() != AEGRA:
        return await client.runs.join(thread_id, run_id)
    async for _part in client.runs.join_stream(thread_id, run_id, stream_mode="values"):
        pass
    return (await client.threads.get_state(thread_id)).get("values")


def _last_reply(values: Any) -> str | None:
    messages = values.get("messages", []) if isinstance(values, dict) else []
    for message in reversed(messages):
        if message.get("type") == "ai" and not message.get("tool_calls") and message.get("content"):
            content = message["content"]
            return content if isinstance(content, str) else str(content)
    return None
