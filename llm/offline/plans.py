"""Plans for the billing agent: the plan the customer is on, which plan is wanted, what a change costs, cancelling,
and seat questions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from itertools import pairwise
from typing import Any

from llm.entities import PLANS, extract_plan, holds_off, is_affirmative
from llm.offline.records import handback_record
from llm.offline.turn import Reply, ToolCall, Turn
from llm.offline.wording import as_date, money, nice_date
from llm.router import asks_in_general
from llm.text import salient_terms
from tools.plans import features_lost, included_features

__all__ = ["cancellation", "current_plan", "next_renewal", "plan_change"]

_OFFER_RE = re.compile(r'say "switch me to (\w+)"', re.I)

# Words of a plan question that are not a feature ("does my plan include SSO?" asks about "SSO").
_PLAN_TERMS = salient_terms("plan plans tier subscription include includes included feature features come with offer")


def _plan_by_id(account: Mapping[str, Any], plan_id: str) -> Mapping[str, Any] | None:
    plans = [*_catalogue(account), account.get("plan")]  # the catalogue first
    return next((p for p in plans if isinstance(p, Mapping) and _plan_id(p) == plan_id), None)


def _plan_id(plan: Mapping[str, Any]) -> str | None:
    """A plan's id as the plan names are written ("pro"), or None when it has none."""
    return str(plan.get("id", "")).lower() or None


_GO_RE = re.compile(r"\b(?:go ahead|do it|switch|move)\b")
_CHEAPEST_RE = re.compile(r"\b(?:lowest|cheapest|smallest|basic|least expensive)\b")
_DEAREST_RE = re.compile(r"\b(?:highest|top|biggest|most expensive|best)\b (?:plan|tier|one)")


def _plan_described(account: Mapping[str, Any], lowered: str) -> str | None:
    """The plan a request describes instead of naming: the cheapest or dearest, or the cheapest with a feature."""
    plans = sorted(_catalogue(account), key=lambda p: float(p.get("monthly_price") or 0))
    chosen: Mapping[str, Any] | None = None
    if plans and _CHEAPEST_RE.search(lowered):
        chosen = plans[0]
    elif plans and _DEAREST_RE.search(lowered):
        chosen = plans[-1]
    elif re.search(r"\b(?:includ\w*|has|have|with)\b", lowered):
        asked = salient_terms(lowered) - _PLAN_TERMS
        chosen = next(
            (p for p in plans if asked and any(asked & salient_terms(f) for f in _features(account, p))), None
        )
    return _plan_id(chosen) if chosen is not None else None


def plan_change(turn: Turn) -> Reply:
    """Quote a change to the plan the customer names (or the next one up or down), ending with "reply yes"."""
    text = turn.text
    account = turn.account or {}
    target = extract_plan(text)
    lowered = text.lower()
    # "Yes, do it" or "ok, go ahead and switch us over" to 'say "switch me to Enterprise"' just offered.
    if target is None and (is_affirmative(text) or _GO_RE.search(lowered)):
        target = extract_plan(" ".join(_OFFER_RE.findall(turn.last_agent_text())))
    if target is None and _REQUEST_RE.search(lowered):  # "the lowest plan", "whichever plan includes SSO"
        target = _plan_described(account, lowered)
    current_id = _plan_id(account.get("plan") or {})
    if target is None and current_id in PLANS:
        # "Upgrade me" names no plan; it means the one plan above, and is a guess when there are two.
        position = PLANS.index(current_id)
        above, below = PLANS[position + 1 :], PLANS[:position]
        if re.search(r"\bupgrad\w*\b", lowered) and len(above) == 1:
            target = above[0]
        elif re.search(r"\bdowngrad\w*\b", lowered) and len(below) == 1:
            target = below[0]
    current = account.get("plan") or {}
    current_name = current.get("name") or str(current_id or "current").title()
    current_price = float(current.get("monthly_price") or 0)
    if target in (None, current_id) and re.search(
        r"\b(?:seats?|members?|users?|licen[cs]es?|teammates?|team|people|enough)\b", lowered
    ):
        return Reply(text=_seat_answer(account))
    if target is None:
        options = ", ".join(f"{p.get('name')} ({money(p.get('monthly_price'))}/month)" for p in _catalogue(account))
        return Reply(
            text=(
                f"You're on the {current_name} plan at "
                f"{money(current_price)}/month. The plans are: {options}. "
                "Which one would you like to move to?"
            )
        )
    if target == current_id:
        return Reply(
            text=(
                f"You're already on the {current_name} plan "
                f"({money(current_price)}/month), so there's nothing to change."
            )
        )
    plan = _plan_by_id(account, target)
    if plan is None:
        return Reply(
            text=(f"I couldn't find a {target.title()} plan in our catalogue. The plans are Free, Pro and Enterprise.")
        )
    if _only_asks(text):
        difference = float(plan.get("monthly_price") or 0) - current_price
        lost = features_lost(current.get("features") or [], plan.get("features") or [], _by_name(account))
        today = (account.get("switch_today") or {}).get(target)
        return Reply(text=_describe_plan(plan, current_name, difference, lost, today))
    # Code quotes the change (prices, proration, renewal) and waits for the customer's yes.
    return Reply(call=ToolCall("propose_plan_change", {"new_plan": target}))


