"""The graph factory for `langgraph.json` (LangGraph Studio and `langgraph dev`).

The server attaches its own persistence, so the graph is compiled without a checkpointer.
"""

from __future__ import annotations

from langgraph.graph.state import CompiledStateGraph

from graph.builder import build_graph
from graph.context import Context
from graph.state import InputState, OutputState, State
from llm.factory import make_chat_model
from nodes.deps import Deps
from service.settings import Settings

__all__ = ["make_graph"]


def make_graph() -> CompiledStateGraph[State, Context, InputState, OutputState]:
    """Build the support graph from the environment's settings (called by the server)."""
    settings = Settings.from_env()
    db = settings.database()
    db.ensure_ready()
    return build_graph(Deps(db=db, model_for=lambda agent: make_chat_model(settings.models.get(agent, "offline"))))
