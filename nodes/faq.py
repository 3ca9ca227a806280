"""FAQ: answers from the help center, retrieved before the model call so one call suffices."""

from __future__ import annotations

from typing import Any

from nodes.agent import AgentSpec
from nodes.deps import Deps
from tools.knowledge import search_articles


def retrieve(deps: Deps, query: str) -> list[dict[str, Any]]:
    return [a.model_dump(mode="json") for a in search_articles(deps.db, query, limit=3)]


FAQ = AgentSpec(
    key="faq",
    data_tools=("search_faq",),
    handoffs=("transfer_to_triage", "escalate_to_human"),
    knowledge=retrieve,
)
