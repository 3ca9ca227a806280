"""Pure, deterministic entity extraction from customer messages.

Everything here is regular expressions and small lexicons: amounts, plan names, sentiment, priority, billing
issue type and whether a message is a "yes". Order ids, dates and periods are read by `tools.mentions`, which
code uses too.
"""

from __future__ import annotations

import re
from typing import Literal

from graph.handoffs import Priority, Sentiment
from tools.amounts import read_amounts, words_to_digits
from tools.mentions import MONTH_ALONE_RE, extract_order_ids

__all__ = [
    "PLANS",
    "BillingIssue",
    "asks_about_current_plan",
    "asks_about_refund_policy",
    "asks_about_refund_status",
    "asks_for_refund_now",
    "billing_issue_type",
    "changes_mind",
    "detect_priority",
    "detect_sentiment",
    "extract_amounts",
    "extract_plan",
    "is_affirmative",
    "is_negative",
    "mentions_payment_card",
    "wants_cancellation",
]

BillingIssue = Literal["charge_dispute", "invoice_question", "payment_method", "plan_change"]
PLANS: tuple[str, ...] = ("free", "pro", "enterprise")

# --------------------------------------------------------------------------- amounts


def extract_amounts(text: str) -> list[float]:
    """Money amounts in the order they appear, read by the same code that caps refunds (`tools.amounts`).

    "$49.99", "49.99", "60 dollars", "twenty bucks", "sixty back", "refund 300" are amounts, and so is a figure
    pointed at like a charge ("that 899", "the 120 one"); plain integers without a currency or a request ("5
    seats", "ord_1234") are not, and ambiguous figures ("-$50") are left out. (Only this reading, which finds the
    charge meant, takes "that 899"; the reading that caps a refund at what was asked stays strict.)
    """
    amounts = read_amounts(text).amounts
    for match in _POINTED_RE.finditer(words_to_digits(text)):
        value = float(match.group(1))
        if value not in amounts:
            amounts.append(value)
    return amounts


