"""The data tools agents may call, bound to the authenticated customer.

Each tool is a pydantic argument model (what the model sees and fills) plus a function that
receives a `ToolContext` built from the runtime context. No argument model has a customer
field: the customer id comes from the authenticated request, never from the model.

No tool writes anything that matters. The two that concern money and plans only *propose*
(`tools.proposals`): the customer's yes, recognised by code, is what executes a proposal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools import accounts, amounts, knowledge, proposals
from tools.db import Database
from tools.errors import InvalidPlan

__all__ = ["AGENT_TOOLS", "AgentTool", "ToolContext", "ToolResult", "run_tool", "tool_schemas"]


@dataclass(frozen=True)
class ToolContext:
    """Who a tool acts for. Built by the graph from the runtime context, never by the model."""

    db: Database
    customer_id: str
    thread_id: str
    customer_text: str = ""  # what the customer wrote this turn: a refund never exceeds an amount named in it
    # The refund proposed just before, which this turn's message neither accepted nor declined outright: its
    # (order id, amount). A smaller figure in the answer is then the most a new refund of that order may be.
    answered_offer: tuple[str, float] | None = None


@dataclass(frozen=True)
class ToolResult:
    """A tool's answer: JSON for the model, and the same data for the graph."""

    name: str
    ok: bool
    data: dict[str, Any]

    @property
    def content(self) -> str:
        return json.dumps(self.data, default=str)


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LookupChargeArgs(_Args):
    order_id: str = Field(description="The order or charge id, like ord_101.", max_length=64)


class FindChargesArgs(_Args):
    amount: float | None = Field(default=None, ge=0, description="Amount in dollars, e.g. 49.99.")
    date: str | None = Field(default=None, description="Charge date as YYYY-MM-DD.", max_length=10)


class ListInvoicesArgs(_Args):
    status: Literal["open", "paid"] | None = Field(default=None, description="Only invoices in this state.")


class ProposePlanChangeArgs(_Args):
    new_plan: Literal["free", "pro", "enterprise"] = Field(description="The plan the customer asked to move to.")


class ProposeRefundArgs(_Args):
    order_id: str = Field(description="The order id to refund, like ord_102.", max_length=64)
    reason: str = Field(description="The customer's reason.", max_length=1000)
    amount: float | None = Field(default=None, gt=0, description="Only the amount the customer named; else omit.")


class CheckRefundArgs(_Args):
    order_id: str = Field(description="The order id the customer asks about, like ord_301.", max_length=64)
    amount: float | None = Field(default=None, gt=0, description="An amount the customer asks about, if any.")


class SearchFAQArgs(_Args):
    query: str = Field(description="What to look up in the help center.", max_length=500)


def _lookup_charge(ctx: ToolContext, args: LookupChargeArgs) -> dict[str, Any]:
    charge = accounts.get_charge(ctx.db, ctx.customer_id, args.order_id)
    if charge is None:
        return {"status": "not_found", "order_id": args.order_id}
    return {"status": "found", "charge": charge.model_dump(mode="json")}


def _find_charges(ctx: ToolContext, args: FindChargesArgs) -> dict[str, Any]:
    on = date.fromisoformat(args.date) if args.date else None
    found = accounts.find_charges(ctx.db, ctx.customer_id, amount=args.amount, on=on)
    return {"charges": [c.model_dump(mode="json") for c in found]}


def _list_invoices(ctx: ToolContext, args: ListInvoicesArgs) -> dict[str, Any]:
    found = accounts.list_invoices(ctx.db, ctx.customer_id, status=args.status)
    return {"invoices": [i.model_dump(mode="json") for i in found]}


def _propose_plan_change(ctx: ToolContext, args: ProposePlanChangeArgs) -> dict[str, Any]:
    try:
        proposal = proposals.propose_plan_change(ctx.db, ctx.customer_id, args.new_plan)
    except InvalidPlan as exc:
        return {"status": "rejected", "reason": str(exc)}
    return {"status": "proposed", "proposal": proposal.model_dump(mode="json")}


