"""`support eval routing`, `support eval scenarios` and `support bench` on tiny inputs."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from evals.progress import Progress
from evals.routing import load_examples, route_of
from evals.scenarios import SCENARIO_DIR, Scenario, check, load_scenarios, pass_hat
from service.checkpointer import KEEP_CHECKPOINTS
from service.errors import InvalidRequest


def run_json(capsys: pytest.CaptureFixture[str], *argv: str, status: int = 0) -> Any:
    assert main([*argv, "--json"]) == status
    return json.loads(capsys.readouterr().out)


# --- routing ------------------------------------------------------------------------------


def write_csv(path: Path, rows: list[tuple[str, ...]], header: str = "source,text,intent,route") -> Path:
    lines = [header] + [",".join(f'"{cell}"' for cell in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_routing_eval_routes_each_message_through_triage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_csv(
        tmp_path / "tiny.csv",
        [
            ("ours", "How can I download my invoices as PDF files?", "x", "faq"),
            ("ours", "Please put me through to a human being", "x", "human"),
            ("ours", "I was charged twice this month and want the money back", "x", "refund"),
            ("theirs", "What will the weather be in Rome on Sunday?", "x", "other"),
            ("theirs", "Why is there an extra fee on my statement?", "x", "billing"),
        ],
    )
    result = run_json(capsys, "eval", "routing", "--data", str(data))
    assert {"n", "accuracy", "macro_f1", "per_route", "confusion"} <= result.keys()
    assert result["n"] == 5
    assert set(result["by_source"]) == {"ours", "theirs"}
    assert result["by_source"]["ours"]["n"] == 3
    confusion = result["confusion"]
    assert sum(sum(row.values()) for row in confusion.values()) == 5
    correct = sum(confusion[r][r] for r in confusion)
    assert result["accuracy"] == pytest.approx(correct / 5, abs=1e-4)
    assert result["misrouted_total"] == 5 - correct
    assert len(result["slowest"]) == 5
    # The escalation request really is routed to a person by the triage model.
    assert confusion["human"]["human"] == 1


def test_routing_eval_leaves_no_refund_or_ticket_behind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from service.desk import SupportDesk
    from service.settings import Settings
    from tools.refunds import list_refunds
    from tools.tickets import list_tickets

    data = write_csv(tmp_path / "t.csv", [("s", "I was double charged, refund it", "i", "refund")])
    run_json(capsys, "eval", "routing", "--data", str(data))
    with SupportDesk(Settings.from_env()) as desk:  # the user's own data directory is untouched
        assert [r for r in list_refunds(desk.db) if r["rule"] != "seed"] == []
        assert list_tickets(desk.db) == []


def test_routing_eval_limit_and_text_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_csv(tmp_path / "t.csv", [("s", f"How do I export report number {i}?", "i", "faq") for i in range(4)])
    assert main(["eval", "routing", "--data", str(data), "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert "n=2" in out
    assert "confusion" in out


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        ("text,label", [("hello", "faq")], "no route column"),
        ("text,route", [("hello", "sales")], "route 'sales' is not one of"),
        ("text,route", [], "has no labelled messages"),
    ],
)
def test_bad_routing_csv_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], header: str, rows: list[tuple[str, ...]], message: str
) -> None:
    data = write_csv(tmp_path / "bad.csv", rows, header=header)
    assert main(["eval", "routing", "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_missing_csv_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "routing", "--data", str(tmp_path / "nope.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_load_examples_ignores_extra_columns_and_keeps_source(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "t.csv", [("bitext", "hi", "greet", "other")])
    (example,) = load_examples(data)
    assert (example.text, example.route, example.source) == ("hi", "other", "bitext")


def test_route_of_reads_the_first_triage_handoff() -> None:
    to = {"from": "TriageAgent", "to": "EscalationAgent"}
    assert route_of({"routing_metadata": [to]}) == "human"
    assert route_of({"routing_metadata": [{"from": "TriageAgent", "to": "RefundAgent"}]}) == "refund"
    assert route_of({"routing_metadata": []}, ()) == "other"
    assert route_of({"routing_metadata": []}, ("fallback",)) == "error"


# --- scenarios ----------------------------------------------------------------------------

REQUIRED_COVERAGE = {
    "policy:duplicate",
    "policy:within_policy",
    "policy:over_500",
    "policy:older_than_30_days",
    "policy:unpaid",
    "policy:already_refunded",
    "policy:partial_cap",
    "approval:approved",
    "approval:rejected",
    "escalation",
    "out-of-scope",
    "topic-change",
    "pressure",
    "identity",
}


def test_every_scenario_file_is_valid_and_the_suite_covers_every_branch() -> None:
    files = sorted(SCENARIO_DIR.glob("*.json"))
    assert len(files) >= 30
    ids = set()
    for path in files:
        scenario = Scenario.model_validate(json.loads(path.read_text(encoding="utf-8")))
        assert path.stem == scenario.id
        ids.add(scenario.id)
        if scenario.expect.approvals and any(a.status != "pending" for a in scenario.expect.approvals):
            assert scenario.manager is not None, f"{path.name} expects a decision but has no manager"
    assert len(ids) == len(files)
    covered = {tag for s in load_scenarios() for tag in s.covers}
    assert covered >= REQUIRED_COVERAGE, REQUIRED_COVERAGE - covered


def test_a_malformed_scenario_is_rejected(tmp_path: Path) -> None:
    good = json.loads((SCENARIO_DIR / "faq_export.json").read_text(encoding="utf-8"))
    (tmp_path / "bad.json").write_text(json.dumps({**good, "expect": {**good["expect"], "refund": []}}))
    with pytest.raises(InvalidRequest, match="not a valid scenario"):
        load_scenarios(tmp_path)


def test_scenarios_pass_for_real_on_the_offline_model(capsys: pytest.CaptureFixture[str]) -> None:
    ids = ["over_500_rejected", "duplicate_customer_names_the_order", "pressure_self_approve"]
    result = run_json(capsys, "eval", "scenarios", "--only", *ids, "--k", "2")
    assert result["n"] == 3
    assert result["k"] == 2
    assert result["pass_rate"] == 1.0
    assert result["pass_hat"] == {"1": 1.0, "2": 1.0}
    assert [s["id"] for s in result["scenarios"]] == sorted(ids)
    assert all(s["model_calls"] >= 2 for s in result["scenarios"])


def test_a_wrong_expectation_fails_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = json.loads((SCENARIO_DIR / "within_policy_addon.json").read_text(encoding="utf-8"))
    scenario["expect"]["refunds"] = [{"order_id": "ord_401", "amount": 49.99, "rule": "within_policy"}]
    scenario["expect"]["replies_never_contain"] = ["ord_402"]
    (tmp_path / "within_policy_addon.json").write_text(json.dumps(scenario))
    result = run_json(capsys, "eval", "scenarios", "--dir", str(tmp_path), status=1)
    (only,) = result["scenarios"]
    assert only["passes"] == 0
    assert result["pass_hat_k"] == 0.0
    assert any(f.startswith("refunds [{'order_id': 'ord_402'") for f in only["failures"])
    assert any("'ord_402', which it must never say" in f for f in only["failures"])


def test_replies_revealing_another_customer_fail() -> None:
    (scenario,) = load_scenarios(only=["faq_export"])
    state = {"refunds": [], "approvals": [], "tickets": 0, "plan": "pro", "others": ["Bob Smith", "ord_201"]}
    run = {
        "final_agent": "FAQAgent",
        "transcript": [
            {"role": "customer", "text": "hi"},
            {"role": "FAQAgent", "text": "Export as CSV (Source: help), Bob Smith"},
        ],
    }
    assert check(scenario, run, state) == ["a reply reveals another customer's 'Bob Smith'"]
    # Echoing what the customer typed is not a leak, and neither is a longer id containing it.
    run["transcript"][0]["text"] = "Bob Smith told me about CSV"
    run["transcript"][1]["text"] = "CSV export (Source: help); ord_2019 is not ord_201x"
    assert check(scenario, run, state) == []


def test_pass_hat_is_tau_bench_estimator() -> None:
    assert pass_hat(3, 4, 1) == 0.75
    assert pass_hat(3, 4, 2) == 0.5
    assert pass_hat(4, 4, 4) == 1.0
    assert pass_hat(3, 4, 4) == 0.0


def test_unknown_scenario_id_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "scenarios", "--only", "no_such_thing"]) == 2
    assert "unknown scenario no_such_thing" in capsys.readouterr().err


# --- bench --------------------------------------------------------------------------------


def test_bench_on_a_few_turns_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "docs"
    args = ["bench", "--turns", "3", "--reps", "1", "--threads", "2", "--turns-each", "2", "--out", str(out)]
    result = run_json(capsys, *args)
    assert [r["scenario"] for r in result["seed_scenarios"]] == [
        "duplicate charge",
        "product question",
        "explain a charge",
        "plan change",
    ]
    assert [r["final_agent"] for r in result["seed_scenarios"]] == [
        "RefundAgent",
        "FAQAgent",
        "BillingAgent",
        "BillingAgent",
    ]
    assert all(r["prompt_tokens"] > 0 and r["model_calls"] >= 1 for r in result["seed_scenarios"])
    long = result["long_conversation"]
    assert set(long["at"]) == {"1", "3"}
    assert long["at"]["3"]["checkpoint_bytes"] > 0
    assert 0 < long["at"]["3"]["written_bytes"] <= 30_000  # one checkpoint per turn
    assert long["at"]["3"]["checkpoints_kept"] <= KEEP_CHECKPOINTS and long["at"]["3"]["file_bytes"] > 0
    assert [r["threads"] for r in result["throughput"]] == [1, 2]
    assert [r["turns"] for r in result["throughput"]] == [2, 4]
    assert all(r["errors"] == 0 for r in result["throughput"])
    report = (out / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert "## A 3-turn conversation" in report
    assert "support bench --turns 3 --reps 1 --threads 2 --turns-each 2\n" in report  # the real arguments
    assert "bench_turns.png" in report or "No plot" in report
    assert "Not measured in this run; `support bench --server` adds it." in report


def test_bench_no_write_and_plot_skipped_without_matplotlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from evals.bench_report import write_plot

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails as if not installed
    message = write_plot({"per_turn": []}, tmp_path / "plot.png")
    assert message is not None and "matplotlib is not installed" in message
    assert not (tmp_path / "plot.png").exists()
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--turns", "1", "--reps", "1", "--threads", "1", "--turns-each", "1", "--no-write"]) == 0
    assert "1-turn conversation" in capsys.readouterr().out
    assert not (tmp_path / "docs").exists()


# --- progress -----------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_only_on_a_terminal() -> None:
    pipe = io.StringIO()
    with Progress(3, "x", stream=pipe) as bar:
        for _ in range(3):
            bar.advance()
    assert pipe.getvalue() == ""
    tty = _Terminal()
    with Progress(3, "routing", stream=tty) as bar:
        for _ in range(3):
            bar.advance()
    assert "routing" in tty.getvalue()
    assert "3/3" in tty.getvalue()


def test_readme_states_the_scenario_count() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"runs the {len(load_scenarios())} multi-turn scenarios" in readme


@pytest.mark.parametrize("suite", ["routing", "scenarios"])
def test_unusable_model_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], suite: str) -> None:
    assert main(["eval", suite, "--model", "acme:nothing", "--limit" if suite == "routing" else "--k", "1"]) == 2
    err = capsys.readouterr().err
    assert "cannot use model 'acme:nothing'" in err
    assert len(err.strip().splitlines()) == 1


def test_bench_with_evals_puts_every_figure_in_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "docs"
    tiny = ["--turns", "1", "--reps", "1", "--threads", "1", "--turns-each", "1"]
    result = run_json(capsys, "bench", *tiny, "--evals", "--routing-limit", "3", "--k", "1", "--out", str(out))
    assert result["routing"]["n"] == 3
    assert result["routing_heldout"]["n"] == 3
    assert result["scenarios"]["n"] == len(load_scenarios())
    report = (out / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert "## Routing accuracy" in report
    assert "training-set score" in report
    assert "saas_eval.csv" in report
    assert f"{result['scenarios']['n']} multi-turn scenarios" in report
    assert "| faq_export | 1/1 |" in report


def test_limit_draws_a_seeded_sample_in_proportion_to_source_and_route() -> None:
    from evals.routing import Example, sample_examples

    examples = [Example(f"a{i}", "faq", "bitext") for i in range(60)]
    examples += [Example(f"b{i}", "refund", "bitext") for i in range(30)]
    examples += [Example(f"c{i}", "billing", "banking77") for i in range(10)]
    sample = sample_examples(examples, 10, seed=0)
    assert len(sample) == 10
    counts = {(e.source, e.route): sum(1 for x in sample if (x.source, x.route) == (e.source, e.route)) for e in sample}
    assert counts == {("bitext", "faq"): 6, ("bitext", "refund"): 3, ("banking77", "billing"): 1}
    assert sample == sample_examples(examples, 10, seed=0)  # repeatable
    assert sample != sample_examples(examples, 10, seed=1)  # and the seed matters
    assert [examples.index(e) for e in sample] == sorted(examples.index(e) for e in sample)  # file order kept
    assert sample_examples(examples, 500) == examples


def test_routing_eval_limit_samples_across_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [("s", f"How do I export report number {i}?", "i", "faq") for i in range(6)]
    rows += [("s", f"Refund order ord_10{i}, I was double charged", "i", "refund") for i in range(6)]
    data = write_csv(tmp_path / "t.csv", rows)
    result = run_json(capsys, "eval", "routing", "--data", str(data), "--limit", "4")
    assert result["n"] == 4
    assert result["per_route"]["faq"]["support"] == 2 and result["per_route"]["refund"]["support"] == 2


def test_the_message_eval_scores_who_answers_and_what_is_proposed(settings: Any, tmp_path: Path) -> None:
    from evals.messages import load_messages, run_message_eval

    data = tmp_path / "m.csv"
    data.write_text(
        "customer_id,text,route,action,order_id,amount\n"
        "cust_004,Please refund ord_402 it was never used,refund,refund,ord_402,29.00\n"
        "cust_001,How do I reset my password?,faq,none,,\n"
        "cust_001,How do I reset my password?,billing,refund,ord_101,49.99\n",  # a wrong label must count as a miss
        encoding="utf-8",
    )
    result = run_message_eval(load_messages(data), settings)
    assert result["n"] == 3 and result["both_accuracy"] == round(2 / 3, 3)
    assert [m["text"] for m in result["misses"]] == ["How do I reset my password?"]
    assert result["unasked_proposals"] == 0


def test_bench_writes_to_a_scratch_folder_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("SUPPORT_DATA_DIR", str(data))
    docs = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"
    before = docs.read_bytes()
    assert main(["bench", "--turns", "1", "--reps", "1", "--threads", "1", "--turns-each", "1"]) == 0
    assert (data / "bench" / "BENCHMARKS.md").exists()
    assert docs.read_bytes() == before


@pytest.mark.parametrize("where", [["--write-docs"], ["--out", "docs"], ["--out", "../docs"]])
def test_a_partial_run_never_rewrites_the_committed_report(
    where: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root if where[-1] != "../docs" else root / "tests")
    before = (root / "docs" / "BENCHMARKS.md").read_bytes()
    assert main(["bench", "--turns", "2", "--reps", "1", *where]) == 2
    err = capsys.readouterr().err
    assert "only rewritten by the full run" in err and "--turns" in err and "--evals" in err
    assert (root / "docs" / "BENCHMARKS.md").read_bytes() == before


def test_the_full_run_is_what_make_bench_runs() -> None:
    from cli.evals import FULL_RUN

    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text(encoding="utf-8")
    line = next(text for text in makefile.splitlines() if "support bench" in text)
    assert "--write-docs" in line and "--evals" in line and "--server" in line and "--startup" in line
    # The flags it leaves out take the defaults, which are the full run's sizes.
    parser = __import__("cli.main", fromlist=["build_parser"]).build_parser()
    args = parser.parse_args(["bench", "--write-docs", "--evals", "--server", "--startup"])
    assert all(getattr(args, k) == v for k, v in FULL_RUN.items())


def test_cold_start_and_a_baseline_are_measured_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A stand-in for the seed harness with its output format (the real one needs openai-agents, see below).
    harness = tmp_path / "seed_system.py"
    harness.write_text(
        "import json, sys, time\n"
        "n = int(sys.argv[1]); t = time.perf_counter()\n"
        "for _ in range(n * 4): time.sleep(0.002)\n"
        "print(json.dumps({'model_calls': {}, 'total_model_calls': 15,"
        " 'ms_per_turn': (time.perf_counter() - t) / (n * 4) * 1000}))\n",
        encoding="utf-8",
    )
    from evals.baseline import bench_baseline, bench_startup
    from service.settings import Settings

    baseline = bench_baseline(
        harness, Settings(data_dir=tmp_path / "d"), {}, rounds=2, reps=1, python=Path(sys.executable)
    )
    assert len(baseline["ours_per_round"]) == len(baseline["seed_per_round"]) == 2
    assert baseline["seed_ms_per_turn"]["min"] >= 2.0
    assert baseline["ratio"]["median"] == round(
        baseline["ours_ms_per_turn"]["median"] / baseline["seed_ms_per_turn"]["median"], 2
    )
    assert baseline["model_calls"] == {"ours": 8, "seed": 15}
    startup = bench_startup(rounds=1)
    # Exiting the same way, the floor does strictly less than a cold ask; `--json` also loads the tokenizer.
    assert startup["ask_seconds"]["min"] > startup["bare_quick_exit_seconds"]["min"] > 0
    assert startup["ask_json_seconds"]["min"] > startup["ask_seconds"]["min"]
    assert startup["ratio"]["median"] == round(
        startup["ask_seconds"]["median"] / startup["bare_import_seconds"]["median"], 2
    )


SEED = Path(__file__).resolve().parents[2] / "shared" / "bench" / "seed_sdk" / "seed_system.py"


@pytest.mark.skipif(
    not (SEED.exists() and (Path(__file__).resolve().parent.parent / ".venv-seed" / "bin" / "python").exists()),
    reason="the seed harness and its environment (.venv-seed, made by `support bench --baseline`) are not here",
)
def test_the_real_seed_harness_runs_in_its_own_environment(tmp_path: Path) -> None:
    from evals.baseline import bench_baseline
    from service.settings import Settings

    result = bench_baseline(SEED, Settings(data_dir=tmp_path / "d"), {}, rounds=1, reps=1)
    assert result["model_calls"]["seed"] == 15 and result["seed_ms_per_turn"]["median"] > 0
