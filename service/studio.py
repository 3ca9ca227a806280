"""The graph factory for `langgraph.json` (LangGraph Studio and `langgraph dev`).

The server attaches its own persistence, so the graph is compiled without a checkpointer. The
server calls the factory for every run on its event loop, so the first build (which opens and
may seed the database) runs in a worker thread and the result is kept for later runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from functools import cache

from langchain_core.language_models import BaseChatModel
from langgraph.graph.state import CompiledStateGraph

from graph.builder import build_graph
from graph.context import Context
from graph.state import InputState, OutputState, State
from nodes.deps import Deps
from service.privacy import install_trace_masking, mask_support_logs, remember_names
from service.settings import Settings
from tools.accounts import list_customers

__all__ = ["build_server_graph", "make_graph"]

SupportGraph = CompiledStateGraph[State, Context, InputState, OutputState]

# One compiled graph per distinct configuration; a process normally has exactly one.
_GRAPHS: dict[Hashable, SupportGraph] = {}


def build_server_graph(settings: Settings) -> SupportGraph:
    """Open (and if needed seed) the domain database and compile the graph without a checkpointer."""
    db = settings.database()
    db.ensure_ready()
    # The server's logs and traces get the same masking as the CLI's (service.privacy).
    remember_names(c["name"] for c in list_customers(db))
    mask_support_logs()
    install_trace_masking()

    @cache  # one client per agent, created on first use, never at import or build time
    def model_for(agent: str) -> BaseChatModel:
        return settings.chat_model(agent)

    return build_graph(Deps(db=db, model_for=model_for))


async def make_graph() -> SupportGraph:
    """The support graph for the environment's settings (called by the server for each run)."""
    # In a thread: the default data directory comes from the current directory, and the server
    # refuses even os.getcwd() on its event loop (BlockingError).
    settings = await asyncio.to_thread(Settings.from_env)
    key = (
        str(settings.data_dir),
        settings.database_location(),
        settings.today,
        settings.step_limit,
        tuple(sorted(settings.models.items())),
    )
    graph = _GRAPHS.get(key)
    if graph is None:
        # Two first runs at once may both build; the graphs are equivalent, so the last one stays.
        graph = await asyncio.to_thread(build_server_graph, settings)
        _GRAPHS[key] = graph
    return graph
