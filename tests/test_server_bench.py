"""`support bench --server` on tiny inputs: concurrent customers on a real `langgraph dev` over 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main
from evals.server_bench import run_server_bench
from tests.live_server import LiveServer, customer_token, live_server

__all__ = ["live_server"]

TINY = ["--turns", "1", "--reps", "1", "--threads", "1"]


def test_bench_starts_its_own_server_and_reports_the_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "docs"
    argv = ["bench", *TINY, "--server", "--clients", "2", "--turns-each", "2", "--out", str(out), "--json"]
    assert main(argv) == 0
    server = json.loads(capsys.readouterr().out)["server"]
    assert server["url"].startswith("http://127.0.0.1:")
    assert server["own_server"]["model"] == "offline"
    assert (server["clients"], server["turns_each"], server["turns"]) == (2, 2, 4)
    assert server["completed"] == server["succeeded"] == server["turns"] == server["clients"] * server["turns_each"]
    assert server["errors"] == 0 and server["error_samples"] == [] and not server["timed_out"]
    assert server["customers"] == ["cust_001", "cust_002"]
    latency = server["latency_ms"]
    assert 0 < latency["min"] <= latency["median"] <= latency["p95"] <= latency["max"]
    assert server["turns_per_second"] > 0
    runs = server["own_server"]["runs"]  # read back from the server's log: one entry per measured turn
    assert runs["executing_ms"]["median"] > 0 and runs["queued_ms"]["p95"] >= runs["queued_ms"]["median"]
    report = (out / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert "## Server: concurrent customers on `langgraph dev`" in report
    assert "support bench --turns 1 --reps 1 --threads 1 --turns-each 2 --server --clients 2\n" in report
    assert "not included yet" not in report
    assert "Where the time goes" in report


def test_bench_loads_a_running_server_with_given_tokens_and_counts_failures(live_server: LiveServer) -> None:
    # The second client's token is unknown: its thread is refused (401) and both its turns count as errors.
    result = run_server_bench(
        live_server.url, clients=2, turns_each=2, tokens=[customer_token("cust_004"), "not-a-token"], timeout=60
    )
    assert (result["turns"], result["completed"], result["succeeded"], result["errors"]) == (4, 4, 2, 2)
    assert len(result["error_samples"]) == 2
    assert all("client 1" in e and "creating the thread" in e for e in result["error_samples"])
    assert result["own_server"] is None


def test_bench_refuses_a_server_elsewhere_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "docs"
    argv = ["bench", *TINY, "--server", "--url", "http://example.com:2024", "--out", str(out)]
    assert main(argv) == 2
    assert "--url must be a server on this machine" in capsys.readouterr().err
    assert main(["bench", *TINY, "--url", "http://127.0.0.1:2024", "--out", str(out)]) == 2
    assert "go with --server" in capsys.readouterr().err
    assert not out.exists()


def test_turns_cut_off_by_the_global_timeout_are_errors(live_server: LiveServer) -> None:
    result = run_server_bench(live_server.url, clients=2, turns_each=3, timeout=0.01)
    assert result["timed_out"] is True
    assert result["turns"] == 6 and result["completed"] < 6
    assert result["errors"] == 6 - result["succeeded"]
    assert any("global timeout" in e for e in result["error_samples"])


def test_a_full_report_keeps_the_engines_section_written_by_hand() -> None:
    from evals.bench_report import ENGINES_HEADING, keep_engines_section

    old = f"# Benchmarks\n\n## Server: x\n\nold\n\n{ENGINES_HEADING}\n\n| a | b |\n\n## Routing accuracy\n\nold\n"
    new = "# Benchmarks\n\n## Server: x\n\nnew\n\n## Routing accuracy\n\nnew\n"
    kept = keep_engines_section(old, new)
    engines = f"{ENGINES_HEADING}\n\n| a | b |\n\n"
    assert kept == f"# Benchmarks\n\n## Server: x\n\nnew\n\n{engines}## Routing accuracy\n\nnew\n"
    assert keep_engines_section("# Benchmarks\n", new) == new  # nothing to keep
