"""The demo's summary table: columns stay aligned whatever the agent names and routes."""

from __future__ import annotations

import pytest

from cli.demo import _table


def test_summary_columns_line_up(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {"message": "m1", "expected_route": "RefundAgent", "actual_route": "TriageAgent → RefundAgent",
         "final_agent": "RefundAgent", "ok": True, "model_calls": 2},
        {"message": "m2 " * 30, "expected_route": "BillingAgent",
         "actual_route": "TriageAgent → RefundAgent → TriageAgent → BillingAgent",
         "final_agent": "EscalationAgent", "ok": False, "model_calls": 12},
    ]  # fmt: skip
    _table(rows)
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.startswith("message"))
    body = [line for line in lines if line.startswith("m")][1:]
    assert len(body) == 2
    assert {len(line) for line in body} == {len(header)}  # the calls column ends in the same place
    for title in ("expected", "actual route", "final agent"):
        column = header.index(title)
        assert all(line[column - 1] == " " and line[column] != " " for line in body), title
