"""A deterministic, offline chat model that plays every agent of the support desk.

`OfflineChatModel` is a real `BaseChatModel`: the graph binds the same tools and sends the same
prompts as it would to OpenAI, and gets back `AIMessage`s with tool calls or text. Which agent it
plays is read from the bound tool names; what it does is decided from the customer's latest
message, the context blocks of the system prompt (see `llm.protocol`) and any tool results of
this turn. The same input always gives the same output.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from graph.handoffs import Priority, Sentiment
from llm.entities import (
    billing_issue_type,
    detect_priority,
    detect_sentiment,
    extract_amounts,
    extract_dates,
    extract_order_ids,
    extract_plan,
    is_affirmative,
    is_negative,
    mentioned_month,
    mentioned_period,
)
from llm.protocol import ACCOUNT_TAG, HANDOFF_TAG, HISTORY_TAG, KNOWLEDGE_TAG, parse_blocks
from llm.router import FIRM_SIGNAL, RouteDecision, classify, has_domain_signal, rule_signals
from llm.text import article_sentences, content_words

__all__ = ["MODEL_NAME", "OfflineChatModel", "Reply", "ToolCall"]

MODEL_NAME = "acme-offline"

Role = Literal["triage", "billing", "refund", "faq", "generic"]

# The router must be at least this sure before a specialist decides the customer changed topic.
TOPIC_CHANGE_CONFIDENCE = 0.6
# A help-center article is used only with at least this retrieval score and words shared with the question.
MIN_ARTICLE_SCORE = 0.5
REASON_CHARS = 300

# --------------------------------------------------------------------------- small helpers


def _money(amount: float | int | None) -> str:
    return f"${float(amount or 0):,.2f}"


def _trim(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _nice_date(value: Any) -> str:
    parsed = _as_date(value)
    return f"{parsed:%B} {parsed.day}, {parsed.year}" if parsed else str(value)


def _message_text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    parts = [p if isinstance(p, str) else str(p.get("text", "")) for p in content if isinstance(p, str | dict)]
    return "".join(parts)


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, TypeError):
        return raw


_SMALL_TALK_THANKS = re.compile(r"^\W*(?:thanks?|thank you|thx|ty|cheers|much appreciated|appreciate it)\b", re.I)
_SMALL_TALK_HELLO = re.compile(
    r"^\W*(?:hi|hello|hey|hiya|howdy|yo|good (?:morning|afternoon|evening|day))\b[\s!.,]*(?:there)?[\s!.,]*$",
    re.I,
)
_SMALL_TALK_BYE = re.compile(r"^\W*(?:bye|goodbye|see you|that'?s all|nothing else|no thanks?)\b", re.I)


def _small_talk(text: str) -> Literal["hello", "thanks", "bye"] | None:
    """Greetings, thanks and goodbyes that carry no request of their own."""
    if has_domain_signal(text) and len(text.split()) > 4:
        return None
    if _SMALL_TALK_HELLO.match(text.strip()):
        return "hello"
    if _SMALL_TALK_THANKS.match(text):
        return "thanks"
    if _SMALL_TALK_BYE.match(text):
        return "bye"
    return None


_SCOPE = "billing (plans, invoices, charges and payment methods), refunds, and questions about using Acme"


def _small_talk_reply(kind: str) -> str:
    if kind == "hello":
        return f"Hi there! I'm the Acme support assistant. I can help with {_SCOPE}. What can I do for you today?"
    if kind == "thanks":
        return "You're welcome! If anything else comes up about billing, refunds or the product, just ask."
    return "Thanks for contacting Acme support. Have a great day!"


def _out_of_scope_reply() -> str:
    return (
        "I'm sorry, that's outside what I can help with here. I'm Acme's support assistant, so I can help "
        f"with {_SCOPE}. Is there anything like that I can do for you?"
    )


# --------------------------------------------------------------------------- the model's reply


@dataclass(frozen=True)
class ToolCall:
    """A tool call the model decided to make."""

    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """What the model says: text, or one tool call."""

    text: str = ""
    call: ToolCall | None = None


# --------------------------------------------------------------------------- the turn


@dataclass
class _ToolResult:
    name: str
    args: dict[str, Any]
    data: Any  # parsed JSON, or the raw text if it was not JSON
    error: bool


@dataclass
class _Turn:
    """Everything one model call can see, parsed once."""

    text: str
    blocks: dict[str, Any]
    tools: dict[str, dict[str, Any]]  # name -> OpenAI "function" schema
    results: list[_ToolResult]  # tool results of this turn, oldest first
    last_is_tool: bool
    decision: RouteDecision = field(init=False)  # the router's view of the customer's message
    signals: dict[str, float] = field(init=False)  # keyword evidence per route

    def __post_init__(self) -> None:
        self.decision = classify(self.text)
        self.signals = rule_signals(self.text)

    def has(self, tool: str) -> bool:
        return tool in self.tools

    @property
    def account(self) -> dict[str, Any] | None:
        account = self.blocks.get(ACCOUNT_TAG)
        return account if isinstance(account, dict) else None

    @property
    def handoff(self) -> dict[str, Any]:
        handoff = self.blocks.get(HANDOFF_TAG)
        return handoff if isinstance(handoff, dict) else {}

    @property
    def record(self) -> dict[str, Any]:
        record = self.handoff.get("record")
        return record if isinstance(record, dict) else {}

    @property
    def history(self) -> list[dict[str, Any]]:
        history = self.blocks.get(HISTORY_TAG)
        return [h for h in history if isinstance(h, dict)] if isinstance(history, list) else []

    @property
    def knowledge(self) -> list[dict[str, Any]] | None:
        knowledge = self.blocks.get(KNOWLEDGE_TAG)
        return [k for k in knowledge if isinstance(k, dict)] if isinstance(knowledge, list) else None

    @property
    def today(self) -> date:
        account = self.account or {}
        return _as_date(account.get("today")) or date.today()

    @property
    def charges(self) -> list[dict[str, Any]]:
        charges = (self.account or {}).get("charges")
        return [c for c in charges if isinstance(c, dict)] if isinstance(charges, list) else []

    def last_agent_text(self) -> str:
        for item in reversed(self.history):
            if item.get("role") == "agent":
                return str(item.get("text") or "")
        return ""

    def last_agent(self) -> str:
        for item in reversed(self.history):
            if item.get("role") == "agent":
                return str(item.get("agent") or "")
        return ""


def _parse_turn(messages: Sequence[BaseMessage], tools: Sequence[Mapping[str, Any]]) -> _Turn:
    system = "\n\n".join(_message_text(m) for m in messages if isinstance(m, SystemMessage))
    human_index = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    text = _message_text(messages[human_index]) if human_index >= 0 else ""
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    results: list[_ToolResult] = []
    for message in messages[human_index + 1 :]:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                calls[str(call.get("id"))] = (call["name"], dict(call.get("args") or {}))
        elif isinstance(message, ToolMessage):
            name, args = calls.get(message.tool_call_id, (message.name or "", {}))
            results.append(
                _ToolResult(
                    name=name or message.name or "",
                    args=args,
                    data=_json_or_text(_message_text(message)),
                    error=message.status == "error",
                )
            )
    schemas: dict[str, dict[str, Any]] = {}
    for tool in tools:
        function = tool.get("function", tool)
        if isinstance(function, Mapping) and function.get("name"):
            schemas[str(function["name"])] = dict(function)
    last_is_tool = bool(messages) and isinstance(messages[-1], ToolMessage)
    return _Turn(
        text=text.strip(),
        blocks=parse_blocks(system),
        tools=schemas,
        results=results,
        last_is_tool=last_is_tool,
    )


def _role(tools: Mapping[str, Any]) -> Role:
    if "change_plan" in tools:
        return "billing"
    if "process_refund" in tools:
        return "refund"
    if "search_faq" in tools:
        return "faq"
    if "transfer_to_billing" in tools:
        return "triage"
    return "generic"


# --------------------------------------------------------------------------- handoff records


def _feelings(text: str) -> tuple[Sentiment, Priority]:
    sentiment = detect_sentiment(text)
    return sentiment, detect_priority(text, sentiment)


def _refund_record(text: str) -> dict[str, Any]:
    sentiment, priority = _feelings(text)
    amounts = extract_amounts(text)
    orders = extract_order_ids(text)
    return {
        "reason": _trim(text, REASON_CHARS) or "The customer asked for a refund.",
        "order_id": orders[0] if orders else None,
        "original_charge_amount": amounts[0] if amounts else None,
        "priority": priority.value,
        "sentiment": sentiment.value,
    }


_ISSUE_PHRASES = {
    "charge_dispute": "wants a charge explained",
    "invoice_question": "has a question about invoices",
    "payment_method": "wants help with the payment method on file",
    "plan_change": "wants to change plan",
}


def _billing_record(text: str, issue: str | None = None) -> dict[str, Any]:
    sentiment, priority = _feelings(text)
    issue_type = issue or billing_issue_type(text)
    amounts = extract_amounts(text)
    details = []
    plan = extract_plan(text)
    if issue_type == "plan_change" and plan:
        details.append(f"target plan: {plan}")
    if amounts:
        details.append(f"amount mentioned: {_money(amounts[0])}")
    orders = extract_order_ids(text)
    if orders:
        details.append(f"order: {orders[0]}")
    summary = f"The customer {_ISSUE_PHRASES[issue_type]}"
    summary += f" ({'; '.join(details)})." if details else "."
    summary += f' They wrote: "{_trim(text, 240)}"'
    return {
        "issue_type": issue_type,
        "amount_mentioned": amounts[0] if amounts else None,
        "priority": priority.value,
        "sentiment": sentiment.value,
        "summary": _trim(summary, 1000),
    }


def _topic(text: str) -> str:
    words: list[str] = []
    for word in re.findall(r"[A-Za-z0-9][\w-]*", text):
        stemmed = content_words(word)
        if stemmed and word.lower() not in words:
            words.append(word.lower())
        if len(words) == 4:
            break
    return " ".join(words) or "general question"


def _faq_record(text: str) -> dict[str, Any]:
    return {
        "topic": _trim(_topic(text), 200),
        "specific_question": _trim(text, 1000) or "General product question.",
    }


def _escalation_record(text: str) -> dict[str, Any]:
    sentiment, priority = _feelings(text)
    # Someone who asks for a person is already waiting on us; never file it as low priority.
    if priority == Priority.LOW:
        priority = Priority.MEDIUM
    reason = "Customer asked for a person" if rule_signals(text)["human"] else "Needs a human agent"
    if sentiment in (Sentiment.ANGRY, Sentiment.FRUSTRATED):
        reason += f" ({sentiment.value})"
    return {"reason": _trim(f'{reason}: "{text}"', 1000), "priority": priority.value}


def _handback_record(text: str, route: str) -> dict[str, Any]:
    about = {"billing": "a billing matter", "refund": "a refund", "faq": "a product question"}.get(
        route, "something outside this specialist's area"
    )
    return {"reason": _trim(f'The customer now asks about {about}: "{text}"', 1000)}


# --------------------------------------------------------------------------- account facts


def _charge_line(charge: Mapping[str, Any]) -> str:
    return (
        f"{charge.get('order_id')} on {_nice_date(charge.get('charged_on'))}: {_money(charge.get('amount'))} "
        f"for {charge.get('description', 'a charge')}"
    )


def _explain_charge(charge: Mapping[str, Any]) -> str:
    status = charge.get("status", "paid")
    parts = [
        f"The {_money(charge.get('amount'))} charge on {_nice_date(charge.get('charged_on'))} "
        f"({charge.get('order_id')}) is for {charge.get('description', 'your subscription')}; it is {status}"
    ]
    if charge.get("invoice_id"):
        parts[0] += f" and appears on invoice {charge['invoice_id']}"
    parts[0] += "."
    if float(charge.get("refunded_amount") or 0) > 0:
        parts.append(f"{_money(charge['refunded_amount'])} of it has already been refunded.")
    if charge.get("duplicate_of"):
        parts.append(
            f"It looks like a duplicate of {charge['duplicate_of']} (same amount, charged twice), so you "
            "can ask for a refund of it: just say yes and I'll pass it to our refunds team."
        )
    return " ".join(parts)


def _match_charges(
    charges: Sequence[Mapping[str, Any]], text: str, today: date
) -> tuple[list[Mapping[str, Any]], bool]:
    """Charges that fit what the customer said: order id, amount, date and period ("last month").

    Customers remember amounts better than days, so when the day or period rules out every charge
    that has the right order id or amount, those charges are returned anyway and flagged.

    Returns:
        (matching charges, whether the date or period had to be ignored).
    """
    orders = set(extract_order_ids(text))
    amounts = extract_amounts(text)
    dates = set(extract_dates(text, today))
    period = mentioned_period(text, today)
    # "last month" also comes back as a date (its first day); the whole month is what is meant.
    if period and mentioned_month(text):
        dates.discard(period[0])
    if not (orders or amounts or dates or period):
        return [], False

    def fits(charge: Mapping[str, Any], *, when: bool) -> bool:
        charged_on = _as_date(charge.get("charged_on"))
        if orders and str(charge.get("order_id", "")).lower() not in orders:
            return False
        if amounts and not any(abs(float(charge.get("amount") or 0) - a) < 0.005 for a in amounts):
            return False
        if when and dates and charged_on not in dates:
            return False
        return not (when and period and (charged_on is None or not period[0] <= charged_on <= period[1]))

    matched = [c for c in charges if fits(c, when=True)]
    if not matched and (orders or amounts) and (dates or period):
        loose = [c for c in charges if fits(c, when=False)]
        if loose:
            return loose, True
    return matched, False


def _plan_by_id(account: Mapping[str, Any], plan_id: str) -> Mapping[str, Any] | None:
    for plan in account.get("available_plans") or []:
        if isinstance(plan, Mapping) and str(plan.get("id", "")).lower() == plan_id:
            return plan
    current = account.get("plan")
    if isinstance(current, Mapping) and str(current.get("id", "")).lower() == plan_id:
        return current
    return None


_PLAN_ORDER = ("free", "pro", "enterprise")


# --------------------------------------------------------------------------- the agents


def _triage(turn: _Turn) -> Reply:
    text = turn.text
    decision = turn.decision
    route = decision.route
    small = _small_talk(text)
    if small and not any(turn.signals[r] >= FIRM_SIGNAL for r in ("billing", "refund", "human", "faq")):
        return Reply(text=_small_talk_reply(small))
    if route == "other":
        follow = _continuation(turn)
        if follow is not None:
            return follow
        return Reply(text=_out_of_scope_reply())
    if route == "refund" and turn.has("transfer_to_refund"):
        return Reply(call=ToolCall("transfer_to_refund", _refund_record(text)))
    if route == "billing" and turn.has("transfer_to_billing"):
        return Reply(call=ToolCall("transfer_to_billing", _billing_record(text)))
    if route == "faq" and turn.has("transfer_to_faq"):
        return Reply(call=ToolCall("transfer_to_faq", _faq_record(text)))
    if route == "human" and turn.has("escalate_to_human"):
        return Reply(call=ToolCall("escalate_to_human", _escalation_record(text)))
    return Reply(text=_out_of_scope_reply())


def _continuation(turn: _Turn) -> Reply | None:
    """A short follow-up ("yes", "ord_102", "the $49 one") goes back to the specialist who asked."""
    text = turn.text
    if not (is_affirmative(text) or extract_order_ids(text) or extract_amounts(text)):
        return None
    last = turn.last_agent().lower()
    context = f"{turn.last_agent_text()} {text}"
    if "refund" in last and turn.has("transfer_to_refund"):
        return Reply(call=ToolCall("transfer_to_refund", _refund_record(text)))
    if "billing" in last and turn.has("transfer_to_billing"):
        record = _billing_record(text, billing_issue_type(context))
        return Reply(call=ToolCall("transfer_to_billing", record))
    return None


def _billing(turn: _Turn) -> Reply:
    text = turn.text
    if turn.last_is_tool and turn.results:
        return Reply(text=_summarise_billing_result(turn.results[-1], turn))
    affirmative = is_affirmative(text)
    proposed = _proposed_plan(turn)
    if proposed and not affirmative and is_negative(text) and not _billing_signal(turn):
        current = str(((turn.account or {}).get("plan") or {}).get("name") or "current")
        return Reply(text=f"No problem, I've left you on the {current} plan. Is there anything else I can help with?")
    small = _small_talk(text)
    if small and not turn.signals["billing"] and not turn.signals["refund"]:
        return Reply(text=_small_talk_reply(small))
    decision = turn.decision
    signals = turn.signals

    # A "yes" to a plan change this agent proposed.
    if affirmative and proposed and not signals["refund"]:
        target = extract_plan(text) or proposed
        if turn.has("change_plan"):
            return Reply(call=ToolCall("change_plan", {"new_plan": target}))
    # A "yes" to the refund this agent offered for a duplicate charge.
    if affirmative and not proposed and _REFUND_OFFER_RE.search(turn.last_agent_text()):
        offered = extract_order_ids(turn.last_agent_text())
        if turn.has("transfer_to_refund"):
            record = _refund_record(turn.last_agent_text() if offered else text)
            record["reason"] = _trim(f"Customer confirmed a refund of a duplicate charge: {text}", REASON_CHARS)
            record["order_id"] = offered[0] if offered else None
            return Reply(call=ToolCall("transfer_to_refund", record))

    if (decision.route == "refund" or signals["refund"] >= 1.6) and turn.has("transfer_to_refund"):
        return Reply(call=ToolCall("transfer_to_refund", _refund_record(text)))
    if decision.route == "human" and signals["human"] and turn.has("escalate_to_human"):
        return Reply(call=ToolCall("escalate_to_human", _escalation_record(text)))
    if _off_topic_for_billing(turn) and not affirmative:
        if decision.route == "human" and turn.has("escalate_to_human"):
            return Reply(call=ToolCall("escalate_to_human", _escalation_record(text)))
        if turn.has("transfer_to_triage"):
            return Reply(call=ToolCall("transfer_to_triage", _handback_record(text, decision.route)))

    issue = _billing_issue(turn)
    if issue == "plan_change":
        return _plan_change(turn)
    if issue == "invoice_question":
        return _invoices(turn)
    if issue == "payment_method":
        return _payment_method(turn)
    return _charge_dispute(turn)


# Words that keep a message in billing's lane even when the router leans elsewhere.
_BILLING_WORDS = re.compile(
    r"\b(?:card|cards|payment\w*|invoice\w*|receipt\w*|charg\w*|bill\w*|plan|plans|tier|subscri\w*|price\w*"
    r"|pricing|cost\w*|seat\w*|upgrad\w*|downgrad\w*|renew\w*|prorat\w*|vat|tax)\b",
    re.I,
)


def _billing_signal(turn: _Turn) -> bool:
    text = turn.text
    return bool(
        turn.signals["billing"] >= FIRM_SIGNAL
        or _BILLING_WORDS.search(text)
        or extract_amounts(text)
        or extract_order_ids(text)
        or extract_plan(text)
        or extract_dates(text, turn.today)
        or mentioned_period(text, turn.today)
    )


def _off_topic_for_billing(turn: _Turn) -> bool:
    """The router is fairly sure the message is not about billing and nothing in it says otherwise."""
    decision = turn.decision
    if decision.confidence < TOPIC_CHANGE_CONFIDENCE:
        return False
    return decision.route in ("faq", "other", "human") and not _billing_signal(turn)


def _billing_issue(turn: _Turn) -> str:
    text = turn.text
    if is_affirmative(text) and _proposed_plan(turn):
        return "plan_change"
    if _billing_signal(turn) or turn.signals["billing"] or not turn.record.get("issue_type"):
        return billing_issue_type(text)
    return str(turn.record["issue_type"])


_PLAN_OFFER_RE = re.compile(
    r"\b(?:switch|switching|move|moving|upgrade|downgrade|change|put)\s+you\s+(?:over\s+)?(?:to|onto)\s+"
    r"(?:the\s+)?"
    r"(free|pro|enterprise)\b",
    re.I,
)
_REFUND_OFFER_RE = re.compile(r"\brefund\w*\b[^.?!]*\bsay yes\b|\bsay yes\b[^.?!]*\brefund", re.I)


def _proposed_plan(turn: _Turn) -> str | None:
    """The plan the last agent message offered to switch the customer to.

    The offer phrase ("switch you to the Pro plan") is enough: the closing "reply yes to confirm" may
    have been trimmed from the history block.
    """
    offer = _PLAN_OFFER_RE.search(turn.last_agent_text())
    return offer.group(1).lower() if offer else None


def _plan_change(turn: _Turn) -> Reply:
    text = turn.text
    account = turn.account
    target = extract_plan(text)
    lowered = text.lower()
    current_id = str(((account or {}).get("plan") or {}).get("id", "")).lower() or None
    if target is None and current_id in _PLAN_ORDER:
        position = _PLAN_ORDER.index(current_id)
        if re.search(r"\bcancel\w*\b", lowered):
            target = "free" if current_id != "free" else None
        elif re.search(r"\bupgrad\w*\b", lowered) and position + 1 < len(_PLAN_ORDER):
            target = _PLAN_ORDER[position + 1]
        elif re.search(r"\bdowngrad\w*\b", lowered) and position > 0:
            target = _PLAN_ORDER[position - 1]
    if account is None:
        if target is None:
            return Reply(text="Which plan would you like to move to: Free, Pro or Enterprise?")
        return Reply(text=f'I can switch you to the {target.title()} plan. Reply "yes" to confirm.')
    current = account.get("plan") or {}
    current_name = current.get("name") or str(current_id or "current").title()
    current_price = float(current.get("monthly_price") or 0)
    if target is None and re.search(r"\b(?:seats?|members?|users?|licen[cs]es?|teammates?)\b", lowered):
        return Reply(text=_seat_answer(account))
    if target is None:
        options = ", ".join(
            f"{p.get('name')} ({_money(p.get('monthly_price'))}/month)"
            for p in account.get("available_plans") or []
            if isinstance(p, Mapping)
        )
        return Reply(
            text=(
                f"You're on the {current_name} plan at "
                f"{_money(current_price)}/month. The plans are: {options}. "
                "Which one would you like to move to?"
            )
        )
    if target == current_id:
        return Reply(
            text=(
                f"You're already on the {current_name} plan "
                f"({_money(current_price)}/month), so there's nothing to change."
            )
        )
    plan = _plan_by_id(account, target)
    if plan is None:
        return Reply(
            text=(f"I couldn't find a {target.title()} plan in our catalogue. The plans are Free, Pro and Enterprise.")
        )
    name = plan.get("name") or target.title()
    price = float(plan.get("monthly_price") or 0)
    difference = price - current_price
    gained, lost = _feature_changes(current, plan)
    change = "more" if difference >= 0 else "less"
    # The offer comes first: the history block trims old replies, and the next turn must still see it.
    sentences_out = [
        f"Switching you to the {name} plan costs {_money(price)}/month instead of the "
        f"{_money(current_price)}/month you pay for {current_name} now, {_money(abs(difference))} {change} "
        "per month."
    ]
    if gained and difference < 0:
        sentences_out.append(f"The {name} plan includes {', '.join(gained[:4])}.")
    elif gained:
        sentences_out.append(f"You'd gain {', '.join(gained[:4])}.")
    if lost:
        sentences_out.append(f"You'd lose {', '.join(lost[:4])}.")
    sentences_out.append(
        "The change applies right away and the difference for the rest of this billing period is prorated on "
        "your next invoice."
    )
    sentences_out.append('Reply "yes" to confirm and I\'ll make the change.')
    return Reply(text=" ".join(sentences_out))


def _seat_answer(account: Mapping[str, Any]) -> str:
    """What the current plan includes for members, and the next plan up when more is needed."""
    current = account.get("plan") or {}
    name = current.get("name") or "current"
    features = ", ".join(current.get("features") or []) or "no listed extras"
    text = (
        f"Your {name} plan ({_money(current.get('monthly_price'))}/month) includes: {features}. "
        "Owners and admins add people under Settings → Members."
    )
    current_id = str(current.get("id", "")).lower()
    if current_id in _PLAN_ORDER and _PLAN_ORDER.index(current_id) + 1 < len(_PLAN_ORDER):
        bigger = _plan_by_id(account, _PLAN_ORDER[_PLAN_ORDER.index(current_id) + 1])
        if bigger is not None:
            extras = ", ".join(bigger.get("features") or [])
            text += (
                f" If you need more than that, the {bigger.get('name')} plan is "
                f"{_money(bigger.get('monthly_price'))}/month and includes: {extras}."
                f' Just say "upgrade me to {bigger.get("name")}" and I\'ll give you the exact difference.'
            )
    return text


def _feature_changes(current: Mapping[str, Any], target: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Features gained and lost by moving from `current` to `target`.

    A plan listing "Everything in Pro" contains all of Pro's features, so nothing is lost by moving
    up to it and nothing is gained by moving down from it.
    """
    have = [str(f) for f in current.get("features") or []]
    get = [str(f) for f in target.get("features") or []]

    def contains(bigger: list[str], smaller: Mapping[str, Any]) -> bool:
        names = {str(smaller.get("name", "")).lower(), str(smaller.get("id", "")).lower()} - {""}
        if not names:
            return False
        pattern = re.compile(rf"everything in (?:the )?(?:{'|'.join(map(re.escape, names))})\b")
        return any(pattern.match(f.lower()) for f in bigger)

    everything = re.compile(r"^everything in\b", re.I)
    gained = [f for f in get if f not in have and not everything.match(f)]
    lost = [f for f in have if f not in get and not everything.match(f)]
    if contains(get, current):
        lost = []
    elif contains(have, target):
        gained = []
    return gained, lost


