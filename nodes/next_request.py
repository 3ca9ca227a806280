"""Ending a turn, or going on to the second request of a message that held two.

Triage hands one request to one specialist and names any other request of the same message in the
handoff record (`also`, see `graph.handoffs`). Whichever node would end the turn calls `end_turn`:
with such a request waiting it sends the turn back to triage with that request in focus, so the
customer gets both answers to one message. While a proposal waits for the customer's yes, the
waiting request is not taken up (the next message must be free to be that yes): the reply says it
comes next, and the turn that settles the proposal takes it up. Nothing is dropped silently.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langgraph.graph import END
from langgraph.types import Command

from graph.routing import budgeted, turn_end
from graph.state import AGENT_NAMES, State
from nodes import replies

__all__ = ["EARLIER_PART", "NEXT_REQUEST", "TERMINAL_DESTINATIONS", "WAIT_AGAIN", "end_turn", "queue_request"]

NEXT_REQUEST = "next request"  # the drawn edge's name
WAIT_AGAIN = "a refund still waits for a manager"  # the drawn edge back to the approval pause
# Where a node that always ends the turn (escalation, fallback) may go.
TERMINAL_DESTINATIONS = {END: "reply", "approval": WAIT_AGAIN}
EARLIER_PART = "support_part"  # marks, in response_metadata, a reply to the first of two requests


def queue_request(state: State, record: dict[str, Any], message: str) -> dict[str, Any]:
    """The state update that keeps a handoff record's second request (only one is kept, and only from triage).

    When the customer's ``message`` contains it word for word, the specialist now taking over reads the
    message without it, so each request is answered once, by the specialist it belongs to.
    """
    also = str(record.get("also") or "").strip()
    # A request being answered may hold yet another ("refund sep and oct" after august): only a shorter one.
    if not also or state.get("queued") or (state.get("focus") and len(also) >= len(message)):
        return {}
    # The words of the message it repeats: all of it, or its tail when the model put a word of its own in front
    # ("refund the other charge too" for "..., and the other charge too").
    words = also.split()
    said = next((" ".join(words[i:]) for i in range(len(words) - 1) if " ".join(words[i:]) in message), None)
    rest = " ".join(message.replace(said, " ").split()) if said else ""
    return {"queued": also, "focus": rest} if len(rest.split()) >= 2 else {"queued": also}


def end_turn(state: State, update: dict[str, Any]) -> Command[Any]:
    """End the turn with ``update``, or take up the request the customer's message also held."""
    queued = update.get("queued", state.get("queued"))
    messages = list(update.get("messages", []))
    if not queued:
        return Command(goto=turn_end({**state, **update}), update=update)
    if update.get("proposal", state.get("proposal")):
        if messages and isinstance(messages[-1], AIMessage):  # say what comes next, after the yes or no
            last = messages[-1]
            messages[-1] = last.model_copy(update={"content": f"{last.text} {replies.request_waiting(queued)}"})
        return Command(goto=turn_end({**state, **update}), update={**update, "messages": messages})
    routed = list(update.get("routed_to", state.get("routed_to", [])))
    marked = [
        m.model_copy(update={"response_metadata": {**m.response_metadata, EARLIER_PART: True}})
        if isinstance(m, AIMessage) and not m.tool_calls
        else m
        for m in messages
    ]
    return Command(
        goto=budgeted(state, "triage"),
        update={
            **update,
            "messages": marked,
            "queued": None,
            "focus": queued,
            "handoff": None,
            "active_agent": "triage",
            "routed_to": [*routed, AGENT_NAMES["triage"]],
            "focus_start": len(routed),
            "scratch_start": len(state["messages"]) + len(messages),
        },
    )