def _propose_refund(ctx: ToolContext, args: ProposeRefundArgs) -> dict[str, Any]:
    # The customer's words bound the amount, whatever the model asked for: never more than they named, than a
    # counter-offer to the refund just proposed, or than half of the charge when they asked for half.
    named = amounts.asked_amounts(ctx.customer_text)
    if named.ambiguous:
        return {"status": "unclear_amount", "order_id": args.order_id, "figures": named.ambiguous}
    bound: float | None = None
    if named.amounts:
        bound = max(named.amounts)
    elif ctx.answered_offer is not None and ctx.answered_offer[0] == args.order_id.strip().lower():
        bound = amounts.counter_offer(ctx.customer_text, ctx.answered_offer[1])
    elif amounts.asks_for_half(ctx.customer_text):  # a named amount wins ("$120 back, they missed half of it")
        charge = accounts.get_charge(ctx.db, ctx.customer_id, args.order_id)
        if charge is not None and charge.refundable_amount > 0:
            bound = round(charge.refundable_amount / 2, 2)
    requested = args.amount
    if bound is not None:
        requested = bound if requested is None else min(requested, bound)
    found = proposals.propose_refund(
        ctx.db, ctx.customer_id, args.order_id, reason=args.reason, requested_amount=requested
    )
    if isinstance(found, proposals.Proposal):
        return {"status": "proposed", "proposal": found.model_dump(mode="json")}
    return found.model_dump(mode="json")  # denied or not found: nothing to confirm


def _check_refund(ctx: ToolContext, args: CheckRefundArgs) -> dict[str, Any]:
    found = proposals.propose_refund(
        ctx.db, ctx.customer_id, args.order_id, reason="question only", requested_amount=args.amount
    )
    if isinstance(found, proposals.Proposal):  # what the policy would decide; nothing is proposed or written
        return {
            "status": "would_need_approval" if found.kind == "approval_request" else "would_refund",
            "order_id": found.order_id,
            "amount": found.amount,
            "rule": found.rule,
            "explanation": found.explanation,
        }
    return found.model_dump(mode="json")


def _search_faq(ctx: ToolContext, args: SearchFAQArgs) -> dict[str, Any]:
    found = knowledge.search_articles(ctx.db, args.query, limit=3)
    return {"articles": [a.model_dump(mode="json") for a in found]}


@dataclass(frozen=True)
class AgentTool:
    """A data tool: its schema for the model and the code that runs it."""

    name: str
    description: str
    args_model: type[_Args]
    fn: Callable[[ToolContext, Any], dict[str, Any]]
    proposes: bool = False  # its result may carry a proposal for the customer to confirm

    def schema(self) -> dict[str, Any]:
        return convert_to_openai_tool(
            # The schema's own title is the class name; the tool's name must win.
            {**self.args_model.model_json_schema(), "title": self.name, "description": self.description}
        )


AGENT_TOOLS: dict[str, AgentTool] = {
    t.name: t
    for t in (
        AgentTool(
            "lookup_charge",
            "Look up one of the customer's charges by order id.",
            LookupChargeArgs,
            _lookup_charge,
        ),
        AgentTool(
            "find_charges",
            "Find the customer's charges by amount and/or date.",
            FindChargesArgs,
            _find_charges,
        ),
        AgentTool("list_invoices", "List the customer's invoices.", ListInvoicesArgs, _list_invoices),
        AgentTool(
            "propose_plan_change",
            "Quote a plan change the customer asked for; it happens only if they then say yes.",
            ProposePlanChangeArgs,
            _propose_plan_change,
            proposes=True,
        ),
        AgentTool(
            "propose_refund",
            "Propose a refund the customer asked for; the policy sets the terms and it happens only if they say yes.",
            ProposeRefundArgs,
            _propose_refund,
            proposes=True,
        ),
        AgentTool(
            "check_refund",
            "Answer a question about a refund (would it need a manager?) without proposing or doing anything.",
            CheckRefundArgs,
            _check_refund,
        ),
        AgentTool("search_faq", "Search the help center articles.", SearchFAQArgs, _search_faq),
    )
}


def tool_schemas(names: tuple[str, ...]) -> list[dict[str, Any]]:
    """OpenAI-format schemas for the named data tools."""
    return [AGENT_TOOLS[n].schema() for n in names]


def run_tool(name: str, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
    """Validate the model's arguments and run the tool for the context's customer.

    Bad arguments come back as an error result the model can read, not as an exception.
    """
    tool = AGENT_TOOLS.get(name)
    if tool is None:
        return ToolResult(name, False, {"error": f"unknown tool {name!r}"})
    try:
        parsed = tool.args_model.model_validate(args)
    except ValidationError as exc:
        errors = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        return ToolResult(name, False, {"error": "invalid arguments", "details": errors})
    try:
        return ToolResult(name, True, tool.fn(ctx, parsed))
    except ValueError as exc:  # e.g. a malformed date the schema could not rule out
        return ToolResult(name, False, {"error": str(exc)})