def _invoices(turn: _Turn) -> Reply:
    account = turn.account
    lowered = turn.text.lower()
    wants_open = bool(re.search(r"\b(?:open|unpaid|outstanding|due|overdue|owe)\b", lowered))
    if account is None:
        if turn.has("list_invoices"):
            return Reply(call=ToolCall("list_invoices", {"status": "open" if wants_open else None}))
        return Reply(
            text=(
                "You'll find all your invoices under Settings → Billing "
                "→ Invoices, where each one can be downloaded as a PDF."
            )
        )
    invoices = [i for i in account.get("invoices") or [] if isinstance(i, Mapping)]
    return Reply(text=_describe_invoices(invoices, wants_open=wants_open))


def _describe_invoices(invoices: Sequence[Mapping[str, Any]], *, wants_open: bool) -> str:
    if not invoices:
        return "There are no invoices on your account yet."
    open_ones = [i for i in invoices if i.get("status") == "open"]
    if open_ones:
        lines = "; ".join(
            f"{i.get('invoice_id')} for {_money(i.get('amount'))}, due {_nice_date(i.get('due_on'))}"
            for i in open_ones[:5]
        )
        head = f"You have {len(open_ones)} open invoice{'s' if len(open_ones) > 1 else ''}: {lines}."
    else:
        head = "You have no open invoices: everything is paid."
    if open_ones and wants_open:
        tail = "You can pay or download them as PDFs under Settings → Billing → Invoices."
    else:
        recent = "; ".join(
            (
                f"{i.get('invoice_id')} ({_money(i.get('amount'))}, issued "
                f"{_nice_date(i.get('issued_on'))}, {i.get('status')})"
            )
            for i in invoices[:3]
        )
        tail = (
            f"Your latest invoices are {recent}. Each can be downloaded as a PDF under Settings → Billing → Invoices."
        )
    return f"{head} {tail}"


