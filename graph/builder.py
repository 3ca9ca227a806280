"""Assemble the StateGraph. Compile at the edge: callers choose the checkpointer.

Every node that can go several ways returns `Command(goto=...)` and declares its destinations
here, named, so LangGraph Studio draws each real edge with what it means and no edge that cannot
happen. Each agent has its own tools node, so a trace shows which agent called which tool.
"""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from graph.context import Context
from graph.routing import tools_node
from graph.state import InputState, OutputState, State
from nodes.agent import AgentSpec, agent_destinations, make_agent_node
from nodes.approval import APPROVAL_DESTINATIONS, make_approval_node
from nodes.billing import BILLING
from nodes.confirm import CONFIRM_DESTINATIONS, make_confirm_node
from nodes.deps import Deps
from nodes.escalation import make_escalation_node
from nodes.fallback import make_fallback_node
from nodes.faq import FAQ
from nodes.intake import INTAKE_DESTINATIONS, make_intake_node
from nodes.next_request import TERMINAL_DESTINATIONS
from nodes.refund import REFUND
from nodes.tools_node import make_tools_node, tools_destinations
from nodes.triage import TRIAGE

__all__ = ["AGENTS", "build_graph", "build_workflow", "destinations"]

AGENTS: dict[str, AgentSpec] = {spec.key: spec for spec in (TRIAGE, BILLING, REFUND, FAQ)}


def destinations() -> dict[str, dict[str, str]]:
    """Every node that routes with `Command`, and where it may go (edge name by target)."""
    table: dict[str, dict[str, str]] = {
        "intake": dict(INTAKE_DESTINATIONS),
        "confirm": dict(CONFIRM_DESTINATIONS),
        "approval": APPROVAL_DESTINATIONS,
    }
    for key, spec in AGENTS.items():
        table[key] = agent_destinations(spec)
        if spec.data_tools:
            table[tools_node(key)] = tools_destinations(spec)
    return table


def build_workflow(deps: Deps) -> StateGraph[State, Context, InputState, OutputState]:
    """The uncompiled graph: intake, confirm, four agents with their tools, approval, escalation and fallback."""
    workflow = StateGraph(State, context_schema=Context, input_schema=InputState, output_schema=OutputState)
    routes = destinations()
    workflow.add_node("intake", make_intake_node(deps), destinations=routes["intake"])
    workflow.add_node("confirm", make_confirm_node(deps), destinations=routes["confirm"])
    for key, spec in AGENTS.items():
        workflow.add_node(key, make_agent_node(spec, deps), destinations=routes[key])
        if spec.data_tools:
            workflow.add_node(tools_node(key), make_tools_node(deps, spec), destinations=routes[tools_node(key)])
    workflow.add_node("approval", make_approval_node(deps), destinations=routes["approval"])
    workflow.add_node("escalation", make_escalation_node(deps), destinations=TERMINAL_DESTINATIONS)
    workflow.add_node("fallback", make_fallback_node(deps), destinations=TERMINAL_DESTINATIONS)

    workflow.add_edge(START, "intake")
    return workflow


def build_graph(
    deps: Deps, *, checkpointer: BaseCheckpointSaver | None = None
) -> CompiledStateGraph[State, Context, InputState, OutputState]:
    """Compile the support graph; pass a checkpointer for memory and approvals."""
    return build_workflow(deps).compile(checkpointer=checkpointer, name="support_desk")
