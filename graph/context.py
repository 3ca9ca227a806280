"""The runtime context of a run: who is asking, taken from the authenticated request.

It is not checkpointed, so every invocation, resumes included, passes it again. Tools read
the customer id from here and nowhere else: the model can never choose whose data it sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Context"]


@dataclass(frozen=True)
class Context:
    """Per-run context; LangGraph Studio shows these fields as a form."""

    customer_id: str = field(
        default="cust_001",
        metadata={"description": "The authenticated customer's id (for example cust_001)."},
    )