def _payment_method(turn: _Turn) -> Reply:
    account = turn.account or {}
    methods = [m for m in account.get("payment_methods") or [] if isinstance(m, Mapping)]
    default = next((m for m in methods if m.get("is_default")), methods[0] if methods else None)
    how = (
        "To change it, go to Settings → Billing → Payment methods, add the new card and make it the default; "
        "future charges will use it."
    )
    if default is None:
        return Reply(text=f"I don't see a card on file for your account yet. {how}")
    text = (
        f"Your default payment method is a {str(default.get('brand', 'card')).title()} "
        f"ending in {default.get('last4')}, expiring {default.get('expires')}. {how}"
    )
    failed = [c for c in turn.charges if c.get("status") == "failed"]
    if failed:
        text += f" Note that the charge {_charge_line(failed[0])} failed; once the card is updated we'll retry it."
    return Reply(text=text)


def _charge_dispute(turn: _Turn) -> Reply:
    text = turn.text
    account = turn.account
    if account is None:
        orders = extract_order_ids(text)
        if orders and turn.has("lookup_charge"):
            return Reply(call=ToolCall("lookup_charge", {"order_id": orders[0]}))
        amounts = extract_amounts(text)
        dates = extract_dates(text, turn.today)
        if (amounts or dates) and turn.has("find_charges"):
            args: dict[str, Any] = {"amount": amounts[0] if amounts else None}
            args["date"] = dates[0].isoformat() if dates else None
            return Reply(call=ToolCall("find_charges", args))
        return Reply(
            text=(
                "Which charge do you mean? Tell me its amount and date "
                "(or the order id, like ord_123) and I'll explain it."
            )
        )
    charges = turn.charges
    orders = extract_order_ids(text)
    matched, relaxed = _match_charges(charges, text, turn.today)
    if orders and not matched and turn.has("lookup_charge"):
        return Reply(call=ToolCall("lookup_charge", {"order_id": orders[0]}))
    if not matched and re.search(r"\b(?:twice|double|duplicate)\b", text.lower()):
        matched = [c for c in charges if c.get("duplicate_of")]
    if matched:
        explained = " ".join(_explain_charge(c) for c in matched[:3])
        if relaxed:
            explained = f"I don't see that amount on the date you mentioned, but this one matches it. {explained}"
        if len(matched) > 3:
            explained += f" There are {len(matched) - 3} more matching charges."
        return Reply(text=explained)
    recent = "; ".join(_charge_line(c) for c in charges[:3])
    asked = _criteria(text, turn.today)
    intro = (
        f"I couldn't find a charge {asked} on your account." if asked else "Which charge would you like me to explain?"
    )
    if recent:
        return Reply(text=f"{intro} Your 3 most recent charges are: {recent}. Which one do you mean?")
    return Reply(text=f"{intro} There are no charges on your account yet.")