def _seat_answer(account: Mapping[str, Any]) -> str:
    """What the current plan includes for members, and the next plan up when more is needed."""
    current = account.get("plan") or {}
    name = current.get("name") or "current"
    features = ", ".join(current.get("features") or []) or "no listed extras"
    text = (
        f"Your {name} plan ({money(current.get('monthly_price'))}/month) includes: {features}. "
        "Owners and admins add people under Settings → Members."
    )
    above = dict(pairwise(PLANS)).get(_plan_id(current) or "")
    bigger = _plan_by_id(account, above) if above else None
    if bigger is not None:
        extras = ", ".join(bigger.get("features") or [])
        text += (
            f" If you need more than that, the {bigger.get('name')} plan is "
            f"{money(bigger.get('monthly_price'))}/month and includes: {extras}."
            f' Just say "upgrade me to {bigger.get("name")}" and I\'ll give you the exact difference.'
        )
    return text


def next_renewal(turn: Turn) -> date | None:
    """The next monthly charge, as the account says (computed by `tools.plans`)."""
    return as_date((turn.account or {}).get("next_renewal"))


def current_plan(turn: Turn) -> Reply:
    """What the customer's plan is, costs and includes, when it renews, and whether it has the feature asked about."""
    account = turn.account or {}
    current = account.get("plan") or {}
    name = str(current.get("name") or "current")
    features = _features(account, current)
    asked = salient_terms(turn.text) - _PLAN_TERMS
    head = f"You're on the {name} plan at {money(current.get('monthly_price'))}/month."
    # "What's the API rate limit on our tier?" names a feature but asks about more than the plan lists.
    listed = frozenset().union(*(salient_terms(f) for p in _catalogue(account) for f in _features(account, p)))
    if asked & listed and len(asked - listed) >= 2 and turn.has("transfer_to_triage"):
        return Reply(call=ToolCall("transfer_to_triage", handback_record(turn.text, "faq")))
    answer = _feature_answer(account, name, features, asked) if asked else None
    if answer:
        return Reply(text=f"{head} {answer}")
    if asked and asks_in_general(turn.text) and turn.has("transfer_to_triage"):  # no plan lists it: the help center
        return Reply(call=ToolCall("transfer_to_triage", handback_record(turn.text, "faq")))
    text = f"{head} It includes: {', '.join(features)}." if features else head
    renewal = next_renewal(turn)
    if renewal is not None and float(current.get("monthly_price") or 0) > 0:
        text += f" Your next monthly charge is due on {nice_date(renewal)}."
    return Reply(text=text)


