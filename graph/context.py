"""The runtime context of a run: who is asking, taken from the authenticated request.

It is not checkpointed, so every invocation, resumes included, passes it again. Tools read
the customer id from here and nowhere else: the model can never choose whose data it sees.

There is no default customer. A run that names none is refused by the first node
(`require_customer`) and, on the server, before it starts (`service.auth`): acting as some
customer by default would show one customer's account to whoever forgot to say who they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Context", "MissingCustomer", "require_customer"]


class MissingCustomer(ValueError):
    """The run names no customer (no authenticated caller, or a manager who did not say for whom)."""


@dataclass(frozen=True)
class Context:
    """Per-run context; LangGraph Studio shows these fields as a form (customer_id is required)."""

    customer_id: str = field(
        metadata={"description": "The customer this run acts for, e.g. cust_003. Required: there is no default."},
    )


def require_customer(context: Any) -> str:
    """The run's customer id.

    Raises:
        MissingCustomer: The context is missing or names no customer.
    """
    customer_id = getattr(context, "customer_id", None)
    if not isinstance(customer_id, str) or not customer_id.strip():
        raise MissingCustomer(
            "this run names no customer: a customer's token sets it, and a manager must pass "
            'context={"customer_id": "cust_..."}'
        )
    return customer_id.strip()