def _criteria(text: str, today: date) -> str:
    parts = []
    amounts = extract_amounts(text)
    if amounts:
        parts.append(f"of {_money(amounts[0])}")
    dates = extract_dates(text, today)
    period = mentioned_period(text, today)
    if period:
        parts.append(f"between {_nice_date(period[0])} and {_nice_date(period[1])}")
    elif dates:
        parts.append(f"on {_nice_date(dates[0])}")
    orders = extract_order_ids(text)
    if orders:
        parts.append(f"with order id {orders[0]}")
    return " ".join(parts)


def _summarise_billing_result(result: _ToolResult, turn: _Turn) -> str:
    data = result.data
    if result.error or (isinstance(data, Mapping) and "error" in data):
        detail = data.get("error") if isinstance(data, Mapping) else data
        return f"Sorry, I couldn't complete that just now ({detail}). Could you tell me a bit more so I can try again?"
    if not isinstance(data, Mapping):
        return f"Here's what I found: {_trim(str(data), 400)}"
    if result.name == "lookup_charge":
        if data.get("status") == "found" and isinstance(data.get("charge"), Mapping):
            return _explain_charge(data["charge"])
        order = data.get("order_id") or result.args.get("order_id")
        return (
            f"I couldn't find a charge with order id {order} on your account. "
            "Could you check the id, or tell me the amount and date?"
        )
    if result.name == "find_charges":
        found = [c for c in data.get("charges") or [] if isinstance(c, Mapping)]
        if not found:
            return (
                "I couldn't find a charge matching that amount and date on your "
                "account. Could you double-check them, or give me the order id?"
            )
        return " ".join(_explain_charge(c) for c in found[:3])
    if result.name == "list_invoices":
        invoices = [i for i in data.get("invoices") or [] if isinstance(i, Mapping)]
        return _describe_invoices(invoices, wants_open=result.args.get("status") == "open")
    if result.name == "change_plan":
        if data.get("status") == "changed":
            new_plan = str(data.get("new_plan", "")).title()
            price = data.get("new_monthly_price")
            old = str(data.get("old_plan", "")).title()
            text = f"Done! You're now on the {new_plan} plan"
            text += f" at {_money(price)}/month" if price is not None else ""
            text += f" (previously {old})." if old else "."
            return text + " The difference is prorated on your next invoice, and you'll get a confirmation email."
        return f"I couldn't change your plan: {data.get('reason', 'the change was rejected')}."
    return f"Here's what I found: {_trim(json.dumps(data, default=str), 400)}"


