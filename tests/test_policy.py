"""The refund policy (tools/policy.py): every rule, its boundaries and its order."""

from __future__ import annotations

import itertools
import math
from datetime import date, timedelta

import pytest

from tools.policy import (
    AUTO_APPROVE_LIMIT,
    DUPLICATE_WINDOW_DAYS,
    REFUND_WINDOW_DAYS,
    decide_refund,
    find_duplicates,
    natural_key,
)
from tools.records import Charge, PolicyDecision

TODAY = date(2026, 11, 25)


def charge(
    *,
    order_id: str = "ord_1",
    amount: float = 49.99,
    status: str = "paid",
    age: int = 5,
    refunded: float = 0.0,
    refundable: float | None = None,
    description: str = "Pro plan, monthly subscription (November 2026)",
    kind: str = "subscription",
) -> Charge:
    """A charge as the data layer computes it (refundable = paid minus refunded)."""
    if refundable is None:
        refundable = round(amount - refunded, 2) if status == "paid" else 0.0
    return Charge.model_validate(
        {
            "order_id": order_id,
            "amount": amount,
            "description": description,
            "kind": kind,
            "charged_on": TODAY - timedelta(days=age),
            "status": status,
            "refunded_amount": refunded,
            "refundable_amount": refundable,
            "age_days": age,
        }
    )


def test_constants_match_the_published_policy() -> None:
    assert REFUND_WINDOW_DAYS == 30
    assert AUTO_APPROVE_LIMIT == 500.00
    assert DUPLICATE_WINDOW_DAYS == 1


# --- rule 1: unpaid -----------------------------------------------------------------


@pytest.mark.parametrize("status", ["unpaid", "failed"])
@pytest.mark.parametrize("is_duplicate", [False, True])
def test_unpaid_or_failed_charge_is_denied_even_if_duplicate(status: str, is_duplicate: bool) -> None:
    decision = decide_refund(charge(status=status), is_duplicate=is_duplicate)
    assert (decision.outcome, decision.rule, decision.amount) == ("deny", "unpaid", 0.0)
    assert "ord_1" in decision.explanation


def test_unpaid_beats_a_requested_amount() -> None:
    decision = decide_refund(charge(status="unpaid", amount=10.0), requested_amount=5.0, is_duplicate=False)
    assert decision.rule == "unpaid"


# --- rule 2: already refunded -----------------------------------------------------------


@pytest.mark.parametrize("is_duplicate", [False, True])
@pytest.mark.parametrize("requested", [None, 10.0])
def test_fully_refunded_charge_is_denied(is_duplicate: bool, requested: float | None) -> None:
    decision = decide_refund(
        charge(amount=49.99, refunded=49.99), requested_amount=requested, is_duplicate=is_duplicate
    )
    assert (decision.outcome, decision.rule, decision.amount) == ("deny", "already_refunded", 0.0)
    assert "$49.99" in decision.explanation


def test_refundable_zero_is_denied_even_if_refunded_field_disagrees() -> None:
    decision = decide_refund(charge(amount=49.99, refunded=0.0, refundable=0.0), is_duplicate=False)
    assert decision.rule == "already_refunded"


def test_refundable_never_trusted_beyond_paid_minus_refunded() -> None:
    # Inconsistent input: refundable claims more than is left; the smaller figure wins.
    decision = decide_refund(charge(amount=120.0, refunded=20.0, refundable=120.0), is_duplicate=False)
    assert decision.amount == 100.0


# --- rule 3: amount -----------------------------------------------------------------


@pytest.mark.parametrize("requested", [0.0, -1.0, -0.01, 0.004, math.nan, math.inf, -math.inf])
def test_requested_amount_must_be_positive_and_finite(requested: float) -> None:
    decision = decide_refund(charge(), requested_amount=requested, is_duplicate=False)
    assert (decision.outcome, decision.rule, decision.amount) == ("deny", "invalid_amount", 0.0)


def test_invalid_amount_checked_after_already_refunded() -> None:
    decision = decide_refund(charge(refunded=49.99), requested_amount=-5, is_duplicate=False)
    assert decision.rule == "already_refunded"


@pytest.mark.parametrize(
    ("amount", "refunded", "requested", "expected"),
    [
        (120.00, 20.00, None, 100.00),  # default: everything left
        (120.00, 20.00, 30.00, 30.00),  # partial request
        (120.00, 20.00, 100.00, 100.00),  # exactly what is left
        (120.00, 20.00, 100.01, 100.00),  # capped
        (120.00, 20.00, 5000.00, 100.00),  # capped
        (49.99, 0.00, None, 49.99),
        (49.99, 0.00, 0.01, 0.01),
        (49.99, 49.98, None, 0.01),
    ],
)
def test_amount_is_requested_or_remaining_and_capped(
    amount: float, refunded: float, requested: float | None, expected: float
) -> None:
    decision = decide_refund(charge(amount=amount, refunded=refunded), requested_amount=requested, is_duplicate=False)
    assert decision.outcome == "approve"
    assert decision.amount == expected
    assert f"${expected:,.2f}" in decision.explanation


