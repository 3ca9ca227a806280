"""Graph state: a narrow input (just messages) and the full internal state.

Per-turn fields (path, handoff records, model calls) are reset by the intake node at the
start of every customer message; thread-long fields (account, active agent) persist.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from langgraph.managed import RemainingSteps
from pydantic import ConfigDict, with_config

# Not typing.TypedDict: below Python 3.12 pydantic cannot read it, and LangGraph Studio's input and
# output forms (built from these schemas) come out empty.
from typing_extensions import TypedDict

__all__ = [
    "AGENT_NAMES",
    "AgentKey",
    "InputState",
    "OutputState",
    "State",
]

AgentKey = Literal["triage", "billing", "refund", "faq"]

# The names customers and logs see for each node that speaks.
AGENT_NAMES: dict[str, str] = {
    "triage": "TriageAgent",
    "billing": "BillingAgent",
    "refund": "RefundAgent",
    "faq": "FAQAgent",
    "escalation": "EscalationAgent",
    "fallback": "FallbackAgent",
}


# Each field's docstring becomes its description in the JSON schemas Studio shows.
_DESCRIBED = ConfigDict(use_attribute_docstrings=True)


@with_config(_DESCRIBED)
class InputState(TypedDict):
    """What a caller sends: the customer's new message."""

    messages: Annotated[list[AnyMessage], add_messages]
    """The conversation; send the customer's new message, e.g. {"role": "user", "content": "..."}."""


@with_config(_DESCRIBED)
class OutputState(TypedDict, total=False):
    """What a caller gets back."""

    messages: Annotated[list[AnyMessage], add_messages]
    """The conversation kept in the checkpoint: the customer's messages, the agents' replies and tool calls."""
    routed_to: list[str]
    """The agents the latest customer message passed through, in order (e.g. TriageAgent, RefundAgent)."""
    routing_metadata: list[dict[str, Any]]
    """The validated handoff records of the latest message: from, to, tool and the record's fields."""
    pending_approval: dict[str, Any] | None
    """The refund waiting for a manager's decision, or null."""
    proposal: dict[str, Any] | None
    """The refund, approval request or plan change waiting for the customer's "yes", with its exact terms, or null."""
    model_calls: int
    """Model calls made for the latest customer message."""


class State(InputState, total=False):
    """Everything the nodes share."""

    # Thread-long.
    account: dict[str, Any] | None  # AccountSummary as JSON, loaded once per thread
    active_agent: AgentKey  # who owns the conversation; a follow-up goes straight to them
    handoff: dict[str, Any] | None  # the latest handoff record, shown to the receiving specialist
    proposal: dict[str, Any] | None  # tools.proposals.Proposal waiting for the customer's yes, as JSON
    pending_approval: dict[str, Any] | None  # the refund the thread is paused on for a manager
    waiting_approvals: list[dict[str, Any]]  # every refund waiting for a manager, oldest first (see graph.routing)
    queued: str | None  # a second request of the customer's message, taken up once the first is answered

    # Per turn.
    routed_to: list[str]  # the agents this message passed through, in order
    routing_metadata: list[dict[str, Any]]  # the validated handoff records of this message
    turn_start: int  # index in messages of this turn's customer message
    focus: str | None  # the request of that message being answered now, when it held two; None: all of it
    answered: dict[str, Any] | None  # the proposal this message answered with neither a yes nor a bare no
    focus_start: int  # index in routed_to where the current request began (handoff loops are counted from it)
    scratch_start: int  # index from which the active agent's own tool exchange starts
    model_calls: int
    error: str | None

    remaining_steps: RemainingSteps