_DUPLICATE_RE = re.compile(
    r"\b(?:twice|two times|double\w*|duplicat\w*|second charge|charged again|more than once)\b", re.I
)
_LATEST_RE = re.compile(r"\b(?:latest|last|most recent|recent)\s+(?:charge|payment|one|bill|transaction)\b", re.I)


def _refund(turn: _Turn) -> Reply:
    text = turn.text
    if turn.last_is_tool and turn.results:
        return _summarise_refund_result(turn.results[-1], turn)
    small = _small_talk(text)
    if small and not turn.signals["refund"]:
        return Reply(text=_small_talk_reply(small))
    decision = turn.decision
    signals = turn.signals
    if decision.route == "human" and signals["human"] and turn.has("escalate_to_human"):
        return Reply(call=ToolCall("escalate_to_human", _escalation_record(text)))
    refers_to_charge = bool(
        signals["refund"]
        or extract_order_ids(text)
        or extract_amounts(text)
        or extract_dates(text, turn.today)
        or mentioned_period(text, turn.today)
        or _DUPLICATE_RE.search(text)
        or _LATEST_RE.search(text)
        or is_affirmative(text)
    )
    # An unsure "other" is more likely a muddled answer to our question than a new topic.
    changed_topic = decision.route in ("faq", "billing") or (
        decision.route == "other" and decision.confidence >= TOPIC_CHANGE_CONFIDENCE
    )
    if not refers_to_charge and changed_topic and turn.has("transfer_to_triage"):
        return Reply(call=ToolCall("transfer_to_triage", _handback_record(text, decision.route)))

    reason = _refund_reason(turn)
    charge_id, requested = _pick_charge(turn)
    if charge_id is None:
        return Reply(text=_which_charge(turn))
    if not turn.has("process_refund"):
        return Reply(text=f"I can see {charge_id}; our refunds team will take it from here.")
    args: dict[str, Any] = {"order_id": charge_id, "reason": reason}
    if requested is not None:
        args["amount"] = requested
    return Reply(call=ToolCall("process_refund", args))