def test_capped_request_says_so() -> None:
    decision = decide_refund(charge(amount=120.0, refunded=20.0), requested_amount=150.0, is_duplicate=False)
    assert "all that is still refundable" in decision.explanation
    uncapped = decide_refund(charge(amount=120.0, refunded=20.0), requested_amount=50.0, is_duplicate=False)
    assert "still refundable" not in uncapped.explanation


def test_amount_is_rounded_to_cents() -> None:
    decision = decide_refund(charge(amount=100.0), requested_amount=10.005001, is_duplicate=False)
    assert decision.amount == 10.01


# --- rule 4: duplicates ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "age"),
    [(49.99, 0), (49.99, 31), (49.99, 400), (500.01, 3), (899.00, 10), (5000.00, 90)],
)
def test_duplicate_is_approved_whatever_its_age_or_amount(amount: float, age: int) -> None:
    decision = decide_refund(charge(amount=amount, age=age), is_duplicate=True)
    assert (decision.outcome, decision.rule, decision.amount) == ("approve", "duplicate", amount)
    assert "duplicate" in decision.explanation


def test_duplicate_partial_refund_is_capped() -> None:
    decision = decide_refund(charge(amount=49.99, refunded=10.0), requested_amount=49.99, is_duplicate=True)
    assert (decision.rule, decision.amount) == ("duplicate", 39.99)


# --- rules 5 and 6: manager review --------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "outcome", "rule"),
    [
        (0, "approve", "within_policy"),
        (29, "approve", "within_policy"),
        (30, "approve", "within_policy"),
        (31, "needs_approval", "older_than_30_days"),
        (45, "needs_approval", "older_than_30_days"),
        (365, "needs_approval", "older_than_30_days"),
    ],
)
def test_refund_window_boundary(age: int, outcome: str, rule: str) -> None:
    decision = decide_refund(charge(age=age), is_duplicate=False)
    assert (decision.outcome, decision.rule, decision.amount) == (outcome, rule, 49.99)


@pytest.mark.parametrize(
    ("amount", "outcome", "rule"),
    [
        (0.01, "approve", "within_policy"),
        (499.99, "approve", "within_policy"),
        (500.00, "approve", "within_policy"),
        (500.01, "needs_approval", "over_500"),
        (899.00, "needs_approval", "over_500"),
    ],
)
def test_auto_approve_limit_boundary(amount: float, outcome: str, rule: str) -> None:
    decision = decide_refund(charge(amount=amount), is_duplicate=False)
    assert (decision.outcome, decision.rule, decision.amount) == (outcome, rule, amount)


def test_exactly_500_and_exactly_30_days_is_auto_approved() -> None:
    decision = decide_refund(charge(amount=500.00, age=30), is_duplicate=False)
    assert (decision.outcome, decision.rule) == ("approve", "within_policy")


def test_age_is_checked_before_amount() -> None:
    decision = decide_refund(charge(amount=899.00, age=31), is_duplicate=False)
    assert decision.rule == "older_than_30_days"


def test_limit_applies_to_everything_refunded_for_the_charge() -> None:
    big = charge(amount=899.00, age=10)
    assert decide_refund(big, requested_amount=500.00, is_duplicate=False).rule == "within_policy"
    assert decide_refund(big, requested_amount=500.01, is_duplicate=False).rule == "over_500"
    # Splitting a large refund into small requests still reaches a manager.
    half_refunded = charge(amount=899.00, refunded=400.00, age=10)
    decision = decide_refund(half_refunded, is_duplicate=False)
    assert (decision.outcome, decision.rule, decision.amount) == ("needs_approval", "over_500", 499.00)
    assert "$400.00 already refunded" in decision.explanation
    assert decide_refund(half_refunded, requested_amount=100.00, is_duplicate=False).outcome == "approve"
    assert decide_refund(half_refunded, requested_amount=100.01, is_duplicate=False).outcome == "needs_approval"


def test_needs_approval_explanations_name_amount_and_reason() -> None:
    old = decide_refund(charge(age=45), is_duplicate=False)
    assert "45 days" in old.explanation and "$49.99" in old.explanation and "manager" in old.explanation
    big = decide_refund(charge(amount=899.0), is_duplicate=False)
    assert "$899.00" in big.explanation and "$500.00" in big.explanation


# --- properties over a grid of inputs -----------------------------------------------------


