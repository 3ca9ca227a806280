"""Assemble the StateGraph. Compile at the edge: callers choose the checkpointer."""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from graph.context import Context
from graph.handoffs import HANDOFF_TOOLS
from graph.routing import make_router
from graph.state import InputState, OutputState, State
from nodes.agent import AgentSpec, make_agent_node
from nodes.approval import make_approval_node
from nodes.billing import BILLING
from nodes.confirm import CONFIRM_DESTINATIONS, make_confirm_node
from nodes.deps import Deps
from nodes.escalation import make_escalation_node
from nodes.fallback import make_fallback_node
from nodes.faq import FAQ
from nodes.intake import make_intake_node
from nodes.refund import REFUND
from nodes.tools_node import make_tools_node
from nodes.triage import TRIAGE

__all__ = ["AGENTS", "build_graph", "build_workflow"]

AGENTS: dict[str, AgentSpec] = {spec.key: spec for spec in (TRIAGE, BILLING, REFUND, FAQ)}


def agent_targets(spec: AgentSpec) -> list[str]:
    """Where an agent may send the turn: its transfers, its tools, or itself to retry a transfer."""
    targets = [HANDOFF_TOOLS[name].target for name in spec.handoffs]
    return [*targets, spec.key, *(["tools"] if spec.data_tools else [])]


def tools_targets() -> list[str]:
    """After tools: back to the agent that called them, or a pause for a manager."""
    return [key for key, spec in AGENTS.items() if spec.data_tools] + ["approval"]


def build_workflow(deps: Deps) -> StateGraph[State, Context, InputState, OutputState]:
    """The uncompiled graph: intake, confirm, four agents, tools, approval, escalation and fallback."""
    workflow = StateGraph(State, context_schema=Context, input_schema=InputState, output_schema=OutputState)
    workflow.add_node("intake", make_intake_node(deps))
    workflow.add_node("confirm", make_confirm_node(deps), destinations=CONFIRM_DESTINATIONS)
    for key, spec in AGENTS.items():
        workflow.add_node(key, make_agent_node(spec, deps))
    workflow.add_node("tools", make_tools_node(deps, AGENTS))
    workflow.add_node("approval", make_approval_node(deps))
    workflow.add_node("escalation", make_escalation_node(deps))
    workflow.add_node("fallback", make_fallback_node(deps))

    workflow.add_edge(START, "intake")
    workflow.add_edge("intake", "confirm")
    for key, spec in AGENTS.items():
        router = make_router(agent_targets(spec))
        workflow.add_conditional_edges(key, router, router.targets)
    tools_router = make_router(tools_targets())
    workflow.add_conditional_edges("tools", tools_router, tools_router.targets)
    for terminal in ("approval", "escalation", "fallback"):
        workflow.add_edge(terminal, END)
    return workflow


def build_graph(
    deps: Deps, *, checkpointer: BaseCheckpointSaver | None = None
) -> CompiledStateGraph[State, Context, InputState, OutputState]:
    """Compile the support graph; pass a checkpointer for memory and approvals."""
    return build_workflow(deps).compile(checkpointer=checkpointer, name="support_desk")
