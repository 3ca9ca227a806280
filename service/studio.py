"""The graph factory for `langgraph.json` (LangGraph Studio and `langgraph dev`).

The server attaches its own persistence, so the graph is compiled without a checkpointer. The
server calls the factory for every run on its event loop, so the first build (which opens and
may seed the database) runs in a worker thread and the result is kept for later runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

from langgraph.graph.state import CompiledStateGraph

from graph.builder import build_graph
from graph.context import Context
from graph.state import InputState, OutputState, State
from llm.factory import make_chat_model
from nodes.deps import Deps
from service.settings import Settings
from tools.clock import FixedClock, SystemClock
from tools.db import Database

__all__ = ["build_server_graph", "make_graph"]

SupportGraph = CompiledStateGraph[State, Context, InputState, OutputState]

# One compiled graph per distinct configuration; a process normally has exactly one.
_GRAPHS: dict[Hashable, SupportGraph] = {}


def build_server_graph(settings: Settings) -> SupportGraph:
    """Open (and if needed seed) the domain database and compile the graph without a checkpointer."""
    db = Database(settings.data_dir / "support.db", FixedClock(settings.today) if settings.today else SystemClock())
    db.ensure_ready()
    models = dict(settings.models)
    return build_graph(Deps(db=db, model_for=lambda agent: make_chat_model(models.get(agent, "offline"))))


async def make_graph() -> SupportGraph:
    """The support graph for the environment's settings (called by the server for each run)."""
    settings = Settings.from_env()
    key = (str(settings.data_dir), settings.today, settings.step_limit, tuple(sorted(settings.models.items())))
    graph = _GRAPHS.get(key)
    if graph is None:
        # Two first runs at once may both build; the graphs are equivalent, so the last one stays.
        graph = await asyncio.to_thread(build_server_graph, settings)
        _GRAPHS[key] = graph
    return graph