_POINTED_RE = re.compile(
    r"\b(?:that|the|this)\s+(?!(?:19|20)\d\d\b)(\d{2,5}(?:\.\d{2})?)\b(?![.,]?\d)"  # not a year
    r"(?![\s-]*(?:\w+\s+)?(?:seats?|users?|members?|people|days?|weeks?|months?|years?|projects?|percent|%|st|nd|rd|th"
    r"|gb|mb)\b)",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------- plans

_PLAN_RE = re.compile(r"\b(free|pro|enterprise)\b(?![-\s]?rat)", re.IGNORECASE)
_TARGET_RE = re.compile(
    r"\b(?:to|onto|into|(?<!pay )(?<!paying )for|with|(?:put|get|have|set|keep|leave|move) (?:me|us|it"
    r"|(?:my|our|the) (?:account|workspace|team|subscription)) on)"
    r"\s+(?:the\s+|a\s+|an\s+)?(free|pro|enterprise)\b(?![-\s]?rat)",
    re.IGNORECASE,
)
_CURRENT_RE = re.compile(
    r"\b(?:from|on|currently|have|having|using|leave|leaving|off|pay|paying|pay for)\s+(?:the\s+|a\s+|an\s+|my\s+)?"
    r"(free|pro|enterprise)\b",
    re.IGNORECASE,
)


def extract_plan(text: str) -> str | None:
    """The plan the customer wants (free, pro or enterprise), if they name one.

    The plan after "to"/"onto"/"into" wins ("upgrade from Pro to Enterprise" -> "enterprise"). Plans
    named as the current one ("from Pro", "I'm on Pro") are skipped; otherwise the last plan named is
    returned. "Free" only counts next to plan words ("free plan", "free tier", "to free") so that
    "feel free" or "free of charge" do not switch anyone's plan.
    """
    lowered = text.lower()
    targets = [m.group(1) for m in _TARGET_RE.finditer(lowered) if _plan_word_ok(lowered, m.start(1))]
    if targets:
        return targets[0]
    current = {m.start(1) for m in _CURRENT_RE.finditer(lowered)}
    candidates = [
        m.group(1)
        for m in _PLAN_RE.finditer(lowered)
        if m.start(1) not in current and _plan_word_ok(lowered, m.start(1))
    ]
    return candidates[-1] if candidates else None


def _plan_word_ok(lowered: str, start: int) -> bool:
    if not lowered.startswith("free", start):
        return True
    before = lowered[max(0, start - 12) : start]
    after = lowered[start + 4 : start + 20]
    return bool(
        re.match(r"\s*(?:plan|tier|version|account)\b", after) or re.search(r"\b(?:to|onto)\s+(?:the\s+)?$", before)
    )


# --------------------------------------------------------------------------- sentiment and priority

_ANGRY = re.compile(
    r"\b(?:furious|livid|outrag\w*|ridiculous|unacceptable|disgust\w*|scam\w*|fraud\w*|rip[\s-]?off|thie[fv]\w*"
    r"|steal\w*|stole|worst|terrible|horrible|awful|pathetic|useless|incompetent|hate|angry|pissed|wtf|damn"
    r"|lawyer\w*|attorney|sue|suing|lawsuit|legal action|never again|joke of a)\b"
)
_FRUSTRATED = re.compile(
    r"\b(?:frustrat\w*|annoy\w*|disappoint\w*|upset|unhappy|not happy|confus\w*|fed up|sick of|tired of"
    r"|still (?:not|no|haven'?t|waiting|broken)|again|yet again|(?:second|third|fourth) time|waiting|ignored"
    r"|no (?:one|response|reply)|nobody|ugh|seriously|come on|not ok|not okay|problem|issue|wrong|mistake"
    r"|unexpected|don'?t recogni[sz]e|charged twice|double[\s-]?charged|chargeback)\b"
)
_POSITIVE = re.compile(
    r"\b(?:thanks?|thank you|thx|great|love|awesome|appreciate\w*|perfect|excellent|amazing|happy|glad"
    r"|wonderful|fantastic|brilliant|helpful|cheers)\b"
)
# Acronyms customers type in capitals without shouting.
_ACRONYMS = frozenset(
    {"SSO", "API", "USD", "EUR", "GBP", "CSV", "PDF", "VAT", "SAML", "FAQ", "ASAP", "URL", "ID", "OK"}
)

_URGENT = re.compile(
    r"\b(?:urgent\w*|asap|immediately|right now|right away|emergency|critical|today|at once"
    r"|as soon as possible|can'?t (?:work|access|log ?in)|locked out|blocked|outage"
    r"|production (?:is )?down)\b"
)
_LEGAL = re.compile(
    r"\b(?:lawyer\w*|attorney|sue|suing|lawsuit|legal action|court|chargeback|report you|fraud"
    r"|dispute (?:it |this )?with my bank)\b"
)
_RELAXED = re.compile(r"\b(?:no rush|whenever|no hurry|just curious|when you get a chance|not urgent)\b")


def _shouting(text: str) -> bool:
    words = re.findall(r"\b[A-Z]{3,}\b", text)
    return sum(word not in _ACRONYMS for word in words) >= 2


def detect_sentiment(text: str) -> Sentiment:
    """How the customer feels, from a small lexicon plus punctuation and capitals.

    Angry words (e.g. "unacceptable", "scam", "lawyer") give ANGRY; frustration words ("still",
    "again", "disappointed") give FRUSTRATED; thanks and praise give POSITIVE when nothing negative
    is said. Shouting (two or more all-caps words that are not acronyms) or "!!" raise a negative
    feeling one step, and turn a neutral message frustrated.
    """
    lowered = text.lower()
    angry = len(_ANGRY.findall(lowered))
    frustrated = len(_FRUSTRATED.findall(lowered))
    emphatic = _shouting(text) or "!!" in text or "?!" in text
    if angry:
        return Sentiment.ANGRY
    if frustrated:
        return Sentiment.ANGRY if emphatic and frustrated >= 2 else Sentiment.FRUSTRATED
    if emphatic:
        return Sentiment.FRUSTRATED
    if _POSITIVE.search(lowered):
        return Sentiment.POSITIVE
    return Sentiment.NEUTRAL


_SENTIMENT_BASE = {
    Sentiment.POSITIVE: 0,
    Sentiment.NEUTRAL: 1,
    Sentiment.FRUSTRATED: 2,
    Sentiment.ANGRY: 3,
}
# A priority score of 0 or less, 1, 2, 3, and 4 or more.
_PRIORITY_BY_SCORE = (Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.HIGH, Priority.CRITICAL)


def detect_priority(text: str, sentiment: Sentiment | str | None = None) -> Priority:
    """How urgent the message is.

    A score starts from the sentiment (detected from `text` when not given: positive 0, neutral 1,
    frustrated 2, angry 3), adds 1 for urgency words ("urgent", "immediately", "asap", "locked out"),
    adds 2 for legal or bank-dispute threats ("lawyer", "chargeback", "fraud") and subtracts 1 for
    "no rush". 0 or less is LOW, 1 MEDIUM, 2-3 HIGH, 4 or more CRITICAL.
    """
    feeling = Sentiment(sentiment) if sentiment is not None else detect_sentiment(text)
    lowered = text.lower()
    score = _SENTIMENT_BASE[feeling]
    if _URGENT.search(lowered):
        score += 1
    if _LEGAL.search(lowered):
        score += 2
    if _RELAXED.search(lowered):
        score -= 1
    return _PRIORITY_BY_SCORE[min(max(score, 0), 4)]


# --------------------------------------------------------------------------- billing issue type

_PLAN_CHANGE = re.compile(
    r"\b(?:upgrad\w*|downgrad\w*|plan|plans|tier|seats?|licen[cs]es?|subscription|cancel\w*|renew\w*|annual"
    r"|yearly|monthly billing|pricing|price|cost)\b|\b(?:free|pro|enterprise)\b"
)
_PLAN_VERB = re.compile(
    r"\b(?:upgrad\w*|downgrad\w*|switch\w*|change|changing|move|moving|cancel\w*|add|remove|go to|bump|drop"
    r"|how much|price|cost|difference|compare|more|extra|additional|fewer|put (?:me|us) on|lowest|cheapest)\b"
)
_INVOICE = re.compile(
    r"\b(?:invoice\w*|receipt\w*|vat|tax|bill|bills|billing history|past due|overdue|owe|outstanding|balance)\b"
)
_PAYMENT_METHOD = re.compile(
    r"\b(?:card on file|payment method\w*|credit card|debit card|cards?|visa|mastercard|amex|paypal"
    r"|bank account|bank transfer)\b"
)
# A card that expired or was declined is a payment-method problem even though a payment is mentioned.
_CARD_TROUBLE = re.compile(r"\b(?:expir\w*|declin\w*|bounc\w*|fail(?:ed|s|ing)|rejected|didn'?t go through)\b")
_DISPUTE = re.compile(
    r"\b(?:charge|charges|charged|billed|fee|fees|payment|transaction|took|debited|recogni[sz]e|unknown|explain"
    r"|what is this|what's this|why (?:was|did|is|am|have)|twice|double|duplicate|overcharg\w*|more than"
    r"|what(?: is|'s| was) (?:it|that)|on (?:my|our) (?:card|visa|mastercard|amex|statement|bank statement))\b"
)


# A question about the plan the customer has now: its name, price, features or next renewal.
_CURRENT_PLAN = re.compile(
    r"\b(?:my|our|current|present|existing)\s+(?:plan|tier|subscription)\b"
    r"|\b(?:which|what)\s+(?:plan|tier|subscription)\b"
    r"|\bplan (?:am i|are we|is (?:my|our|this) (?:account|workspace))\b"
    r"|\b(?:am i|are we) on\b[\w\s]{0,20}\b(?:plan|tier|billing|monthly|annual|yearly)\b"
    r"|\b(?:paying|pay|charged|billed)\b[\w\s]{0,15}\b(?:per|a|each|every) month\b"
    r"|\bnext (?:payment|charge|bill|billing date|renewal|invoice)\b"
    r"|\bwhen\b[\w\s']{0,25}\b(?:renew\w*|charge me|bill me|be charged|be billed)\b"
)
# Wording that asks for a change, not for information about the plan one has.
_CHANGE_VERB = re.compile(
    r"\b(?:upgrad\w*|downgrad\w*|switch\w*|change|changing|move|moving|cancel\w*|go (?:up|down|to)|bump|drop"
    r"|add|remove|more|extra|additional|fewer|pause|suspend|freeze)\b"
)
# Ending the subscription, as opposed to moving to another plan. Past forms ("I cancelled but ...") describe
# history that usually comes with a charge question, so only present wording counts.
_CANCEL = re.compile(
    r"\bcancel(?:ling|ing|lation)?\b|\bterminat(?:e|ing)\b|\b(?:pause|suspend|freeze)\b"
    r"|\b(?:stop|end) (?:my|our|the) (?:subscription|plan|membership)\b"
)
# Wording that means ending the subscription on its own, with no subscription word needed.
_CANCEL_ALONE = re.compile(
    r"\bclose (?:my|our|the) (?:account|subscription)\b|\bunsubscribe\b|\bstop (?:charging|billing) (?:me|us)\b"
    r"|\b(?:done|finished) with (?:acme|you|your (?:product|service|app))\b"
    r"|^\W*(?:how (?:do|can) (?:i|we) |(?:i|we)\s*(?:want|need|would like|'?d like) to |please )?"
    r"cancel\W*(?:it|now|please)?(?:\W*$|\s*[?.!])"
)
_SUBSCRIPTION_WORDS = re.compile(r"\b(?:subscri\w*|plan|tier|account|membership|workspace|renew\w*)\b")


def asks_about_current_plan(text: str) -> bool:
    """Whether the message asks about the plan the customer is on (name, price, features, next charge).

    A request to change plan, a named target plan, an amount or an order id make it something else: a
    plan change or a question about one charge.
    """
    lowered = text.lower()
    if extract_amounts(text) or extract_order_ids(text) or _CHANGE_VERB.search(lowered) or mentions_payment_card(text):
        return False  # "which card is billed for our subscription?" asks about the card
    return bool(_CURRENT_PLAN.search(lowered)) and extract_plan(text) is None


def wants_cancellation(text: str) -> bool:
    """Whether the customer asks to cancel, pause or stop the subscription, not to move to a named plan.

    "Cancel that" and "cancel my order" are not cancellations of the subscription; neither is a message
    about a charge ("charged after I cancelled") or one that names the plan to move to.
    """
    lowered = text.lower()
    if _TARGET_RE.search(lowered) or re.search(r"\b(?:charged|billed|charge|refund\w*)\b", lowered):
        return False
    if _CANCEL_ALONE.search(lowered):
        return True
    return bool(_CANCEL.search(lowered) and _SUBSCRIPTION_WORDS.search(lowered))


# How refunds work in general, as opposed to asking for one: "what's your refund policy?", "how long do refunds
# take?". A request ("can I get", "please") or a specific charge makes it a refund request instead.
_REFUND_INFO = re.compile(
    r"\b(?:polic(?:y|ies)|rules?|how long|how many days|how soon|take to|eligib\w*|work|works|allowed|entitled"
    r"|in general|general question|(?:get|be|always|ever) refunded|go(?:es)? back to|straight away|automatic\w*)\b"
    r"|\b(?:do|does) (?:you|acme) (?:give|offer|do|provide|allow)\b"
)
_QUESTION_START = re.compile(
    r"(?:^|[.!?]\s)\W*(?:what|whats|how|when|do|does|is|are|can you (?:explain|tell)|tell me about|where can i read)\b"
)
_REQUEST = re.compile(
    r"\b(?:can i|could i|may i|can we|could we|i want|i need|i'?d like|please|give me|want my|get my"
    r"|my (?:money|payment|charge))\b"
)
# Whether money already came back: "did you refund me?", "has my refund gone through?".
_REFUND_STATUS = re.compile(
    r"\b(?:did|have|has|was|were|is)\b[\w\s']{0,25}\brefunded\b|\b(?:did|have|has)\s+(?:you|it|my refund)\b"
    r"[\w\s']{0,30}\b(?:refund\w*|gone through|go through|come through|arrived?|processed)\b"
    # "Is the $20 you gave back done already?"
    r"|^\W*(?:is|was|has) (?:the|my|that)\b[^?]{0,60}\b(?:done|through|processed|completed?|sent)\b(?: already)?\W*\?"
    r"|\brefund status\b|\bstatus of my refund\b|\bwhere(?:'?s| is) my refund\b|\bany refunds?\b(?! later)"
    r"|\bany (?:news|updates?|word)\b|\b(?:approved|decided) yet\b"
    r"|\bhow long (?:will|does|do|would) (?:the|your|a) manager\b"
)


def asks_about_refund_policy(text: str) -> bool:
    """Whether the message asks how refunds work in general, not for a refund of a charge."""
    lowered = text.lower()
    if not re.search(r"\brefund\w*\b", lowered) or extract_order_ids(text):
        return False
    # "Can the november one be refunded instead?" names a charge; "would I get money back for November?" asks.
    if MONTH_ALONE_RE.search(lowered) and "may" not in lowered.split() and not _HYPOTHETICAL.search(lowered):
        return False
    # An amount names a charge ("refund my $20"), unless the question is about the policy for such amounts.
    general = r"\bpolic(?:y|ies)\b|\brules?\b|\bin general\b|\bgeneral question"
    if extract_amounts(text) and not re.search(general, lowered):
        return False
    return bool(_QUESTION_START.search(lowered) and _REFUND_INFO.search(lowered) and not _REQUEST.search(lowered))


# "Don't do anything yet, just explain": the customer wants to understand before deciding.
_HOLD_OFF = re.compile(
    r"\b(?:don'?t (?:do|change|refund|touch) any\w*|do nothing|not (?:\w+ing )?(?:just )?yet"
    r"|just (?:explain|tell me|curious|wondering|asking|want to (?:know|understand))|explain only"
    r"|before (?:you|we) (?:touch|do|change|start|refund) any\w*"
    r"|only (?:explain|asking|wondering)|hypothetical\w*|before i decide|for now just|not (?:right )?now)\b"
    r"|\b(?:don'?t|do not)\b[\w\s']{0,25}\byet\b"
)
# A question about what would happen ("would I need a manager?", "if I asked for my money back, how long ...").
_HYPOTHETICAL = re.compile(
    r"\b(?:if (?:i|we) (?:asked|ask|wanted|want|requested|request|were to|did)|"
    r"would (?:i|we|it|that|this|a refund|the refund|refunding \w+)\b[\w\s'-]{0,30}?"
    r"\b(?:need|require|take|be|get|have|go|look like)\b|"
    r"(?:do|does|will) (?:i|we|it|that|this|a refund) (?:need|require) (?:a )?(?:manager|approval)|"
    r"(?:do|does|would|will) (?:a|the) manager (?:have to|need to|sign|approve|look)|"
    r"if (?:i|we)\b[^.?!]{0,40}\b(?:do|does|would|will|can) (?:i|we)\b|"
    r"is (?:it|that|this) (?:even )?(?:possible|allowed|eligible)|(?:am i|are we|is it|is that) eligible|"
    r"what(?:'s| is) your (?:refund )?policy|how long (?:would|does|will|do|did) "
    r"|what(?:'?s| is) the (?:most|max\w*|limit)"
    r"|how much\b[^.?!]{0,40}\b(?:can|could|would|is|are)\b[^.?!]{0,30}\b(?:refund\w*|back|left))"
)
_TIMING = re.compile(
    r"\bhow long\b|\bhow many days\b|\bwhen (?:would|will|do|does|can|should) (?:it|the|my|i|that|this|we)\b"
    r"|\b(?:show up|land|arrive|appear|hit) (?:on|in) (?:my|our|the)\b"
)


# "Never mind, keep it", "let's not change anything": the customer takes a request back.
_CHANGED_MIND = re.compile(
    r"\b(?:never ?mind|forget (?:it|that|about it)|keep it|leave it(?: as it is)?|don'?t bother|no need"
    r"|changed my mind|let'?s not (?:change|do|switch|move)|(?:we'?ll|i'?ll) stay on)\b"
)


def changes_mind(text: str) -> bool:
    """Whether the customer takes back what they asked for ("never mind", "let's not change anything")."""
    return bool(_CHANGED_MIND.search(text.lower().replace("\u2019", "'")))


def holds_off(text: str) -> bool:
    """Whether the customer asks to understand first and not to act yet."""
    return bool(_HOLD_OFF.search(text.lower().replace("\u2019", "'")))


def asks_what_would_happen(text: str) -> bool:
    """Whether the message asks about an outcome ("would it need a manager?") rather than asking for it."""
    return bool(_HYPOTHETICAL.search(text.lower().replace("\u2019", "'")))


# "If I asked ...", "would that need a manager?": a hypothetical, even when it says "my money back".
_IF_RE = re.compile(r"\bif (?:i|we)\b|\bwould (?!like)")


def asks_for_refund_now(text: str) -> bool:
    """Whether the message itself asks for money back ("please refund ...", "can I get $20 back"), not "if I asked"."""
    lowered = text.lower()
    return bool(
        _REQUEST.search(lowered)
        and re.search(r"\b(?:refund\w*|back|reverse\w*)\b", lowered)
        and not _IF_RE.search(lowered)
    )


def asks_about_timing(text: str) -> bool:
    return bool(_TIMING.search(text.lower()))


def asks_about_refund_status(text: str) -> bool:
    """Whether the message asks whether a refund already happened ("did you refund me?"), not for a new one."""
    return bool(_REFUND_STATUS.search(text.lower()))


def billing_issue_type(text: str) -> BillingIssue:
    """Classify a billing message into the four kinds the billing specialist handles.

    A named plan change ("upgrade", "switch to Pro", "add seats") is `plan_change`; a question about
    a specific charge or amount is `charge_dispute`; invoices, receipts and VAT are
    `invoice_question`; the card on file is `payment_method`. Ties fall back to `charge_dispute`,
    the most common reason to contact billing.
    """
    lowered = text.lower()
    has_amount = bool(extract_amounts(text))
    plan = bool(_PLAN_CHANGE.search(lowered)) and (bool(_PLAN_VERB.search(lowered)) or extract_plan(text) is not None)
    dispute = len(_DISPUTE.findall(lowered)) + (1 if has_amount else 0)
    invoice = len(_INVOICE.findall(lowered))
    payment = len(_PAYMENT_METHOD.findall(lowered)) + 2 * len(_CARD_TROUBLE.findall(lowered))
    if re.search(r"\b(?:which|what) (?:card|visa|mastercard|amex)\b", lowered):  # "which card is charged for it?"
        return "payment_method"
    if asks_about_current_plan(text) or wants_cancellation(text):
        return "plan_change"
    if plan and not (has_amount and dispute >= 2):
        return "plan_change"
    if invoice and invoice >= dispute - 1:
        return "invoice_question"
    wants_update = re.search(r"\b(?:update|change|replace|swap|new|add)\b", lowered)
    if payment and (payment > dispute or (not has_amount and wants_update)):
        return "payment_method"
    # Any invoice or card wording without dispute wording has already been answered above.
    return "charge_dispute"


# --------------------------------------------------------------------------- yes / no

_NEGATIVE = re.compile(
    r"\b(?:no|nope|nah|don'?t|do not|not|never|cancel|stop|wait|hold on|hold off|changed my mind|rather not"
    r"|negative)\b"
)
_AFFIRMATIVE = re.compile(
    r"^(?:yes|yeah|yep|yup|ya|yes please|sure|sure thing|go ahead|go for it|confirm|confirmed|i confirm"
    r"|do it|please do|lets do it|let's do it|sounds good|absolutely|definitely|correct|that'?s right"
    r"|that'?s correct|agreed|affirmative|proceed|please proceed|of course|y)\b"
)


def is_negative(text: str) -> bool:
    """Whether a short reply declines ("no", "don't", "wait", "cancel that")."""
    return bool(_NEGATIVE.search(text.lower()))


def is_affirmative(text: str) -> bool:
    """Whether the message agrees to what was just proposed.

    True for replies that start with a yes-phrase ("yes", "yes please", "sure", "go ahead",
    "confirm", "do it", "sounds good") or that are short and contain one, as long as nothing
    declines ("no", "don't", "wait", "cancel").
    """
    lowered = re.sub(r"[^\w\s']", " ", text.lower()).strip()
    lowered = re.sub(r"^(?:oh|well|um+|hmm+|hi|hey|ok so)\s+", "", lowered)
    if not lowered or is_negative(lowered):
        return False
    if _AFFIRMATIVE.match(lowered):
        return True
    words = lowered.split()
    return len(words) <= 6 and any(_AFFIRMATIVE.match(" ".join(words[i:])) for i in range(len(words)))


# "my card", "our Visa", "the amex on file": a payment card the customer pays with.
_PAYMENT_CARD = re.compile(
    r"\b(?:my|our)\s+(?:(?:credit|debit|company|business)\s+)?(?:card|visa|mastercard|amex|discover)\b"
    r"|\b(?:card|visa|mastercard|amex)\s+on\s+file\b"
    r"|\b(?:which|what) (?:card|visa|mastercard|amex)\b"
    r"|\b(?:card|visa|mastercard|amex) (?:is )?on (?:my|our) account\b",
    re.IGNORECASE,
)


def mentions_payment_card(text: str) -> bool:
    """Does the message speak of the customer's own payment card?"""
    return _PAYMENT_CARD.search(text) is not None
