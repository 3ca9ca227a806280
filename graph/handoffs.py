"""Typed handoff records that travel with every transfer between agents.

They are the arguments of the transfer tools the models call, so a model's handoff is
validated by pydantic before the graph acts on it, stored in the state and logged.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "HANDOFF_TOOLS",
    "BillingHandoffInput",
    "EscalationInput",
    "FAQHandoffInput",
    "HandoffTool",
    "Priority",
    "RefundHandoffInput",
    "Sentiment",
    "TriageHandback",
]


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    FRUSTRATED = "frustrated"
    ANGRY = "angry"


class _Handoff(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class _FromTriage(_Handoff):
    # Triage hands one request to one specialist; a message with two ("refund the add-on, and how do I turn on
    # 2FA?") names the other here, and the graph takes it up as soon as the first is answered. A refund or plan
    # change is named here and the question handed over first, so the customer's yes answers the last thing shown.
    also: str | None = Field(
        default=None,
        max_length=1000,
        description="Another, different request in the same message that this specialist won't handle, in the "
        "customer's words; it is answered next, so a refund or plan change goes here and a question first. Null "
        "when the message asks one thing.",
    )


class BillingHandoffInput(_FromTriage):
    """Hand the customer to the billing specialist."""

    issue_type: Literal["charge_dispute", "invoice_question", "payment_method", "plan_change"] = Field(
        description="What kind of billing matter this is."
    )
    amount_mentioned: float | None = Field(
        default=None, ge=0, description="An amount in dollars the customer mentioned, if any."
    )
    priority: Priority = Field(default=Priority.MEDIUM, description="How urgent this is.")
    sentiment: Sentiment = Field(default=Sentiment.NEUTRAL, description="How the customer feels.")
    summary: str = Field(description="One or two sentences on what the customer needs.", max_length=1000)


class RefundHandoffInput(_FromTriage):
    """Hand the customer to the refund specialist."""

    original_charge_amount: float | None = Field(
        default=None, ge=0, description="The amount of the charge to refund, if the customer said it."
    )
    reason: str = Field(description="Why the customer wants a refund, in their words.", max_length=1000)
    order_id: str | None = Field(
        default=None, description="The order or charge id (like ord_101) if the customer gave one."
    )
    priority: Priority = Field(default=Priority.MEDIUM, description="How urgent this is.")
    sentiment: Sentiment = Field(default=Sentiment.NEUTRAL, description="How the customer feels.")


class FAQHandoffInput(_FromTriage):
    """Hand the customer to the product-questions (FAQ) specialist."""

    topic: str = Field(description="The product area, e.g. 'data export' or 'SSO'.", max_length=200)
    specific_question: str = Field(description="The customer's question, restated.", max_length=1000)


class EscalationInput(_Handoff):
    """Open a ticket for a human support agent."""

    reason: str = Field(description="Why a person should take over.", max_length=1000)
    priority: Priority = Field(default=Priority.MEDIUM, description="How urgent this is.")


class TriageHandback(_Handoff):
    """Hand the conversation back to triage because the customer changed topic."""

    reason: str = Field(description="What the customer is asking about now.", max_length=1000)


# --- Handoff tools -------------------------------------------------------------------------
# A handoff is a tool call whose arguments are one of the records above. The graph, not the
# tool, acts on it: the agent node validates the record and routes to `target`.


class HandoffTool(BaseModel):
    """A transfer an agent may offer to its model."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    target: str  # graph node that receives the customer
    args_model: type[BaseModel]
    description: str
    when: str  # one line for the generated prompt instructions


HANDOFF_TOOLS: dict[str, HandoffTool] = {
    tool.name: tool
    for tool in (
        HandoffTool(
            name="transfer_to_billing",
            target="billing",
            args_model=BillingHandoffInput,
            description="Transfer the customer to the billing specialist.",
            when="this customer's own invoices, charges, card or plan, and changing or cancelling the plan",
        ),
        HandoffTool(
            name="transfer_to_refund",
            target="refund",
            args_model=RefundHandoffInput,
            description="Transfer the customer to the refund specialist.",
            when="the customer wants money back for a charge (including a double charge)",
        ),
        HandoffTool(
            name="transfer_to_faq",
            target="faq",
            args_model=FAQHandoffInput,
            description="Transfer the customer to the product-questions specialist.",
            when="how-to, product and general policy questions (how billing works too) answered by the help center",
        ),
        HandoffTool(
            name="transfer_to_triage",
            target="triage",
            args_model=TriageHandback,
            description="Hand the conversation back to triage because the customer changed topic.",
            when="the customer now asks about something outside your speciality",
        ),
        HandoffTool(
            name="escalate_to_human",
            target="escalation",
            args_model=EscalationInput,
            description="Open a ticket so a human support agent takes over.",
            when="the customer asks for a person, complains formally, or you cannot help safely",
        ),
    )
}
