"""The customer's answer to a pending proposal: code reads it and code acts, with no model call.

Runs after intake on every message that a pending proposal waits for (intake sends any other message straight
to the agent who owns the conversation):

- an explicit yes (`nodes.answers`) executes exactly the stored proposal (`tools.proposals`):
  the refund is paid, the plan changed, or the approval request filed (then the thread pauses for
  a manager in the approval node);
- a no cancels it; whatever else the message says is then read by the agent as usual;
- anything else lets the proposal lapse, and the agent reads the message: a yes always refers to
  the terms shown in the reply just before it, never to older ones.

A model cannot confirm anything: only this turn's own customer message is read here, and no tool
executes a proposal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command

from graph.context import Context
from graph.routing import route_after_intake, waiting_approvals
from graph.state import AGENT_NAMES, State
from nodes import replies
from nodes.agent import turn_messages
from nodes.answers import read_answer
from nodes.deps import Deps
from nodes.next_request import NEXT_REQUEST, WAIT_AGAIN, end_turn
from tools import audit
from tools.accounts import get_account_summary
from tools.proposals import Proposal, execute_proposal

__all__ = ["CONFIRM_DESTINATIONS", "make_confirm_node"]

logger = logging.getLogger("support.confirm")

# Where the customer's answer sends the turn, named for the drawn edge.
CONFIRM_DESTINATIONS = {
    "triage": f"the agent reads it, {NEXT_REQUEST}",
    "billing": "the agent reads it",
    "refund": "the agent reads it",
    "faq": "the agent reads it",
    "approval": f"yes: ask a manager; {WAIT_AGAIN}",
    END: "yes / no: done by code",
}


def _naming(proposal: Proposal) -> list[str]:
    """Words a yes may repeat: the order id, the amount, the plan."""
    words = [w for w in (proposal.order_id,) if w]
    if proposal.amount is not None:
        words += [f"{proposal.amount:.2f}", f"{proposal.amount:g}"]
    if proposal.quote is not None:
        words += [proposal.quote.new_plan, proposal.quote.new_plan_name.lower()]
    return words


def _speaker(proposal: Proposal) -> str:
    return AGENT_NAMES["billing" if proposal.kind == "plan_change" else "refund"]


def make_confirm_node(deps: Deps) -> Callable[..., Command[Any]]:
    def confirm(state: State, runtime: Runtime[Context], config: RunnableConfig) -> Command[Any]:
        active = route_after_intake(state)
        raw = state.get("proposal")
        if not raw:  # intake sends no such turn here; a run started at this node in Studio may
            return Command(goto=active)
        proposal = Proposal.model_validate(raw)
        human, _ = turn_messages(state)
        answer = read_answer(human.text, naming=_naming(proposal))
        thread_id = str(config.get("configurable", {}).get("thread_id", ""))
        customer_id = runtime.context.customer_id
        # The agent reads the message; the proposal it answers still bounds a counter-offer ("60 feels fair").
        if answer is None:
            _record(deps, proposal, "lapsed", customer_id, thread_id)
            return Command(goto=active, update={"proposal": None, "answered": raw})
        speaker = _speaker(proposal)
        if answer == "no":
            _record(deps, proposal, "cancelled", customer_id, thread_id)
            if len(human.text.split()) > 4:  # "no, refund the other one instead": the agent reads the rest
                return Command(goto=active, update={"proposal": None, "answered": raw})
            reply = AIMessage(content=replies.proposal_cancelled(raw), name=speaker)
            return end_turn(state, {"proposal": None, "messages": [reply], "routed_to": [speaker]})

        execution = execute_proposal(deps.db, proposal, customer_id=customer_id, thread_id=thread_id)
        update: dict[str, Any] = {"proposal": None, "routed_to": [speaker]}
        account = get_account_summary(deps.db, customer_id).model_dump(mode="json")
        update["account"] = account
        if execution.status == "awaiting_approval":
            assert execution.refund is not None and execution.refund.approval is not None
            approval = execution.refund.approval.model_dump(mode="json")
            text = replies.awaiting_approval(approval)
            # Queued behind any refund already waiting: each gets its own decision, in the order filed.
            queue = [a for a in waiting_approvals(state) if a["approval_id"] != approval["approval_id"]] + [approval]
            update |= {
                "messages": [AIMessage(content=text, name=speaker)],
                "pending_approval": queue[0],
                "waiting_approvals": queue,
            }
            return end_turn(state, update)
        if execution.status == "done" and execution.refund is not None:
            outcome = execution.refund.model_dump(mode="json") | {"replay": False}
            text = replies.refund_outcome(outcome)
        elif execution.status == "done" and execution.plan_change is not None:
            text = replies.plan_changed(execution.plan_change, raw)
        else:
            text = replies.proposal_not_done(raw, execution.reason or "the terms no longer hold.")
        update["messages"] = [AIMessage(content=text, name=speaker)]
        return end_turn(state, update)

    return confirm


def _record(deps: Deps, proposal: Proposal, what: str, customer_id: str, thread_id: str) -> None:
    """Audit a proposal that ended without executing (an executed one is audited by what it wrote)."""
    with deps.db.transaction() as conn:
        audit.record(
            conn,
            actor="customer",
            action=f"proposal.{what}",
            entity=f"proposal:{proposal.proposal_id}",
            details={"customer_id": customer_id, "thread_id": thread_id, "kind": proposal.kind},
            at=deps.db.clock.now(),
        )