def _refund_reason(turn: _Turn) -> str:
    if turn.signals["refund"] or _DUPLICATE_RE.search(turn.text):
        return _trim(turn.text, 1000)
    if turn.record.get("reason"):
        return _trim(str(turn.record["reason"]), 1000)
    for item in turn.history:
        if item.get("role") == "customer" and rule_signals(str(item.get("text", "")))["refund"]:
            return _trim(str(item["text"]), 1000)
    return _trim(turn.text, 1000) or "Customer requested a refund."


def _pick_charge(turn: _Turn) -> tuple[str | None, float | None]:
    """The order id to refund and, for a partial refund the customer asked for, the amount."""
    text = turn.text
    charges = turn.charges
    by_id = {str(c.get("order_id", "")).lower(): c for c in charges}
    amounts = extract_amounts(text)
    record = turn.record
    orders = extract_order_ids(text)
    if not orders and record.get("order_id") and not amounts:
        orders = extract_order_ids(str(record["order_id"])) or [str(record["order_id"])]
    if orders:
        order = orders[0]
        charge = by_id.get(order.lower())
        requested = None
        if charge is not None and amounts:
            full = float(charge.get("refundable_amount") or charge.get("amount") or 0)
            smaller = [a for a in amounts if 0 < a < full - 0.005]
            requested = smaller[0] if smaller else None
        return order, requested
    if not amounts and record.get("original_charge_amount") and not extract_dates(text, turn.today):
        amounts = [float(record["original_charge_amount"])]

    duplicate_words = _DUPLICATE_RE.search(text) or _DUPLICATE_RE.search(str(record.get("reason", "")))
    duplicates = [c for c in charges if c.get("duplicate_of")]
    if duplicate_words and duplicates:
        if amounts:
            fitting = [c for c in duplicates if any(abs(float(c.get("amount") or 0) - a) < 0.005 for a in amounts)]
            duplicates = fitting or duplicates
        return str(duplicates[0]["order_id"]), None  # charges are newest first

    criteria = text if extract_amounts(text) else f"{text} {' '.join(_money(a) for a in amounts)}"
    matched, _ = _match_charges(charges, criteria, turn.today)
    if len(matched) > 1:
        refundable = [c for c in matched if float(c.get("refundable_amount") or 0) > 0]
        matched = refundable if refundable else matched
    if len(matched) == 1:
        return str(matched[0]["order_id"]), None
    period = mentioned_period(text, turn.today)
    if period and not amounts:
        first, last = period
        in_month = [
            c
            for c in charges
            if (d := _as_date(c.get("charged_on"))) is not None
            and first <= d <= last
            and float(c.get("refundable_amount") or 0) > 0
        ]
        if len(in_month) == 1:
            return str(in_month[0]["order_id"]), None
    if _LATEST_RE.search(text) and not amounts:
        refundable = [c for c in charges if float(c.get("refundable_amount") or 0) > 0]
        if refundable:
            return str(refundable[0]["order_id"]), None
    return None, None


def _which_charge(turn: _Turn) -> str:
    if turn.account is None:
        return (
            "I can help with that refund. Which charge is it? Please give "
            "me the order id (like ord_123) from your invoice or receipt."
        )
    refundable = [c for c in turn.charges if float(c.get("refundable_amount") or 0) > 0][:5]
    asked = _criteria(turn.text, turn.today)
    intro = f"I couldn't match a single charge {asked}." if asked else "I can help with that refund."
    if not refundable:
        return f"{intro} I don't see any charges on your account that can still be refunded."
    listing = "; ".join(_charge_line(c) for c in refundable)
    return (
        f"{intro} Which charge would you like refunded? Your recent charges are: {listing}. Just tell me the order id."
    )


def _summarise_refund_result(result: _ToolResult, turn: _Turn) -> Reply:
    data = result.data
    if result.error or (isinstance(data, Mapping) and "error" in data) or not isinstance(data, Mapping):
        detail = data.get("error") if isinstance(data, Mapping) else data
        return Reply(
            text=(f"Sorry, I couldn't process that just now ({_trim(str(detail), 200)}). Which charge should I refund?")
        )
    if result.name == "lookup_charge":
        if data.get("status") == "found" and isinstance(data.get("charge"), Mapping):
            charge = data["charge"]
            if float(charge.get("refundable_amount") or 0) > 0 and turn.has("process_refund"):
                reason = _refund_reason(turn)
                return Reply(call=ToolCall("process_refund", {"order_id": str(charge["order_id"]), "reason": reason}))
            return Reply(text=_explain_charge(charge) + " There's nothing left on it that can be refunded.")
        order = data.get("order_id") or result.args.get("order_id")
        return Reply(text=f"I couldn't find an order {order} on your account. Could you check the id on your invoice?")
    status = data.get("status")
    order = data.get("order_id") or result.args.get("order_id")
    explanation = str(data.get("explanation") or "").strip()
    if status == "refunded":
        ref = f" Your refund reference is {data['refund_id']}." if data.get("refund_id") else ""
        return Reply(
            text=(
                f"Done: I've refunded {_money(data.get('amount'))} for {order}. "
                f"{explanation}{ref} It usually reaches your card within 5–10 business days."
            )
        )
    if status == "needs_approval":
        approval = data.get("approval") if isinstance(data.get("approval"), Mapping) else {}
        ref = f" (reference {approval.get('approval_id')})" if approval and approval.get("approval_id") else ""
        return Reply(
            text=(
                f"Your refund of {_money(data.get('amount'))} for {order} needs a manager's "
                f"approval{ref}. {explanation} You'll hear back in this conversation."
            )
        )
    if status == "not_found":
        return Reply(
            text=(
                f"I couldn't find an order {order} on your account. Could you "
                "check the id on your invoice, or tell me the date and amount?"
            )
        )
    return Reply(text=f"I'm sorry, I can't refund {order}. {explanation}".strip())


