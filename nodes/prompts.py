"""Every prompt in one place: a shared prefix, per-agent instructions, generated handoff lines.

Prompts explain; code decides. Nothing here is policy: the refund rules the models read are a
description of `tools.policy`, which makes the decisions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from typing import Any

from graph.handoffs import HANDOFF_TOOLS
from llm.protocol import ACCOUNT_TAG, HANDOFF_TAG, HISTORY_TAG, KNOWLEDGE_TAG, render_block
from tools.mentions import extract_dates, extract_order_ids, mentioned_period, named_months
from tools.policy import MANAGER_REVIEW_TIME

__all__ = [
    "AGENT_INSTRUCTIONS",
    "RECENT_DAYS",
    "SHARED_PREFIX",
    "account_view",
    "build_system_prompt",
    "compact_tool_schema",
    "handoff_instructions",
    "handoff_view",
]

SHARED_PREFIX = """\
You work on the support desk of Acme, a project-management and analytics product sold as a
subscription (Free, Pro and Enterprise plans). Several specialists share each conversation:
Triage greets and routes, Billing handles invoices, charges, payment methods and plan changes,
Refund handles money back, and FAQ answers product questions from the help center.

How handoffs work: you pass a customer on by calling one of your transfer tools with a short,
accurate record (priority, sentiment, summary, amounts, order ids). The customer is not told
about internal transfers, so never say "transferring you"; the next specialist simply answers.
Only hand off when someone else can genuinely help better.

How to read your context: blocks such as <account>, <handoff>, <history> and <knowledge> hold
JSON written by our systems. They are facts you can rely on; the customer's message is a claim.
When a tool returns JSON, read its "status" first. Never invent charges, amounts, dates or
policies that are not in your context, and never reveal or guess anything about other customers.

Tone: warm, brief and concrete. Use the real figures. Two to five sentences are usually enough.
"""

AGENT_INSTRUCTIONS: dict[str, str] = {
    "triage": """\
You are the Triage agent, the customer's first contact. Work out what the customer needs and
hand them to the right specialist straight away. Answer yourself only greetings, thanks, and
requests that are outside what Acme support does (say politely what you can help with).""",
    "billing": """\
You are the Billing specialist. You explain charges and invoices, help with payment methods,
and quote plan changes. The customer's recent charges and invoices, cards and the plan catalogue
are in <account>: answer from it when you can. "older_charges" counts charges not shown there;
find_charges, lookup_charge and list_invoices look further back. When the customer asks to
move to another plan, call propose_plan_change: our systems quote the exact terms and make the
change only if the customer then says yes. A question about a plan is not a request: answer it
("switch_today" is what a change today adds to, or credits on, the next invoice).
For product questions, search the help center with search_faq. If the customer wants money
back, hand them to the refund specialist.""",
    "refund": f"""\
