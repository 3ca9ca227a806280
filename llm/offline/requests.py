"""Messages that ask two things at once: "refund the add-on, and how do I turn on 2FA?".

Triage hands the first request to its specialist and names the other in the handoff record's `also`
field; the graph answers it right after (`nodes.next_request`). Only a clause that clearly belongs to
another specialist counts, so one request told in several sentences stays one request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from llm.entities import billing_issue_type
from llm.offline.smalltalk import small_talk
from llm.router import FIRM_SIGNAL, classify, rule_signals
from tools.mentions import MONTH_NAMES

Corrector = Callable[[str, str, Mapping[str, float]], str]

__all__ = ["action_last", "other_request"]

# Sentence ends and the words that start another request ("also", "and another thing", "oh and").
_SPLIT_RE = re.compile(
    r"(?<=[.?!])\s+|\s*\b(?:and also|also|plus|oh and|and another thing|another thing|btw|by the way)\b[\s,:]*"
    r"|,\s*and\s+(?=(?:how|what|when|where|why|can|could|is|are|do|does|will|refund|cancel|change|update|switch"
    r"|upgrade|downgrade|move|put|send|give)\b)",
    re.IGNORECASE,
)
_SPECIALISTS = ("billing", "refund", "faq", "human")
# A clause that asks (a question or a request), as opposed to one that describes the problem the request is about
# ("There are two charges on my card. Give me the extra one back." is one request).
_ASKS_RE = re.compile(
    r"\?\s*$|(?:^|[:;]\s*)\W*(?:how|what|whats|when|where|why|which|who|can|could|would|will|do|does|is|are|please|pls|plz"
    r"|i (?:want|need|would like)|i'?d like|we (?:want|need)|give|send|refund|cancel|change|update|switch|upgrade"
    r"|downgrade|tell me|show me|help me|put me|move me|also)\b",
    re.IGNORECASE,
)


_QUESTION_RE = re.compile(r"\?|^\W*(?:how|what|whats|when|where|why|which|who|can|could|is|are|do|does)\b", re.I)


def _route(clause: str, correct: Corrector) -> str | None:
    """The specialist a clause clearly asks for, or None (small talk, too vague, out of scope)."""
    if small_talk(clause) or len(clause.split()) < 3:
        return None
    decision, signals = classify(clause), rule_signals(clause)
    route = correct(clause, decision.route, signals)
    if route not in _SPECIALISTS:
        return None
    clear = route != decision.route or signals[route] >= FIRM_SIGNAL or decision.confidence >= 0.7
    return route if clear else None


# "Refund the add-on, and the old pro charge too": a second charge for the same request, named after a comma.
_SECOND_CHARGE_RE = re.compile(
    r",?\s*\band (?=(?:the|my|that|this|also|ord_\d+|inv_\d+)\b[^,.?!]*"
    rf"\b(?:charge|subscription|sub|add-?on|fee|payment|pack|session|invoice|one|ord_\d+|inv_\d+)\b|(?:{MONTH_NAMES})\b)",
    re.IGNORECASE,
)
_STATEMENT_RE = re.compile(r"\b(?:is|was|are|were|has|have|had|looks?|seems?|shows?|says?)\b", re.IGNORECASE)


# "September and October", "aug, sep and oct": several months' charges in one request.
_MONTHS_RE = re.compile(
    rf"\b(?:{MONTH_NAMES})\b((?:\s*(?:,|and|&|\+)\s*(?:and\s+)?(?:also\s+)?(?:the\s+)?(?:{MONTH_NAMES})\b)+)",
    re.IGNORECASE,
)


def _second_refund(text: str) -> str | None:
    """A second charge to refund named in the same breath, as a request of its own ("refund the other charge")."""
    if (months := _MONTHS_RE.search(text)) is not None:  # the first month now, the others next
        return "refund " + " and ".join(re.findall(MONTH_NAMES, months.group(1), re.IGNORECASE))
    pieces = [p.strip() for p in _SECOND_CHARGE_RE.split(text, maxsplit=1) if p and p.strip()]
    if len(pieces) < 2 or not rule_signals(pieces[0])["refund"]:
        return None
    # The second charge up to the end of its clause ("also the december payment, we never used it").
    second = re.sub(r"^(?:also|please|refund)\s+", "", re.split(r"[,.;!?]", pieces[1])[0].strip(), flags=re.I)
    # "And the invoice is wrong" says something about a charge; it names no second one to refund.
    return None if not second or _STATEMENT_RE.search(second) else f"refund {second}"  # the verb said once, for both


def other_request(text: str, route: str, correct: Corrector) -> str | None:
    """The part of ``text`` asking another specialist than ``route`` for something, in the customer's words.

    ``correct`` adjusts the router's route of a clause the way triage adjusts it for a whole message. Two
    charges in one refund request ("refund the add-on, and the old pro charge too") are two requests as well.
    """
    pieces = [p.strip() for p in _SPLIT_RE.split(text) if p and p.strip()]
    if route == "refund" and (second := _second_refund(text)) is not None:
        return second
    if len(pieces) < 2:
        return None
    routes = [_route(p, correct) for p in pieces]
    if route not in routes:  # the first request is not one of the clauses: don't guess at a second
        return None
    # "We need SSO. Move us to the plan that has it": a need stated for the help center is not a question of its own.
    asks = [
        bool(_ASKS_RE.search(p)) and (r != "faq" or _QUESTION_RE.search(p) is not None)
        for p, r in zip(pieces, routes, strict=True)
    ]
    start = next((i for i, r in enumerate(routes) if r not in (None, route) and asks[i]), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(pieces)) if routes[i] == route), len(pieces))
    return " ".join(pieces[start:end])


# A request that only points back at what the rest of the message described: "give it back", "refund that pls".
_POINTER_RE = re.compile(
    r"^\W*(?:(?:so|then|and|just|please|pls)\s+)*(?:give|send|pay|put|refund|reverse)\s+(?:it|that|this|them)"
    r"(?:\s+back)?(?:\s+(?:please|pls|now|asap))?\W*$",
    re.IGNORECASE,
)


def action_last(text: str, route: str, other: str | None, correct: Corrector) -> tuple[str, str | None]:
    """Which request of a two-request message goes first, and which is named to come next.

    A question asked next to a refund or a plan change is answered first, and the change is proposed last: the
    customer's next "yes" then answers the proposal they have just read, and the thread ends with it.
    """
    if other is None or other not in text or route not in ("refund", "billing"):
        return route, other
    action = " ".join(text.replace(other, " ").split())
    if route == "billing" and billing_issue_type(action) != "plan_change":
        return route, other
    if _POINTER_RE.match(action):  # "why twice? give it back": one request about the charge just described
        return route, None
    first = _route(other, correct)
    return (first, action) if first in ("faq", "billing") and first != route else (route, other)
