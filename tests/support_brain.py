"""A scripted "model" for the fake OpenAI server that plays the four support agents.

It decides from the request alone, as a real model would: which agent it is (by the tools it
is offered), what the customer said (the user message), what our systems told it (the context
blocks in the system prompt) and what its tools returned (tool messages). It is deliberately
simple keyword logic: the tests check the graph and the protocol, not the brain.
"""

from __future__ import annotations

import json
import re
from typing import Any

from evals.adversarial import role
from llm.protocol import parse_blocks
from tests.fake_openai import Reply, system_text, user_text

__all__ = ["agent_of", "brain"]


# Which agent sent the request, judged by the tools it was offered (the misbehaving-model suite reads it the same way).
agent_of = role


def _amount(text: str) -> float | None:
    match = re.search(r"\$(\d+(?:\.\d{1,2})?)", text)
    return float(match.group(1)) if match else None


def _order(text: str) -> str | None:
    match = re.search(r"\bord_\d+\b", text)
    return match.group(0) if match else None


def _tool_results(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool messages answering the latest assistant message, if the request ends with them."""
    results: list[dict[str, Any]] = []
    for m in reversed(request["messages"]):
        if m["role"] != "tool":
            break
        results.insert(0, m)
    return results


def _triage(text: str) -> Reply:
    low = text.lower()
    if any(w in low for w in ("refund", "money back", "charged twice", "double charge")):
        record: dict[str, Any] = {"reason": text, "priority": "high", "sentiment": "frustrated"}
        if _order(text):
            record["order_id"] = _order(text)
        return Reply(tool_calls=[("transfer_to_refund", record)])
    if any(w in low for w in ("how do i", "how can i", "export")):
        return Reply(tool_calls=[("transfer_to_faq", {"topic": "product", "specific_question": text})])
    if "upgrade" in low or "plan" in low:
        return Reply(tool_calls=[("transfer_to_billing", {"issue_type": "plan_change", "summary": text})])
    if "charge" in low or "invoice" in low:
        record = {"issue_type": "charge_dispute", "summary": text}
        if _amount(text) is not None:
            record["amount_mentioned"] = _amount(text)
        return Reply(tool_calls=[("transfer_to_billing", record)])
    return Reply(content="Hello! I can help with billing, refunds and questions about Acme.")


def _billing(request: dict[str, Any], text: str) -> Reply:
    results = _tool_results(request)
    if results:
        facts = [json.loads(r["content"]) for r in results]
        charges = [c for f in facts for c in f.get("charges", [])]
        invoices = [i for f in facts for i in f.get("invoices", [])]
        parts = [f"The ${c['amount']:.2f} charge on {c['charged_on']} was for {c['description']}." for c in charges]
        if invoices:
            parts.append(f"You have {len(invoices)} invoices.")
        return Reply(content=" ".join(parts) or "I couldn't find that charge.")
    low = text.lower()
    if "money back" in low or "refund" in low:
        # A handoff next to a data tool call, in one message: both must get a tool message.
        order = _order(text) or "ord_102"
        return Reply(
            tool_calls=[
                ("lookup_charge", {"order_id": order}),
                ("transfer_to_refund", {"reason": text, "order_id": order, "priority": "medium"}),
            ]
        )
    if "upgrade" in low:
        account = parse_blocks(system_text(request)).get("account") or {}
        plan = (account.get("plan") or {}).get("name", "your plan")
        return Reply(content=f"You're on {plan} today. Enterprise costs more per month; shall I switch you?")
    calls: list[tuple[str, dict[str, Any] | str]] = [("find_charges", {"amount": _amount(text)})]
    if "invoice" in low:
        calls.append(("list_invoices", {}))  # two data tools in parallel
    return Reply(tool_calls=calls)


def _refund(request: dict[str, Any], text: str) -> Reply:
    account = parse_blocks(system_text(request)).get("account") or {}
    order = _order(text)
    if order is None:
        duplicates = [c for c in account.get("charges", []) if c.get("duplicate_of") and c["refundable_amount"]]
        order = duplicates[0]["order_id"] if duplicates else None
    if order is None:
        return Reply(content="Which charge do you mean? Please tell me its order id.")
    return Reply(tool_calls=[("propose_refund", {"order_id": order, "reason": text[:200]})])


def _faq(request: dict[str, Any]) -> Reply:
    articles = parse_blocks(system_text(request)).get("knowledge") or []
    if not articles:
        return Reply(content="I couldn't find that in our help center. Shall I connect you with a person?")
    title = articles[0]["title"]
    return Reply(content=f'Here is how, from our help-center article "{title}": open the menu and choose Export.')


def brain(request: dict[str, Any]) -> Reply:
    """The default script: the right answer for each agent."""
    agent = agent_of(request)
    text = user_text(request)
    if agent == "triage":
        return _triage(text)
    if agent == "billing":
        return _billing(request, text)
    if agent == "refund":
        return _refund(request, text)
    if agent == "faq":
        return _faq(request)
    return Reply(status=400, error_code="unknown_agent")
