"""What nodes need from the outside world, injected when the graph is built."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from tools.db import Database

__all__ = ["Deps"]


@dataclass(frozen=True)
class Deps:
    """Dependencies of the nodes.

    Attributes:
        db: The domain database (customers, charges, refunds, approvals, tickets, articles).
        model_for: Returns the chat model for an agent key ("triage", "billing", ...). Called
            at run time, so no model client is created when the graph is built or imported.
            Each model retries its own transient failures (see `llm.retry`).
    """

    db: Database
    model_for: Callable[[str], BaseChatModel]
