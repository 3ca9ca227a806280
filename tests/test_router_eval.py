"""Router metrics: routes with no support, and how the report prints them."""

from __future__ import annotations

import pytest

from evals.router_eval import metrics, report


def test_a_route_in_neither_list_has_no_row_and_no_weight() -> None:
    result = metrics(["refund", "faq"], ["refund", "faq"])
    assert set(result["per_route"]) == {"refund", "faq"}
    assert result["macro_f1"] == 1.0
    assert "billing" not in report("t", result)


def test_a_route_only_predicted_is_left_out_of_macro_f1_and_reported_as_such() -> None:
    result = metrics(["faq", "faq", "refund", "refund"], ["faq", "other", "refund", "refund"])
    assert result["per_route"]["other"]["support"] == 0
    # faq: precision 1, recall 0.5 -> f1 0.6667; refund: f1 1. "other" does not add a zero.
    assert result["macro_f1"] == pytest.approx((0.6667 + 1.0) / 2, abs=1e-3)
    lines = report("t", result).splitlines()
    other = [line for line in lines if line.strip().startswith("other")]
    assert other == ["  other    not in this data; predicted wrongly 1 time (left out of macro_f1)"]
    assert not any("support=0" in line for line in lines)
    assert any(line.strip().startswith("faq ") and "support=2" in line for line in lines)