def _catalogue(account: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [p for p in account.get("available_plans") or [] if isinstance(p, Mapping)]


def _features(account: Mapping[str, Any], plan: Mapping[str, Any]) -> list[str]:
    """Everything the plan includes, "Everything in Pro" read as Pro's features (`tools.plans`)."""
    return included_features([str(f) for f in plan.get("features") or []], _by_name(account))


def _by_name(account: Mapping[str, Any]) -> dict[str, list[str]]:
    return {str(p.get("name", "")).lower(): [str(f) for f in p.get("features") or []] for p in _catalogue(account)}


def _feature_answer(account: Mapping[str, Any], name: str, features: list[str], asked: frozenset[str]) -> str | None:
    """Whether the plan has a feature the customer named, and which plan has it if not; None if no plan lists it."""
    have = [f for f in features if asked & salient_terms(f)]
    if have:
        return f"Yes, it includes {', '.join(have)}."
    for plan in _catalogue(account):
        if plan.get("name") == name:
            continue
        offered = [f for f in _features(account, plan) if asked & salient_terms(f)]
        if offered:
            return (
                f"It doesn't include {', '.join(offered)}; the {plan.get('name')} plan "
                f"({money(plan.get('monthly_price'))}/month) does. "
                f'Say "switch me to {plan.get("name")}" if you\'d like a quote for the change.'
            )
    return None


def cancellation(turn: Turn) -> Reply:
    """What cancelling means (no refund, no promise), and the alternative of the Free plan, to confirm with "yes"."""
    account = turn.account or {}
    current = account.get("plan") or {}
    current_id = _plan_id(current)
    how = "an owner or billing admin uses Settings → Billing → Plan → Cancel subscription"
    if current_id == "free":
        return Reply(text="You're on the Free plan, so there is nothing to cancel and nothing is charged.")
    name = str(current.get("name") or "paid")
    renewal = next_renewal(turn)
    until = f" ({nice_date(renewal)})" if renewal else ""
    # The offer must fit in the first 300 characters: the history block keeps only that much of a reply.
    return Reply(
        text=(
            f"To cancel, {how}. Your {name} plan stays active until the end of the paid period{until}; "
            "then nothing more is charged and your data is kept. "
            'Or, to pay nothing from now on, say "switch me to Free".'
        )
    )


# Asking what a plan is ("what's in Enterprise?", "how much is Pro?") as opposed to asking to move to it.
_ASKS_RE = re.compile(
    r"^\W*(?:what|whats|what's|which|how much|how does|how do|does|do|is|are|tell me)\b"
    r"|\b(?:include[sd]?|difference|compare[sd]?|comparison|vs|versus|give[sn]? (?:us|me))\b"
)
_REQUEST_RE = re.compile(
    r"\b(?:switch|move|moving|upgrad\w*|downgrad\w*|change|put (?:me|us)|sign (?:me|us) up|want|wants|would like"
    r"|'?d like|need|please|go (?:up|down|to)|take)\b"
)


# "How much would I save if we moved to Free?": a question about what a change would mean, whatever its verbs.
_WOULD_RE = re.compile(
    r"\b(?:would (?:i|we|it|that|my|our|the|a|an|\w+ing)|if (?:i|we)|what happens|thinking about"
    r"|when (?:you|i|we|people)|how much (?:is it |would it cost |does it cost )?to)\b"
)


def _only_asks(text: str) -> bool:
    lowered = text.lower()
    if holds_off(text) or _WOULD_RE.search(lowered):
        return True
    # "Price to move to Pro?" asks; "upgrade me to Pro. what will it cost?" asks for the change first.
    sentences = re.split(r"(?<=[.!?])\s+", lowered)
    told = any(_REQUEST_RE.search(s) and not s.rstrip().endswith("?") for s in sentences)
    if "?" in lowered and re.search(r"\b(?:price|prices|cost|costs|quote)\b", lowered) and not told:
        return True
    return bool(_ASKS_RE.search(lowered)) and not _REQUEST_RE.search(lowered)


def _describe_plan(
    plan: Mapping[str, Any], current_name: str, difference: float, lost: list[str], today: float | None
) -> str:
    """What another plan costs and includes, with the offer to switch first (the history keeps a reply's start)."""
    name = plan.get("name")
    change = "more" if difference >= 0 else "less"
    features = ", ".join(str(f) for f in (plan.get("features") or [])[:6])
    text = f"The {name} plan is {money(plan.get('monthly_price'))}/month, {money(abs(difference))} {change} than your "
    text += f"{current_name} plan."
    if today:  # prorated by code (the account's switch_today) for the rest of this billing period
        text += f" Switching today would {'add' if today > 0 else 'credit'} {money(abs(today))} "
        text += f"{'to' if today > 0 else 'on'} your next invoice for the rest of this billing period."
    text += f' Say "switch me to {name}" if you\'d like a quote for the change.'
    if features:
        text += f" It includes: {features}."
    if lost:
        text += f" Compared with {current_name} you'd lose {', '.join(lost[:4])}."
    return text
