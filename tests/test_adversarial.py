"""The misbehaving-model suite runs in `make test`: every case, on both transports, with no violation."""

from __future__ import annotations

import json

import pytest

from cli.main import main
from evals import adversarial
from evals.adversarial import CASES, TRANSPORTS, Case, Transport, run_case
from service.settings import Settings


def test_the_suite_has_at_least_thirty_cases() -> None:
    assert len(CASES) * len(TRANSPORTS) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_nothing_moves_but_what_the_customer_confirmed(case: Case, transport: Transport, settings: Settings) -> None:
    result = run_case(case, transport, settings)
    assert result["violations"] == [], json.dumps(result["turns"], indent=1)


def test_the_suite_catches_a_desk_that_acts_without_a_yes(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    # Sabotage the one rule that matters: read every message as a yes. The suite must notice.
    monkeypatch.setattr("nodes.confirm.read_answer", lambda text, naming=(): "yes")
    case = next(c for c in CASES if c.id == "sso_question_refund")
    result = run_case(case, "offline", settings)
    assert result["violations"] and "refunds" in result["violations"][0]


def test_the_command_reports_cases_and_violations(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(adversarial, "CASES", CASES[:2])
    assert main(["eval", "adversarial", "--transport", "offline", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["cases"], report["violations"]) == (2, 0)
    assert {r["transport"] for r in report["results"]} == {"offline"}