def _faq(turn: _Turn) -> Reply:
    text = turn.text
    small = _small_talk(text)
    if small:
        return Reply(text=_small_talk_reply(small))
    decision = turn.decision
    signals = turn.signals
    if decision.route == "human" and signals["human"] and turn.has("escalate_to_human"):
        return Reply(call=ToolCall("escalate_to_human", _escalation_record(text)))
    money_matter = decision.route in ("billing", "refund") and (
        signals[decision.route] >= FIRM_SIGNAL or extract_amounts(text) or extract_order_ids(text)
    )
    if money_matter and turn.has("transfer_to_triage"):
        return Reply(call=ToolCall("transfer_to_triage", _handback_record(text, decision.route)))
    if decision.route == "other" and turn.signals["other"] and not has_domain_signal(text):
        return Reply(text=_out_of_scope_reply())

    articles = _articles(turn)
    if articles is None:
        if turn.has("search_faq"):
            return Reply(call=ToolCall("search_faq", {"query": _trim(text, 500)}))
        articles = []
    question = text or str(turn.record.get("specific_question") or "")
    best = _best_article(articles, question)
    if best is None:
        return Reply(
            text="I'm sorry, I couldn't find an answer to that in our help center, and I'd rather not guess. "
            "Would you like me to connect you with a member of our support team?"
        )
    return Reply(text=_answer_from(best, question))


def _articles(turn: _Turn) -> list[dict[str, Any]] | None:
    for result in reversed(turn.results):
        if result.name == "search_faq" and isinstance(result.data, Mapping):
            found = result.data.get("articles")
            if isinstance(found, list):
                return [a for a in found if isinstance(a, dict)]
    return turn.knowledge


def _overlaps(words: set[str], units: Sequence[tuple[str, bool]]) -> list[int]:
    return [len(words & set(content_words(text))) for text, _ in units]


def _best_article(articles: Sequence[Mapping[str, Any]], question: str) -> Mapping[str, Any] | None:
    """The most relevant article, or None when none is relevant enough to answer from.

    Relevant means the retrieval score reaches `MIN_ARTICLE_SCORE` and the article covers most of the
    question's content words. Among relevant articles, the one with the sentence sharing most words
    with the question wins (words that occur together answer better than words scattered around).
    """
    words = set(content_words(question))
    if not words:
        return None
    best: tuple[int, int, float, int] | None = None
    chosen: Mapping[str, Any] | None = None
    for index, article in enumerate(articles):
        score = float(article.get("score") or 0)
        title, body = str(article.get("title", "")), str(article.get("body", ""))
        hits = len(words & set(content_words(f"{title} {body}")))
        if score < MIN_ARTICLE_SCORE or hits == 0:
            continue
        # A short question must be covered almost entirely; a long one may leave more words out.
        if hits < _needed_hits(len(words)):
            continue
        closest = max(_overlaps(words, article_sentences(body)), default=0)
        key = (closest, hits, score, -index)
        if best is None or key > best:
            best, chosen = key, article
    return chosen


def _needed_hits(words: int) -> int:
    """How many of a question's content words an article must contain to count as relevant."""
    if words <= 4:
        return max(1, math.ceil(0.6 * words))
    return min(math.ceil(0.5 * words), 3)


_HOW_TO_RE = re.compile(r"^\W*(?:how|where|what steps)\b|\bhow (?:do|can|to|would|should|does)\b|\bset ?up\b", re.I)
MAX_ANSWER_SENTENCES = 4