You are the Refund specialist. When the customer asks for money back, find the charge they
mean in <account> (a charge with "duplicate_of" set is a verified double charge; lookup_charge
finds older ones by order id) and call propose_refund with its order id, and with the amount
only if the customer named one. Our systems apply the refund policy, show the customer the
exact terms and act only if the customer then says yes: within 30 days and up to $500 is
refunded, larger or older charges go to a manager, verified duplicates are always refunded,
unpaid or already refunded charges cannot be refunded. A question about refunds ("would it need
a manager?") is answered with check_refund, and "just explain" is not a request: propose nothing
then. If you cannot tell which charge is meant, ask. A charge with "awaiting_approval" has a
request waiting for a manager: reviews normally finish within {MANAGER_REVIEW_TIME}.""",
    "faq": """\
You are the Product-questions specialist. Answer from the help-center articles in <knowledge>
only, and name the article you used. If the articles do not answer the question, say so
honestly and offer to connect the customer with a person; do not guess.""",
}


def handoff_instructions(handoff_names: Iterable[str]) -> str:
    """Generate the transfer section of a prompt from the handoffs an agent actually has."""
    # What each transfer does is in its tool description; the prompt adds only when to use it.
    lines = ["Transfers you can make, and when:"]
    for name in handoff_names:
        tool = HANDOFF_TOOLS[name]
        lines.append(f"- {tool.name}: {tool.when}.")
    return "\n".join(lines)


def build_system_prompt(
    agent: str,
    handoff_names: Iterable[str],
    *,
    account: dict[str, Any] | None,
    handoff: dict[str, Any] | None,
    history: list[dict[str, Any]],
    knowledge: list[dict[str, Any]] | None = None,
    message: str = "",
) -> str:
    """The full system prompt of one model call: prefix, role, transfers, then context blocks.

    `message` is the customer's message: with the handoff record and the customers' lines in `history`, it
    tells which older charges to show (see `account_view`).
    """
    parts = [SHARED_PREFIX, AGENT_INSTRUCTIONS[agent], handoff_instructions(handoff_names)]
    if account is not None:
        record = (handoff or {}).get("record") or {}
        words = " ".join(
            [message, *(str(v) for v in record.values() if isinstance(v, str))]
            + [str(h.get("text", "")) for h in history if h.get("role") == "customer"]
        )
        parts.append(render_block(ACCOUNT_TAG, account_view(agent, account, words)))
    if handoff is not None:
        parts.append(render_block(HANDOFF_TAG, handoff_view(handoff)))
    if history:
        parts.append(render_block(HISTORY_TAG, history))
    if knowledge is not None:
        parts.append(render_block(KNOWLEDGE_TAG, knowledge))
    return "\n\n".join(parts)


# --- What each agent sees of the account --------------------------------------------------------

# Charges this recent (two billing cycles) are shown to billing and refund; the tools find older ones.
RECENT_DAYS = 62

_PLAN_KEYS = ("id", "name", "monthly_price", "features")


def _lean(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record without the fields that say nothing: empty, zero refunds, the default currency."""
    return {
        key: value
        for key, value in record.items()
        if value is not None
        and not (key == "refunded_amount" and not value)
        and not (key == "currency" and value == "USD")
    }


def _recent(charge: Mapping[str, Any], today: date | None) -> bool:
    if charge.get("status") != "paid":
        return True  # unpaid or failed charges are open business, whatever their age
    age = charge.get("age_days")
    return age is None or today is None or int(age) <= RECENT_DAYS


_Mentions = tuple[frozenset[str], frozenset[date], tuple[date, date] | None, frozenset[int]]


@lru_cache(maxsize=256)
def _mentions(words: str, today: date | None) -> _Mentions:
    """What the words name (order ids, days, a period, months), read once for all of an account's charges."""
    days = frozenset(extract_dates(words, today)) if today is not None else frozenset()
    period = mentioned_period(words, today) if today is not None else None
    return frozenset(o.lower() for o in extract_order_ids(words)), days, period, named_months(words)


def _named(charge: Mapping[str, Any], words: str, today: date | None) -> bool:
    """Whether the customer's words point at this charge: its order id, its day, or its month by name."""
    if not words:
        return False
    order_ids, days, period, months = _mentions(words, today)
    if str(charge.get("order_id", "")).lower() in order_ids:
        return True
    invoice = str(charge.get("invoice_id") or "").lower()
    if invoice and re.search(rf"\b{re.escape(invoice)}\b", words.lower()):  # "refund inv_105"
        return True
    try:
        charged_on = date.fromisoformat(str(charge.get("charged_on")))
    except ValueError:
        return False
    if charged_on in days:
        return True
    if period is not None and period[0] <= charged_on <= period[1]:  # "two months ago", "last month"
        return True
    return charged_on.month in months and (today is None or (today - charged_on).days < 366)


def account_view(agent: str, account: Mapping[str, Any], words: str = "") -> dict[str, Any]:
    """The slice of the account (an `AccountSummary` as JSON) that `agent` reads.

    Triage routes on the message and needs the name and the plan; FAQ the plan; Billing the recent charges and
    invoices, the cards and the plan catalogue; Refund the recent charges. An older charge is shown too when
    `words` (what the customer said) name it by order id, day or month, so "the March 1st charge" needs no
    tool call; the others are counted in "older_charges", and the agents' tools look them up. Any other agent
    sees everything.
    """
    plan = account.get("plan") or {}
    if agent == "triage":
        return {"name": account.get("name"), "plan": plan.get("name")}
    if agent == "faq":
        return {"name": account.get("name"), "plan": {k: plan[k] for k in _PLAN_KEYS if k in plan}}
    if agent not in ("billing", "refund"):
        return dict(account)
    today_text = account.get("today")
    today = date.fromisoformat(today_text) if isinstance(today_text, str) else None
    charges = [c for c in account.get("charges") or [] if isinstance(c, Mapping)]
    shown = [c for c in charges if _recent(c, today) or _named(c, words, today)]
    view: dict[str, Any] = {
        "name": account.get("name"),
        "today": today_text,
        "charges": [_lean(c) for c in shown],
    }
    if len(charges) > len(shown):
        view["older_charges"] = len(charges) - len(shown)
    if agent == "billing":
        orders = {c.get("order_id") for c in shown}
        view["invoices"] = [
            _lean(i)
            for i in account.get("invoices") or []
            if isinstance(i, Mapping) and (i.get("order_id") in orders or i.get("status") == "open")
        ]
        view["plan"] = {k: plan[k] for k in _PLAN_KEYS if k in plan}
        view["payment_methods"] = [
            {k: v for k, v in m.items() if k != "method_id" and not (k in ("is_default", "expired") and not v)}
            for m in account.get("payment_methods") or []
            if isinstance(m, Mapping)
        ]
        view["available_plans"] = account.get("available_plans") or []
        if account.get("next_renewal"):  # computed by tools.plans: the model states it, never works it out
            view["next_renewal"] = account["next_renewal"]
        if any((account.get("switch_today") or {}).values()):  # the same: prorated by code for each other plan
            view["switch_today"] = account["switch_today"]
    return view


def handoff_view(handoff: Mapping[str, Any]) -> dict[str, Any]:
    """The handoff as its receiver reads it: who sent it and the record, without empty fields (it is the "to")."""
    view = {key: value for key, value in handoff.items() if key != "to"}
    record = view.get("record")
    if isinstance(record, Mapping):
        view["record"] = {key: value for key, value in record.items() if value is not None}
    return view


# --- Tool schemas as the model reads them ---------------------------------------------------------


def compact_tool_schema(tool: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI tool schema without what pydantic adds for people: titles, `$defs` indirection, null defaults,
    `anyOf [X, null]` for an optional field, `additionalProperties`.

    Validation is unchanged: the graph validates every call against the pydantic model (which forbids extra
    fields and sends the error back to the model), not this text.
    """
    function = dict(tool.get("function") or {})
    parameters = function.get("parameters")
    if isinstance(parameters, Mapping):
        function["parameters"] = _compact(parameters, parameters.get("$defs") or {})
    return {**tool, "function": function}


def _compact(node: Any, defs: Mapping[str, Any], *, properties: bool = False) -> Any:
    if isinstance(node, list):
        return [_compact(item, defs) for item in node]
    if not isinstance(node, Mapping):
        return node
    if properties:  # the keys are field names, not schema keywords
        return {name: _compact(value, defs) for name, value in node.items()}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in defs:
        node = {**defs[ref[8:]], **{k: v for k, v in node.items() if k != "$ref"}}
    options = node.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        # An optional field: not in "required" already says it may be left out.
        node = {**next(o for o in options if o != {"type": "null"}), **{k: v for k, v in node.items() if k != "anyOf"}}
    return {
        key: _compact(value, defs, properties=key == "properties")
        for key, value in node.items()
        if key not in ("title", "$defs", "additionalProperties") and not (key == "default" and value is None)
    }
