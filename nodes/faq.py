"""FAQ: answers from the help center, retrieved before the model call so one call suffices."""

from __future__ import annotations

from typing import Any

from llm.text import with_synonyms
from nodes.agent import AgentSpec
from nodes.deps import Deps
from tools.knowledge import search_articles


def retrieve(deps: Deps, query: str) -> list[dict[str, Any]]:
    # Customers say "colleague" where the articles say "member": search for both.
    return [a.model_dump(mode="json") for a in search_articles(deps.db, with_synonyms(query), limit=3)]


FAQ = AgentSpec(
    key="faq",
    data_tools=("search_faq",),
    handoffs=("transfer_to_triage", "escalate_to_human"),
    knowledge=retrieve,
)
