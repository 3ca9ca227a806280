"""The offline router: routes for fresh phrasings, the decision shape, training and honest evaluation."""

from __future__ import annotations

import csv
import json
import math

import pytest

from evals.router_eval import cross_validate, evaluate, main, metrics
from llm.router import (
    DATA_DIR,
    DEV_CSV,
    EVAL_CSV,
    ROUTES,
    SEED_CSV,
    RouteDecision,
    classify,
    default_router,
    load_rows,
    train_router,
)

# Written for these tests; none of them appears in saas_seed.csv or saas_eval.csv.
ROUTED = [
    ("refund", "Please give me my money back for the March renewal"),
    ("refund", "your system billed me 2 times for one seat, I need that reversed"),
    ("refund", "When will the refund for ord_881 land in my account?"),
    ("refund", "I'd like to be refunded, we stopped using the tool weeks ago"),
    ("billing", "How much extra would the enterprise tier be for my team?"),
    ("billing", "Could you resend invoice number 4471 to our accounts team?"),
    ("faq", "Our company card changed, where do I enter the new one?"),
    ("billing", "What's this $18.40 charge from the 4th?"),
    ("faq", "How can I connect the product to Google Sheets?"),
    ("faq", "Where in the settings do I turn on two factor login?"),
    ("faq", "Is it possible to get my tasks out as a JSON file?"),
    ("faq", "What's the limit on calls to your REST API?"),
    ("human", "I'd like an actual person to look at this please"),
    ("human", "Get your supervisor on the line, this is unacceptable"),
    ("human", "I want to raise a formal complaint about the service I received"),
    ("other", "Hey, good morning!"),
    ("other", "thanks a lot, that's everything"),
    ("other", "What's a good recipe for pancakes?"),
    ("other", "Can you tell me who won the world cup in 2010?"),
]


@pytest.mark.parametrize(("expected", "text"), ROUTED)
def test_routes_fresh_phrasings(expected: str, text: str) -> None:
    assert classify(text).route == expected


def test_decision_is_a_distribution_over_all_routes() -> None:
    decision = classify("I need a refund for last month's charge")
    assert isinstance(decision, RouteDecision)
    assert set(decision.scores) == set(ROUTES)
    assert math.isclose(sum(decision.scores.values()), 1.0, abs_tol=1e-3)
    assert decision.confidence == decision.scores[decision.route]
    assert 0.0 <= decision.confidence <= 1.0


def test_empty_message_is_other() -> None:
    assert classify("   ").route == "other"


def test_router_is_trained_once_and_deterministic() -> None:
    assert default_router() is default_router()
    text = "Could I switch to a cheaper plan?"
    assert classify(text) == classify(text)


def _synthetic() -> list[tuple[str, str]]:
    rows = []
    for i in range(20):
        rows.append((f"please refund my money order {i}", "refund"))
        rows.append((f"invoice number {i} is wrong", "billing"))
        rows.append((f"how do I export report {i}", "faq"))
    return rows


def test_train_router_on_small_dataset() -> None:
    router = train_router(_synthetic())
    assert router.routes == ("billing", "refund", "faq")
    assert router.classify("can you refund me").route == "refund"
    assert router.classify("the invoice looks wrong").route == "billing"
    assert router.classify("how do I export things").route == "faq"


def test_train_router_rejects_no_rows() -> None:
    with pytest.raises(ValueError):
        train_router([])


def test_cross_validation_on_synthetic_data() -> None:
    result = cross_validate(_synthetic(), folds=5)
    assert result["n"] == 60
    assert len(result["fold_accuracy"]) == 5
    assert result["accuracy"] >= 0.9
    assert set(result["per_route"]) >= {"billing", "refund", "faq"}
    assert sum(stats["support"] for stats in result["per_route"].values()) == 60


def test_cross_validation_needs_two_folds() -> None:
    with pytest.raises(ValueError):
        cross_validate(_synthetic(), folds=1)


def test_metrics_counts() -> None:
    result = metrics(["refund", "refund", "faq", "billing"], ["refund", "faq", "faq", "billing"])
    assert result["n"] == 4
    assert result["accuracy"] == 0.75
    assert result["confusion"]["refund"]["faq"] == 1
    assert result["per_route"]["refund"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert result["per_route"]["faq"]["precision"] == 0.5
    assert result["macro_f1"] == pytest.approx((0.6667 + 0.6667 + 1.0) / 3, abs=1e-3)


def test_metrics_rejects_misaligned_lists() -> None:
    with pytest.raises(ValueError):
        metrics(["faq"], [])


def test_held_out_saas_accuracy_stays_above_target() -> None:
    result = evaluate(load_rows(EVAL_CSV))
    assert result["n"] >= 80
    assert result["accuracy"] >= 0.85


def test_bundled_data_files() -> None:
    seed = load_rows(SEED_CSV)
    held_out = load_rows(EVAL_CSV)
    assert 150 <= len(seed) <= 250
    assert {route for _, route in seed} == set(ROUTES)
    assert {route for _, route in held_out} == set(ROUTES)
    # The held-out set must never leak into training.
    assert not {t.lower().strip() for t, _ in seed} & {t.lower().strip() for t, _ in held_out}
    with open(DATA_DIR / "routing_dev.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["source", "text", "intent", "route"]
        assert sum(1 for _ in reader) == 7055
    for name in ("NOTICE.md", "LICENSE-Bitext-CDLA-Sharing-1.0.txt", "LICENSE-Banking77-CC-BY-4.0.txt"):
        assert (DATA_DIR / name).is_file()


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dev_cv"]["n"] == 7055
    assert len(report["dev_cv"]["fold_accuracy"]) == 5
    assert report["dev_cv"]["accuracy"] >= 0.85
    assert report["saas_eval"]["accuracy"] >= 0.85


def test_the_scorer_computes_exactly_what_the_fitted_pipeline_would() -> None:
    from llm.router import _fit_pipeline, _LinearScorer

    rows = load_rows(DEV_CSV)[::12]
    pipeline = _fit_pipeline([t for t, _ in rows], [r for _, r in rows], [1.0] * len(rows))
    scorer = _LinearScorer.from_pipeline(pipeline)
    probes = [t for t, _ in load_rows(DEV_CSV)[5::97]] + ["I was chargd  twice,\\tREFUND ord_102!!", "a", ""]
    assert scorer.classes_ == tuple(pipeline.classes_)
    assert abs(scorer.decision_function(probes) - pipeline.decision_function(probes)).max() < 1e-9


def test_scoring_a_message_does_not_import_scikit_learn() -> None:
    import subprocess
    import sys

    code = "import sys; from llm.router import classify; classify('refund please'); print('sklearn' in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)  # trains and caches if needed
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert done.stdout.strip() == "False"  # the cached model is plain arrays: ~1.5 s less for every `support ask`
