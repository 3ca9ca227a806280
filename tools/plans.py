"""Plan facts as pure functions over verified account data: renewal dates, proration, what a change costs.

Every figure a customer reads about a plan change (the price difference, the prorated amount on
the next invoice, the renewal date, what is gained and lost) is computed here, once, for every
model. Dates come from the account's ``today`` and its subscription charges, never from a clock.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from tools.errors import InvalidPlan
from tools.money import to_cents, to_dollars
from tools.records import AccountSummary, Plan

__all__ = [
    "PlanQuote",
    "add_month",
    "billing_period",
    "features_lost",
    "included_features",
    "next_renewal",
    "prorated_cents",
    "quote_plan_change",
]


def add_month(day: date) -> date:
    """The same day next month, or that month's last day ("Jan 31" -> "Feb 28")."""
    year, month0 = divmod(day.year * 12 + day.month, 12)
    return day.replace(year=year, month=month0 + 1, day=min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def billing_period(account: AccountSummary) -> tuple[date, date] | None:
    """The current paid period ``(start, next renewal)``: from the latest subscription charge to a month later.

    None when the account has no subscription charge, or the last one is more than a month old (no
    period is running, e.g. on the Free plan).
    """
    starts = [c.charged_on for c in account.charges if c.kind == "subscription" and c.charged_on <= account.today]
    if not starts:
        return None
    start = max(starts)
    end = add_month(start)
    return (start, end) if end > account.today else None


def next_renewal(account: AccountSummary) -> date | None:
    """When the next monthly subscription charge is due; None when no paid period is running."""
    period = billing_period(account)
    return period[1] if period else None


def prorated_cents(monthly_difference_cents: int, *, today: date, period: tuple[date, date] | None) -> int:
    """The share of a monthly price difference for the days left in the period (today included).

    Positive: charged on the next invoice (an upgrade); negative: credited (a downgrade). With no
    running period there is nothing to prorate.
    """
    if period is None:
        return 0
    start, end = period
    total = (end - start).days
    left = max(0, (end - today).days)
    return round(monthly_difference_cents * left / total) if total > 0 else 0


class PlanQuote(BaseModel):
    """What moving from the current plan to another costs, effective today."""

    model_config = ConfigDict(frozen=True)

    old_plan: str
    old_plan_name: str
    new_plan: str
    new_plan_name: str
    old_monthly_price: float
    new_monthly_price: float
    monthly_difference: float  # new minus old; negative for a downgrade
    direction: Literal["upgrade", "downgrade"]
    effective_date: date
    prorated_amount: float  # charged (positive) or credited (negative) on the next invoice
    next_renewal: date | None
    gained: list[str]
    lost: list[str]


_INHERITS = "everything in "


def included_features(features: Sequence[str], catalogue: Mapping[str, Sequence[str]]) -> list[str]:
    """Everything a plan includes: its own features first, then those of a plan it lists as "Everything in Pro".

    ``catalogue`` maps each plan's name, lowercased, to its features as written. A line that names no plan of the
    catalogue stays as it is.
    """
    return _included(features, catalogue, frozenset())


def _included(features: Sequence[str], catalogue: Mapping[str, Sequence[str]], seen: frozenset[str]) -> list[str]:
    own: list[str] = []
    inherited: list[str] = []
    for line in features:
        base = line[len(_INHERITS) :].strip().lower() if line.lower().startswith(_INHERITS) else ""
        if base in catalogue and base not in seen:  # `seen`: a catalogue that goes round in a circle ends
            inherited += _included(catalogue[base], catalogue, seen | {base})
        else:
            own.append(line)
    return list(dict.fromkeys(own + inherited))


def features_lost(current: Sequence[str], target: Sequence[str], catalogue: Mapping[str, Sequence[str]]) -> list[str]:
    """What the current plan includes and the target plan does not, counting what each inherits from another plan.

    Moving from Enterprise ("Everything in Pro", SSO, ...) to Free loses Pro's API access too; moving up from Pro
    to Enterprise loses nothing.
    """
    kept = set(included_features(target, catalogue))
    return [f for f in included_features(current, catalogue) if f not in kept]


def _plan(account: AccountSummary, plan_id: str) -> Plan | None:
    return next((p for p in account.available_plans if p.id == plan_id), None)


def quote_plan_change(account: AccountSummary, new_plan: str) -> PlanQuote:
    """The quote for moving ``account`` to ``new_plan`` today.

    Raises:
        InvalidPlan: No such plan, or the customer is already on it.
    """
    target = _plan(account, new_plan.strip().lower())
    if target is None:
        names = ", ".join(p.name for p in account.available_plans)
        raise InvalidPlan(f"there is no {new_plan!r} plan; the plans are {names}")
    current = account.plan
    if target.id == current.id:
        raise InvalidPlan(f"you are already on the {current.name} plan")
    difference = to_cents(target.monthly_price) - to_cents(current.monthly_price)
    period = billing_period(account)
    catalogue = {p.name.lower(): p.features for p in account.available_plans}
    return PlanQuote(
        old_plan=current.id,
        old_plan_name=current.name,
        new_plan=target.id,
        new_plan_name=target.name,
        old_monthly_price=current.monthly_price,
        new_monthly_price=target.monthly_price,
        monthly_difference=to_dollars(difference),
        direction="upgrade" if difference >= 0 else "downgrade",
        effective_date=account.today,
        prorated_amount=to_dollars(prorated_cents(difference, today=account.today, period=period)),
        next_renewal=period[1] if period else None,
        # A cheaper plan's own lines are its limits ("2 team members"), not gains; a dearer plan loses nothing.
        gained=features_lost(target.features, current.features, catalogue) if difference >= 0 else [],
        lost=features_lost(current.features, target.features, catalogue) if difference < 0 else [],
    )