_GRID = list(
    itertools.product(
        ["paid", "unpaid", "failed"],
        [0.01, 29.0, 49.99, 120.0, 500.0, 500.01, 899.0],  # amount
        [0.0, 0.5, 1.0],  # refunded fraction
        [None, -1.0, 0.0, 0.01, 20.0, 499.99, 500.0, 500.01, 10_000.0],  # requested
        [0, 30, 31, 400],  # age in days
        [False, True],  # verified duplicate
    )
)


def test_policy_invariants_over_a_grid_of_inputs() -> None:
    """Hypothesis-free property check: 4,536 combinations, each checked against the rules."""
    for status, amount, fraction, requested, age, dup in _GRID:
        case = f"{status=} {amount=} {fraction=} {requested=} {age=} {dup=}"
        refunded = round(amount * fraction, 2)
        c = charge(status=status, amount=amount, refunded=refunded, age=age)
        decision = decide_refund(c, requested_amount=requested, is_duplicate=dup)
        _check_invariants(c, decision, requested, dup, case)


def _check_invariants(c: Charge, decision: PolicyDecision, requested: float | None, dup: bool, case: str) -> None:
    assert 0.0 <= decision.amount <= c.refundable_amount, case
    assert decision.amount <= round(c.amount - c.refunded_amount, 2), case
    if requested is not None and requested > 0:
        assert decision.amount <= requested, case
    assert decision.explanation.endswith("."), case
    if decision.outcome == "deny":
        assert decision.amount == 0.0, case
    else:
        assert decision.amount > 0, case
        assert f"${decision.amount:,.2f}" in decision.explanation, case
    if c.status != "paid":
        expected = "unpaid"
    elif c.refundable_amount <= 0:
        expected = "already_refunded"
    elif requested is not None and requested <= 0:
        expected = "invalid_amount"
    elif dup:
        expected = "duplicate"
    elif c.age_days > 30:
        expected = "older_than_30_days"
    elif round(c.refunded_amount + decision.amount, 2) > 500:
        expected = "over_500"
    else:
        expected = "within_policy"
    assert decision.rule == expected, case
    if decision.outcome == "needs_approval":
        assert not dup and (c.age_days > 30 or c.refunded_amount + decision.amount > 500), case


# --- find_duplicates ---------------------------------------------------------------------


def test_same_day_double_charge_is_a_duplicate_of_the_first() -> None:
    charges = [charge(order_id="ord_101"), charge(order_id="ord_102")]
    assert find_duplicates(charges) == {"ord_102": "ord_101"}
    assert find_duplicates(list(reversed(charges))) == {"ord_102": "ord_101"}


@pytest.mark.parametrize(("first_age", "second_age"), [(5, 4), (1, 0), (31, 30)])
def test_charges_one_day_apart_are_duplicates_and_the_later_one_is_flagged(first_age: int, second_age: int) -> None:
    charges = [charge(order_id="ord_9", age=second_age), charge(order_id="ord_10", age=first_age)]
    assert find_duplicates(charges) == {"ord_9": "ord_10"}


def test_same_day_ties_break_on_natural_order_id() -> None:
    charges = [charge(order_id="ord_10"), charge(order_id="ord_9")]
    assert find_duplicates(charges) == {"ord_10": "ord_9"}


def test_triple_charge_points_at_the_original() -> None:
    charges = [charge(order_id=f"ord_{n}") for n in (3, 1, 2)]
    assert find_duplicates(charges) == {"ord_2": "ord_1", "ord_3": "ord_1"}


@pytest.mark.parametrize(
    "other",
    [
        charge(order_id="ord_2", amount=49.98),  # different amount
        charge(order_id="ord_2", age=3),  # two days apart
        charge(order_id="ord_2", age=35),  # next month's renewal
        charge(order_id="ord_2", description="Pro plan, monthly subscription (December 2026)"),
        charge(order_id="ord_2", kind="add_on"),
        charge(order_id="ord_2", status="failed"),  # a failed attempt, then a successful one
        charge(order_id="ord_2", status="unpaid"),
    ],
    ids=["amount", "two_days", "next_month", "description", "kind", "failed", "unpaid"],
)
def test_not_duplicates(other: Charge) -> None:
    assert find_duplicates([charge(order_id="ord_1"), other]) == {}


def test_no_charges_no_duplicates() -> None:
    assert find_duplicates([]) == {}
    assert find_duplicates([charge()]) == {}


def test_monthly_renewals_are_not_duplicates() -> None:
    renewals = [charge(order_id=f"ord_{100 + m}", age=30 * m, description=f"Pro ({m})") for m in range(12)]
    same_text = [charge(order_id=f"ord_{200 + m}", age=28 * m) for m in range(12)]
    assert find_duplicates(renewals) == {}
    assert find_duplicates(same_text) == {}


def test_natural_key_orders_numbers_numerically() -> None:
    ids = ["ord_100", "ord_9", "ord_10", "apr_0002"]
    assert sorted(ids, key=natural_key) == ["apr_0002", "ord_9", "ord_10", "ord_100"]
