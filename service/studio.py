"""The graph factory for `langgraph.json` (LangGraph Studio and `langgraph dev`).

The server attaches its own persistence, so the graph is compiled without a checkpointer.
"""

from __future__ import annotations

from functools import cache

from langchain_core.language_models import BaseChatModel
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

    @cache  # one client per agent, created on first use, never at import or build time
    def model_for(agent: str) -> BaseChatModel:
        return make_chat_model(settings.models.get(agent, "offline"), timeout=settings.model_timeout)

    return build_graph(Deps(db=db, model_for=model_for, retry=settings.retry_policy()))
