"""A `tool_choice` the caller forces (as `with_structured_output` does): which tool, and arguments for it filled
from the message as the agents would fill them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from llm.entities import extract_amounts, extract_order_ids, extract_plan
from llm.offline.charges import find_charges_args
from llm.offline.records import TRANSFERS, billing_record, escalation_record, faq_record, handback_record, refund_record
from llm.offline.refund import pick_charge, refund_reason
from llm.offline.turn import Reply, ToolCall, Turn
from llm.offline.wording import trim

__all__ = ["apply_tool_choice"]

_FALLBACK_TOOLS = ("transfer_to_triage", "escalate_to_human", "search_faq")


def apply_tool_choice(reply: Reply, turn: Turn, tool_choice: Any) -> Reply:
    """The agent's free `reply` itself when it obeys `tool_choice`; else text instead of a call, or a call to the
    forced tool.

    `tool_choice` is None/"auto" (free), "none", "any"/"required"/True (must call one), or a tool name or
    {"type": "function", "function": {"name": ...}}.
    """
    forced = _forced_tool(tool_choice, turn.tools)
    if forced is None:
        return reply
    if forced == "none":
        return reply if reply.call is None else Reply(text="Let me look into that for you.")
    if reply.call is not None and forced in ("any", reply.call.name):
        return reply
    name = _any_tool(turn) if forced == "any" else forced
    return Reply(call=ToolCall(name, _record_for(name, turn.tools[name], turn)))


def _forced_tool(tool_choice: Any, tools: Mapping[str, Any]) -> str | Literal["any", "none"] | None:
    """Normalise tool_choice: a tool name, "any" (some tool must be called), "none", or None (free)."""
    if tool_choice is None or tool_choice in ("auto", False):
        return None
    if tool_choice == "none":
        return "none"
    if tool_choice in ("any", "required", True):
        return next(iter(tools)) if len(tools) == 1 else "any"
    name = tool_choice
    if isinstance(tool_choice, Mapping):
        function = tool_choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else tool_choice.get("name")
    elif not isinstance(tool_choice, str):
        return None
    return str(name) if name in tools else ("any" if tools else None)


def _any_tool(turn: Turn) -> str:
    """The bound transfer the router likes best, else a safe fallback tool, else the first tool."""
    bound = [r for r in TRANSFERS if TRANSFERS[r][0] in turn.tools]
    if bound:
        return TRANSFERS[max(bound, key=lambda r: turn.decision.scores.get(r, 0.0))][0]
    return next((name for name in _FALLBACK_TOOLS if name in turn.tools), next(iter(turn.tools)))


def _record_for(name: str, schema: Mapping[str, Any], turn: Turn) -> dict[str, Any]:
    """Arguments for a tool the caller forced, filled from the message as the agents would."""
    params = schema.get("parameters") or {}
    props = set((params.get("properties") or {}).keys())
    text = turn.text
    if name == "transfer_to_billing" or {"issue_type", "summary"} <= props:
        args = billing_record(text)
    elif name == "transfer_to_refund" or {"reason", "original_charge_amount"} <= props:
        args = refund_record(text)
    elif name == "transfer_to_faq" or {"topic", "specific_question"} <= props:
        args = faq_record(text)
    elif name == "escalate_to_human" or props == {"reason", "priority"}:
        args = escalation_record(text)
    elif name == "transfer_to_triage" or props == {"reason"}:
        args = handback_record(text, turn.decision.route)
    elif name == "search_faq":
        args = {"query": trim(text, 500)}
    elif name == "propose_plan_change":
        args = {"new_plan": extract_plan(text) or "pro"}
    elif name in ("propose_refund", "lookup_charge"):
        order = pick_charge(turn)[0] or next(iter(extract_order_ids(text)), "")
        args = {"order_id": order}
        if name == "propose_refund":
            args["reason"] = refund_reason(turn)
    elif name == "find_charges":
        args = find_charges_args(text, turn.today)
    elif name == "list_invoices":
        args = {"status": None}
    else:
        args = _fill_generic(params, text)
    return {key: value for key, value in args.items() if not props or key in props}


def _fill_generic(params: Mapping[str, Any], text: str) -> dict[str, Any]:
    """Required fields of an unknown schema: strings get the message, others a neutral value."""
    props: Mapping[str, Any] = params.get("properties") or {}
    args: dict[str, Any] = {}
    for key in params.get("required") or []:
        if key == "customer_id":
            continue  # never invent who the customer is
        spec = props.get(key) or {}
        kind = spec.get("type")
        if "enum" in spec:
            args[key] = spec["enum"][0]
        elif kind == "string" or kind is None:
            limit = spec.get("maxLength")
            args[key] = trim(text, int(limit)) if limit else text
        elif kind in ("number", "integer"):
            amounts = extract_amounts(text)
            args[key] = amounts[0] if amounts and kind == "number" else 0
        elif kind in ("boolean", "array", "object"):
            args[key] = {"boolean": False, "array": [], "object": {}}[kind]
    return args