def _answer_from(article: Mapping[str, Any], question: str) -> str:
    """Two to four sentences of the article that best answer the question, in reading order.

    How-to questions get the most relevant list of steps (with one introductory sentence when
    there is room); other questions get the closest sentences, plus the list a sentence introduces
    ("limits are:").
    """
    title = article.get("title") or article.get("slug") or "our help center"
    words = set(content_words(question))
    units = article_sentences(str(article.get("body", "")))
    if not units:
        return f'Our help-center article "{title}" covers this.'
    overlap = _overlaps(words, units)
    chosen: set[int] = set()
    blocks = _step_blocks(units)
    if _HOW_TO_RE.search(question) and blocks:
        block = max(blocks, key=lambda b: (sum(overlap[i] for i in b), -b[0]))
        if sum(overlap[i] for i in block) > 0:
            intro = [i for i in range(len(units)) if not units[i][1] and overlap[i] > 0]
            before = [i for i in intro if i < block[0]]
            steps = block[: MAX_ANSWER_SENTENCES - (1 if intro else 0)]
            chosen.update(steps)
            if intro:
                chosen.add(max(before or intro, key=lambda i: (overlap[i], -i)))
    if not chosen:
        best = max(range(len(units)), key=lambda i: (overlap[i], -i))
        chosen.add(best)
        enough = max(2, (overlap[best] + 1) // 2)
        for index in sorted(range(len(units)), key=lambda i: (-overlap[i], i)):
            if len(chosen) >= MAX_ANSWER_SENTENCES or overlap[index] < enough:
                break
            chosen.add(index)
        if len(chosen) < 2:
            chosen.add(best + 1 if best + 1 < len(units) else max(best - 1, 0))
    answer = " ".join(_finish(units[i][0]) for i in _complete_lists(sorted(chosen), units))
    return f'{answer} (Source: help-center article "{title}".)'


def _complete_lists(chosen: list[int], units: Sequence[tuple[str, bool]]) -> list[int]:
    """A sentence ending in ":" introduces a list: add the list, or drop the sentence if there is no room."""
    result = list(chosen)
    for index in chosen:
        if not units[index][0].endswith(":"):
            continue
        follow = index + 1
        # List items are short, so a list may take the answer a little past the sentence budget.
        while follow < len(units) and units[follow][1] and len(result) < MAX_ANSWER_SENTENCES + 2:
            if follow not in result:
                result.append(follow)
            follow += 1
        if index + 1 not in result and len(result) > 1:
            result.remove(index)
    return sorted(result)


def _step_blocks(units: Sequence[tuple[str, bool]]) -> list[list[int]]:
    blocks: list[list[int]] = []
    for index, (_, step) in enumerate(units):
        if not step:
            continue
        if blocks and blocks[-1][-1] == index - 1:
            blocks[-1].append(index)
        else:
            blocks.append([index])
    return blocks


def _finish(sentence: str) -> str:
    sentence = sentence.strip()
    return sentence if sentence[-1:] in ".!?:" else sentence + "."


def _generic(turn: _Turn) -> Reply:
    small = _small_talk(turn.text)
    return Reply(text=_small_talk_reply(small) if small else _out_of_scope_reply())


_AGENTS: dict[Role, Callable[[_Turn], Reply]] = {
    "triage": _triage,
    "billing": _billing,
    "refund": _refund,
    "faq": _faq,
    "generic": _generic,
}


# --------------------------------------------------------------------------- forced tool calls


def _record_for(name: str, schema: Mapping[str, Any], turn: _Turn) -> dict[str, Any]:
    """Arguments for a tool the caller forced, filled from the message as the agents would."""
    params = schema.get("parameters") or {}
    props = set((params.get("properties") or {}).keys())
    text = turn.text
    if name == "transfer_to_billing" or {"issue_type", "summary"} <= props:
        args = _billing_record(text)
    elif name == "transfer_to_refund" or {"reason", "original_charge_amount"} <= props:
        args = _refund_record(text)
    elif name == "transfer_to_faq" or {"topic", "specific_question"} <= props:
        args = _faq_record(text)
    elif name == "escalate_to_human" or props == {"reason", "priority"}:
        args = _escalation_record(text)
    elif name == "transfer_to_triage" or props == {"reason"}:
        args = _handback_record(text, turn.decision.route)
    elif name == "search_faq":
        args = {"query": _trim(text, 500)}
    elif name == "change_plan":
        args = {"new_plan": extract_plan(text) or _proposed_plan(turn) or "pro"}
    elif name in ("process_refund", "lookup_charge"):
        order = _pick_charge(turn)[0] or next(iter(extract_order_ids(text)), "")
        args = {"order_id": order}
        if name == "process_refund":
            args["reason"] = _refund_reason(turn)
    elif name == "find_charges":
        amounts = extract_amounts(text)
        dates = extract_dates(text, turn.today)
        args = {"amount": amounts[0] if amounts else None, "date": dates[0].isoformat() if dates else None}
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
            args[key] = _trim(text, int(limit)) if limit else text
        elif kind in ("number", "integer"):
            amounts = extract_amounts(text)
            args[key] = amounts[0] if amounts and kind == "number" else 0
        elif kind == "boolean":
            args[key] = False
        elif kind == "array":
            args[key] = []
        elif kind == "object":
            args[key] = {}
    return args


def _forced_tool(tool_choice: Any, tools: Mapping[str, Any]) -> str | Literal["any", "none"] | None:
    """Normalise tool_choice: a tool name, "any" (some tool must be called), "none", or None (free)."""
    if tool_choice is None or tool_choice in ("auto", False):
        return None
    if tool_choice == "none":
        return "none"
    if tool_choice in ("any", "required", True):
        return next(iter(tools)) if len(tools) == 1 else "any"
    if isinstance(tool_choice, str):
        return tool_choice if tool_choice in tools else ("any" if tools else None)
    if isinstance(tool_choice, Mapping):
        function = tool_choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else tool_choice.get("name")
        if name in tools:
            return str(name)
        return "any" if tools else None
    return None


_FALLBACK_TOOLS = ("transfer_to_triage", "escalate_to_human", "search_faq")


def _decide(messages: Sequence[BaseMessage], tools: Sequence[Mapping[str, Any]], tool_choice: Any) -> Reply:
    turn = _parse_turn(messages, tools)
    forced = _forced_tool(tool_choice, turn.tools)
    reply = _AGENTS[_role(turn.tools)](turn)
    if reply.call is not None and reply.call.name not in turn.tools:
        reply = Reply(text=_out_of_scope_reply())  # defensive: only bound tools are ever called
    if forced is None:
        return reply
    if forced == "none":
        return reply if reply.call is None else Reply(text="Let me look into that for you.")
    if forced == "any":
        if reply.call is not None:
            return reply
        name = _any_tool(turn)
        return Reply(call=ToolCall(name, _record_for(name, turn.tools[name], turn)))
    if reply.call is not None and reply.call.name == forced:
        return reply
    return Reply(call=ToolCall(forced, _record_for(forced, turn.tools[forced], turn)))


def _any_tool(turn: _Turn) -> str:
    by_route = {
        "billing": "transfer_to_billing",
        "refund": "transfer_to_refund",
        "faq": "transfer_to_faq",
        "human": "escalate_to_human",
    }
    ranked = sorted((r for r in by_route if by_route[r] in turn.tools), key=lambda r: -turn.decision.scores.get(r, 0.0))
    if ranked:
        return by_route[ranked[0]]
    for name in _FALLBACK_TOOLS:
        if name in turn.tools:
            return name
    return next(iter(turn.tools))


# --------------------------------------------------------------------------- the chat model


def _tokens(chars: int) -> int:
    return math.ceil(chars / 4) if chars else 0


def _serialise(message: BaseMessage) -> str:
    payload: dict[str, Any] = {"type": message.type, "content": _message_text(message)}
    if isinstance(message, AIMessage) and message.tool_calls:
        payload["tool_calls"] = [{"name": c["name"], "args": c["args"], "id": c.get("id")} for c in message.tool_calls]
    if isinstance(message, ToolMessage):
        payload["tool_call_id"] = message.tool_call_id
    return json.dumps(payload, sort_keys=True, default=str)


class OfflineChatModel(BaseChatModel):
    """A deterministic chat model that plays the triage, billing, refund and FAQ agents offline.

    Bind the agent's tools with `bind_tools`; the bound tool names tell the model which agent it is.
    `with_structured_output` works through the default implementation, which forces a call to the
    schema's tool.
    """

    model_name: str = MODEL_NAME

    @property
    def _llm_type(self) -> str:
        return MODEL_NAME

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | dict[str, Any] | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (any form `convert_to_openai_tool` accepts) and an optional tool choice.

        Args:
            tools: The tools the model may call.
            tool_choice: None/"auto" (free), "none", "any"/"required" (must call one), or a tool name
                or {"type": "function", "function": {"name": ...}} to force that tool.
            **kwargs: Passed on to `bind`.

        Returns:
            A runnable whose calls see the tool schemas.
        """
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools: list[dict[str, Any]] = [dict(t) for t in kwargs.get("tools") or []]
        tool_choice = kwargs.get("tool_choice")
        reply = _decide(messages, tools, tool_choice)

        serialised = [_serialise(m) for m in messages]
        tools_json = json.dumps(tools, sort_keys=True, default=str)
        digest = hashlib.sha256(
            "\n".join([*serialised, tools_json, json.dumps(tool_choice, sort_keys=True, default=str)]).encode()
        ).hexdigest()
        input_chars = sum(len(_message_text(m)) for m in messages) + len(tools_json)
        input_chars += sum(
            len(json.dumps(m.tool_calls, default=str)) for m in messages if isinstance(m, AIMessage) and m.tool_calls
        )

        tool_calls = []
        if reply.call is not None:
            call_id = f"call_{int(digest[:12], 16) % 10**12}"
            tool_calls.append({"name": reply.call.name, "args": reply.call.args, "id": call_id, "type": "tool_call"})
        output_chars = len(reply.text) + sum(
            len(json.dumps(c["args"], default=str)) + len(c["name"]) for c in tool_calls
        )
        input_tokens, output_tokens = _tokens(input_chars), _tokens(output_chars)
        message = AIMessage(
            content=reply.text,
            tool_calls=tool_calls,
            usage_metadata={
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            },
            response_metadata={"model_name": self.model_name},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])
