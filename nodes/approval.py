"""Manager approval: pause the thread with everything a manager needs, then apply the decision.

On resume LangGraph runs this node again from the top, so nothing before `interrupt()` may
have side effects: the pending approval row was written by the refund tool, idempotently.
The decision itself is applied by `decide_approval`, which is atomic and replay-safe, so a
crash or a second resume never pays twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

from langchain_core.messages import AIMessage
from langgraph.config import get_config
from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from pydantic import BaseModel, Field, ValidationError

from graph.context import Context
from graph.routing import turn_end, waiting_approvals
from graph.state import AGENT_NAMES, State
from nodes import replies
from nodes.deps import Deps
from tools.accounts import get_account_summary
from tools.errors import ApprovalAlreadyDecided, NothingToRefund
from tools.records import Approval
from tools.refunds import decide_approval, get_approval

__all__ = [
    "APPROVAL_DESTINATIONS",
    "DECISION",
    "Decision",
    "approval_request",
    "decision_message",
    "make_approval_node",
    "parse_decision",
]

logger = logging.getLogger("support.approval")

DECISION = "support_decision"  # in a reply's response_metadata: the approval it tells the customer about

# Where a decision sends the thread, named for the drawn edge.
APPROVAL_DESTINATIONS = {"approval": "another refund waits", END: "decided"}


class Decision(BaseModel):
    """What a manager answers to an approval interrupt."""

    decision: Literal["approve", "reject"]
    by: str = Field(min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=2000)
    approval_id: str | None = None  # which of the thread's waiting approvals; None: the one shown


def approval_request(approval: dict[str, Any], others: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The interrupt payload: the approval itself plus the common human-interrupt shape.

    ``others`` are the thread's other approvals waiting behind it: a manager may decide any of them
    first by naming its ``approval_id`` in the answer.
    """
    return {
        "type": "refund_approval",
        "approval": approval,
        "also_waiting": others or [],
        "action_request": {
            "action": "refund",
            "args": {
                "approval_id": approval["approval_id"],
                "order_id": approval["order_id"],
                "amount": approval["amount"],
            },
        },
        "config": {"allow_accept": True, "allow_respond": True, "allow_edit": False, "allow_ignore": False},
        "description": (
            f"Refund {approval['order_id']} for ${approval['amount']:,.2f} to {approval.get('customer_name')} "
            f"({approval['customer_id']}). Rule: {approval['rule']}: {approval['explanation']} "
            f"Customer's reason: {approval['reason']}"
        ),
    }


def parse_decision(answer: Any, *, caller: str | None = None, default_by: str = "inbox") -> Decision | None:
    """Read a manager's answer; anything unusable is not a decision (None).

    Accepts our own `{"decision", "by", "note"}` and the generic human-interrupt responses an
    agent inbox sends, alone or as a one-item list: `{"type": "accept"}` approves, and
    `{"type": "response", "args": "<reason>"}` rejects with that reason.

    Who decided: `caller`, the authenticated holder of the manager token, whenever it is known,
    whatever the answer claims ("by": "Chief Financial Officer" from a demo token is recorded as
    the token's name). Only without one (the CLI, or the console resuming in process with the
    name it took from the token) is the answer's own `by` used, then `default_by`.
    """
    if isinstance(answer, Decision):
        answer = answer.model_dump()
    if isinstance(answer, list) and len(answer) == 1:
        answer = answer[0]
    if not isinstance(answer, dict):
        return None
    if "decision" not in answer and "type" in answer:
        if answer["type"] == "accept":
            answer = {"decision": "approve", "by": answer.get("by"), "note": None}
        elif answer["type"] == "response" and isinstance(answer.get("args"), str) and answer["args"].strip():
            answer = {"decision": "reject", "by": answer.get("by"), "note": answer["args"].strip()}
        else:
            return None
    answer = {**answer, "by": caller or answer.get("by") or default_by}
    try:
        return Decision.model_validate(answer)
    except ValidationError:
        return None


def _caller_name() -> str | None:
    """The authenticated user who resumed this run on a LangGraph server; None without one.

    The console resumes through the server's in-process client, which carries no user: the
    decider's name it passes was itself taken from the manager's token.
    """
    try:
        configurable = get_config().get("configurable", {})
    except RuntimeError:  # not inside a runnable context
        return None
    user = configurable.get("langgraph_auth_user")
    if user is None:
        return None
    name = getattr(user, "display_name", None) or (user.get("display_name") if isinstance(user, dict) else None)
    name = name or configurable.get("langgraph_auth_user_id")
    return str(name)[:100] if name else None


def decision_message(approval: dict[str, Any]) -> AIMessage:
    """The customer's reply to a manager's decision, marked as one so the chat page can show it as such."""
    text = replies.approval_outcome(approval)
    marker = {DECISION: approval["approval_id"]}
    return AIMessage(content=text, name=AGENT_NAMES["refund"], response_metadata=marker)


def make_approval_node(deps: Deps) -> Callable[..., Command[Any]]:
    def approval(state: State, runtime: Runtime[Context]) -> Command[Any]:
        queue = waiting_approvals(state)
        if not queue:
            return Command(goto=END)
        # Already decided while this thread was busy with a customer message (or by a resume that never
        # arrived): tell the customer instead of pausing for a decision that was already made.
        decided = get_approval(deps.db, queue[0]["approval_id"])
        if decided is None or decided.status == "pending":
            decided = _await_decision(deps, queue)
        remaining = [a for a in queue if a["approval_id"] != decided.approval_id]
        account = get_account_summary(deps.db, runtime.context.customer_id).model_dump(mode="json")
        reply = decision_message(decided.model_dump(mode="json"))
        update = {
            "messages": [reply],
            "pending_approval": remaining[0] if remaining else None,
            "waiting_approvals": remaining,
            "account": account,
        }
        return Command(goto=turn_end(update), update=update)

    return approval


def _await_decision(deps: Deps, queue: list[dict[str, Any]]) -> Approval:
    """Pause until a manager decides one of the waiting approvals (the first is shown), and apply that decision."""
    waiting = {a["approval_id"] for a in queue}
    # Values are matched to interrupt() calls by order, so an answer that cannot be applied
    # simply asks again: the thread keeps waiting and the approval stays pending, never lost.
    while True:
        decision = parse_decision(interrupt(approval_request(queue[0], queue[1:])), caller=_caller_name())
        if decision is None:
            continue
        target = decision.approval_id or queue[0]["approval_id"]
        if target not in waiting:  # not one this thread waits for: never decide it from here
            continue
        try:
            return decide_approval(
                deps.db, target, approve=decision.decision == "approve", by=decision.by, note=decision.note
            )
        except ApprovalAlreadyDecided as exc:  # someone else decided first: report what stands
            return exc.approval
        except NothingToRefund:  # refunded elsewhere meanwhile: only a rejection can settle it now
            logger.warning("approval %s cannot be approved: nothing left to refund", target)
