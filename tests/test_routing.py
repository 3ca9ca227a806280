"""Routing: the pure rules every hop obeys, and the drawn graph equal to the transitions the code makes."""

from __future__ import annotations

from contextlib import nullcontext
from itertools import pairwise
from typing import Any

import pytest
from langgraph.graph import END, START

from evals.adversarial import CASES, case_models
from evals.harness import fresh_desk
from graph.builder import AGENTS, build_graph, destinations
from graph.handoffs import HANDOFF_TOOLS
from graph.routing import STEP_RESERVE, budgeted, route_after_intake, tools_node
from nodes.deps import Deps
from service.settings import Settings


def state(**fields: Any) -> Any:
    return {"messages": [], "remaining_steps": 20, **fields}


@pytest.mark.parametrize(
    ("active", "expected"),
    [(None, "triage"), ("triage", "triage"), ("billing", "billing"), ("refund", "refund"), ("faq", "faq")],
)
def test_a_follow_up_goes_to_the_owner_of_the_conversation(active: str | None, expected: str) -> None:
    fields = {"active_agent": active} if active else {}
    assert route_after_intake(state(**fields)) == expected


def test_running_out_of_steps_ends_in_fallback() -> None:
    assert budgeted(state(remaining_steps=STEP_RESERVE), "refund_tools") == "fallback"
    assert budgeted(state(remaining_steps=STEP_RESERVE + 1), "refund_tools") == "refund_tools"
    # A pause for a manager or the end is not a loop, so it is reached even on the last steps.
    assert budgeted(state(remaining_steps=1), "approval") == "approval"
    assert budgeted(state(remaining_steps=1), END) == END


def test_each_agent_goes_only_where_its_transfers_and_tools_lead() -> None:
    table = destinations()
    for key, spec in AGENTS.items():
        transfers = {HANDOFF_TOOLS[name].target for name in spec.handoffs}
        tools = {tools_node(key)} if spec.data_tools else set()
        # Triage is also where a message's second request starts once the first is answered (nodes.next_request).
        # A turn ends at END, or back at the approval pause while a refund waits for a manager.
        assert set(table[key]) == transfers | tools | {key, "fallback", END, "approval", "triage"}
        if spec.data_tools:  # its own tools come back to it, or end with a reply written by code (or the next request)
            assert set(table[tools_node(key)]) == {key, END, "approval", "fallback", "triage"}


def _drawn(settings: Settings) -> set[tuple[str, str]]:
    graph = build_graph(Deps(db=settings.database(), model_for=lambda agent: None))  # type: ignore[arg-type,return-value]
    return {(e.source, e.target) for e in graph.get_graph().edges}


def test_every_drawn_edge_is_named_and_dashed_only_where_code_chooses(settings: Settings) -> None:
    graph = build_graph(Deps(db=settings.database(), model_for=lambda agent: None))  # type: ignore[arg-type,return-value]
    edges = graph.get_graph().edges
    conditional = [e for e in edges if e.conditional]
    assert conditional and all(e.data for e in conditional)  # every choice has a name in Studio
    assert {(e.source, e.target) for e in edges if not e.conditional} == {(START, "intake")}


def _transitions(desk: Any, thread_id: str) -> set[tuple[str, str]]:
    """The hops a thread really took, read back from its checkpoints (each records the node that runs next)."""
    history = list(desk.graph.get_state_history({"configurable": {"thread_id": thread_id}}))[::-1]
    steps = [snap.next[0] if snap.next else END for snap in history]
    return {(a, b) for a, b in pairwise(steps) if a != END}


def test_every_transition_that_happens_is_a_drawn_edge(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real conversations, with misbehaving models and the offline model: every hop taken is drawn."""
    monkeypatch.setattr("service.desk.DURABILITY", "sync")  # every step checkpointed, as on the server
    drawn = _drawn(settings)
    seen: set[tuple[str, str]] = set()
    conversations: list[tuple[Any, str, list[str]]] = [(c, c.customer_id, c.turns) for c in CASES]
    conversations += [
        (None, "cust_001", ["How do I export my data?", "and my invoices?", "I want to upgrade to Enterprise", "yes"]),
        (None, "cust_003", ["Please refund the seat pack, ord_301", "yes"]),
        (None, "cust_002", ["I want to talk to a person right now"]),
        # Two requests in one message: the second starts at triage once the first is answered.
        (None, "cust_005", ["where do I change my notification emails? also which plan are we paying for"]),
        (None, "cust_004", ["please refund the add-on, and how can I switch on two-factor login?", "yes"]),
        # Two charges: the second is taken up at triage once the yes to the first is done (confirm -> triage).
        (None, "cust_001", ["please refund the duplicate charge, and the september subscription too", "yes"]),
    ]
    for case, customer, turns in conversations:
        with (
            case_models(case, "offline") if case else nullcontext(None) as models,
            fresh_desk(settings, models=models) as desk,
        ):
            thread = None
            for text in turns:  # read after each turn: older checkpoints are pruned as the thread grows
                thread = desk.ask(text, customer_id=customer, thread_id=thread)["thread_id"]
                seen |= _transitions(desk, thread)
    assert {("confirm", "approval"), ("refund", "refund_tools"), ("faq", END), ("triage", "escalation")} <= seen
    assert {("confirm", "triage")} <= seen and any(b == "triage" and a not in ("confirm", "intake") for a, b in seen)
    assert seen - drawn == set()
