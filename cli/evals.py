"""`support eval routing|scenarios` and `support bench`: the figures behind docs/BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from service.errors import InvalidRequest
from service.settings import Settings

__all__ = ["add_parsers"]


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return int(text)


def _model(spec: str | None, settings: Settings) -> Any:
    from llm.factory import make_chat_model

    try:
        return make_chat_model(spec or settings.models.get("triage", "offline"))
    except Exception as exc:  # an unknown spec or a provider client that refuses to start (no key)
        raise InvalidRequest(f"cannot use model {spec!r}: {exc}") from exc


def _cmd_eval_routing(args: argparse.Namespace, settings: Settings) -> int:
    from evals.routing import DEFAULT_CSV, evaluate_file

    path = args.data or DEFAULT_CSV
    result = evaluate_file(
        path,
        _model(args.model, settings),
        limit=args.limit,
        seed=args.seed,
        workers=args.workers,
        customer_id=args.customer,
    )
    result["model"] = args.model or settings.models.get("triage", "offline")
    if result["model"] == "offline" and args.data is None:
        result["note"] = (
            "the offline router is trained on this file, so this is a training-set score; "
            "`python -m evals.router_eval` reports its cross-validated accuracy"
        )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(routing_report(result))
    return 0


def routing_report(result: dict[str, Any]) -> str:
    """The routing evaluation as text: headline, per route, confusion, per source, examples."""
    lines = [
        f"Routing through the triage step · model {result.get('model', '?')} · {result.get('data', '')}",
        f"n={result['n']}  accuracy={result['accuracy']:.3f}  macro-F1={result['macro_f1']:.3f}  "
        f"latency median {result['latency_ms']['median']:.1f} ms, p95 {result['latency_ms']['p95']:.1f} ms  "
        f"({result['seconds']:.1f} s)",
        "",
        f"{'route':<8} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}",
    ]
    for route, s in result["per_route"].items():
        lines.append(f"{route:<8} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f} {s['support']:>8}")
    labels = list(result["confusion"])
    lines += ["", "confusion (rows: gold, columns: predicted)", " " * 9 + "".join(f"{lb:>8}" for lb in labels)]
    for gold in labels:
        lines.append(f"{gold:<9}" + "".join(f"{result['confusion'][gold][p]:>8}" for p in labels))
    if result["by_source"]:
        lines += ["", "per source"]
        for source, m in result["by_source"].items():
            lines.append(f"  {source:<12} n={m['n']:<6} accuracy={m['accuracy']:.3f}  macro-F1={m['macro_f1']:.3f}")
    lines += ["", "slowest"]
    for r in result["slowest"][:5]:
        lines.append(f"  {r['ms']:>8.1f} ms  {r['text'][:90]}")
    lines += ["", f"misrouted ({result['misrouted_total']}; first {len(result['misrouted'])} shown)"]
    for r in result["misrouted"]:
        lines.append(f"  {r['route']:>7} → {r['predicted']:<7} {r['text'][:90]}")
    if result.get("note"):
        lines += ["", f"note: {result['note']}"]
    return "\n".join(lines)


def _eval_models(spec: str | None, settings: Settings) -> dict[str, Any]:
    """One model instance per distinct spec for the agents; a spec that cannot start is one line, exit 2."""
    from evals.harness import models_for, shared_models

    try:
        return shared_models(models_for(spec, settings))
    except Exception as exc:  # an unknown spec or a provider client that refuses to start (no key)
        raise InvalidRequest(f"cannot use model {spec!r}: {exc}") from exc


def _cmd_eval_scenarios(args: argparse.Namespace, settings: Settings) -> int:
    from evals.progress import Progress
    from evals.scenarios import SCENARIO_DIR, load_scenarios, run_suite

    scenarios = load_scenarios(args.dir or SCENARIO_DIR, only=args.only or ())
    models = _eval_models(args.model, settings)
    with Progress(len(scenarios) * args.k, "scenarios") as bar:
        result = run_suite(scenarios, settings, models, k=args.k, on_progress=bar.advance)
    result["model"] = args.model or dict(settings.models)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(scenarios_report(result, verbose=args.verbose))
    return 0 if result["pass_rate"] == 1.0 else 1


def _cmd_eval_messages(args: argparse.Namespace, settings: Settings) -> int:
    from evals.messages import load_messages, run_message_eval
    from evals.progress import Progress

    messages = load_messages(args.data)
    models = _eval_models(args.model, settings)
    with Progress(len(messages), "messages") as bar:
        result = run_message_eval(messages, settings, models, on_progress=bar.advance)
    result["data"] = str(args.data)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['n']} messages from {args.data} through the whole desk")
    print(
        f"route {result['route_accuracy']:.3f}  action {result['action_accuracy']:.3f}  "
        f"both {result['both_accuracy']:.3f}  proposals nobody asked for: {result['unasked_proposals']}"
    )
    for miss in result["misses"][: args.show]:
        print(f"  {miss['route']}/{miss['action']} → {miss['answered_by']}/{miss['proposed']}: {miss['text'][:90]}")
    return 0


def _cmd_eval_adversarial(args: argparse.Namespace, settings: Settings) -> int:
    from evals import adversarial
    from evals.progress import Progress

    transports = adversarial.TRANSPORTS if args.transport == "both" else (args.transport,)
    cases = adversarial.CASES
    with Progress(len(cases) * len(transports), "adversarial cases") as bar:
        result = adversarial.run_suite(settings, transports=transports, cases=cases, on_progress=bar.advance)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(adversarial_report(result))
    return 0 if result["violations"] == 0 else 1


def adversarial_report(result: dict[str, Any]) -> str:
    lines = []
    for r in result["results"]:
        mark = "✓" if not r["violations"] else "✗"
        lines.append(f"{mark} {r['transport']:<7} {r['id']:<30} {r['title']}")
        lines += [f"      {v}" for v in r["violations"]]
    lines += ["", f"{result['cases']} cases, {result['violations']} violations"]
    return "\n".join(lines)


def scenarios_report(result: dict[str, Any], *, verbose: bool = False) -> str:
    """The scenario suite as text: one line per scenario, failures with their transcript."""
    k = result["k"]
    lines = [f"{'scenario':<34} {'passes':>7} {'pass^k':>7} {'calls':>6}  covers"]
    for s in result["scenarios"]:
        mark = "✓" if s["passes"] == k else "✗"
        lines.append(
            f"{s['id']:<34} {s['passes']:>3}/{k:<3} {s['pass_hat_k']:>7.2f} {s['model_calls']:>6}  "
            f"{mark} {', '.join(s['covers'])}"
        )
    failed = [s for s in result["scenarios"] if s["failures"]]
    for s in failed:
        lines += ["", f"✗ {s['id']}: {s['title']}"]
        lines += [f"    - {f}" for f in s["failures"]]
        if verbose and s["failed_transcript"]:
            lines += [f"    {t['role']}: {t['text']}" for t in s["failed_transcript"]]
    curve = "  ".join(f"pass^{j}={v:.3f}" for j, v in result["pass_hat"].items())
    lines += [
        "",
        f"{result['n']} scenarios × {k} runs: pass rate {result['pass_rate']:.3f}  {curve}",
    ]
    if failed and not verbose:
        lines.append("(--verbose shows the transcript of each failing run)")
    return "\n".join(lines)


def _cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    import sys

    from evals.bench import run_bench, total_ticks
    from evals.bench_report import write_report
    from evals.harness import shared_models
    from evals.progress import Progress

    if args.engine == "aegra":
        return _bench_engines(args)
    # The benchmark is about the offline model: a configured provider would measure the network.
    offline = settings.model_copy(update={"models": dict.fromkeys(settings.models, "offline")})
    models = shared_models(dict(offline.models))
    if (args.url or args.token or args.clients) and not args.server:
        raise InvalidRequest("--clients, --url and --token go with --server")
    if args.token and not args.url:
        raise InvalidRequest("--token goes with --url (a server started by the benchmark has the demo tokens)")
    if args.url:
        from evals.server_bench import check_loopback

        check_loopback(args.url)  # refused before any work
    out = _bench_destination(args, settings)  # refused before any work
    turns_each = args.turns_each or 20
    sizes = {"turns": args.turns, "reps": args.reps, "threads": args.threads, "turns_each": turns_each}
    with Progress(total_ticks(**sizes), "bench") as bar:
        result = run_bench(offline, models, on_progress=bar.advance, **sizes)
    result["command"] = bench_command(args)
    if args.startup:
        from evals.baseline import bench_startup

        with Progress(args.rounds, "cold start") as bar:
            result["startup"] = bench_startup(rounds=args.rounds, tick=bar.advance)
    if args.baseline:
        from evals.baseline import bench_baseline

        def note(message: str) -> None:
            print(message, file=sys.stderr)

        with Progress(args.rounds, "seed harness") as bar:
            result["baseline"] = bench_baseline(
                args.baseline, offline, models, rounds=args.rounds, reps=args.baseline_reps, tick=bar.advance, log=note
            )
    if args.server:
        result["server"] = _bench_server(args)
    evals: dict[str, Any] = {}
    if args.evals:
        from evals.routing import DEFAULT_CSV, evaluate_file
        from evals.scenarios import load_scenarios, run_suite

        evals["routing"] = evaluate_file(DEFAULT_CSV, models["triage"], limit=args.routing_limit)
        evals["routing"]["model"] = "offline"
        evals["routing"]["note"] = (
            "the offline router is trained on this file, so this is a training-set score; "
            "`python -m evals.router_eval` reports its 5-fold cross-validated accuracy"
        )
        from llm.router import EVAL_CSV

        evals["routing_heldout"] = evaluate_file(EVAL_CSV, models["triage"], limit=args.routing_limit)
        scenarios = load_scenarios()
        with Progress(len(scenarios) * args.k, "scenarios") as bar:
            evals["scenarios"] = run_suite(scenarios, offline, models, k=args.k, on_progress=bar.advance)
    skipped = None
    if out is not None:
        path, skipped = write_report(result, out, evals=evals)
        print(f"Wrote {path}" + (f" and {out / 'bench_turns.png'}" if skipped is None else ""), file=sys.stderr)
        if skipped:
            print(f"note: {skipped}", file=sys.stderr)
    if args.json:
        long = dict(result["long_conversation"])
        if not args.per_turn:
            long.pop("per_turn")
        print(json.dumps({**result, "long_conversation": long, **evals}, indent=2))
    else:
        print(bench_summary(result))
    return 0


DOCS = Path(__file__).resolve().parent.parent / "docs"

# `make bench`: what the committed report must be made of. A run with less (fewer turns, no server...) is a
# partial run and never rewrites it.
FULL_RUN: dict[str, Any] = {
    "turns": 1000,
    "reps": 20,
    "threads": 4,
    "turns_each": None,
    "k": 3,
    "routing_limit": None,
    "rounds": 5,
    "baseline_reps": 10,
    "evals": True,
    "server": True,
    "startup": True,
    "url": None,
}


def _bench_destination(args: argparse.Namespace, settings: Settings) -> Path | None:
    """Where the report goes: a scratch folder unless --write-docs; None with --no-write."""
    if args.no_write:
        if args.write_docs:
            raise InvalidRequest("--no-write and --write-docs contradict each other")
        return None
    out: Path = DOCS if args.write_docs else (args.out or settings.data_dir / "bench")
    if out.resolve() == DOCS.resolve():
        partial = [f"--{k.replace('_', '-')}" for k, v in FULL_RUN.items() if getattr(args, k) != v]
        if partial:
            raise InvalidRequest(
                "docs/BENCHMARKS.md is only rewritten by the full run (`make bench`); this run differs in "
                f"{', '.join(partial)}. Leave out --write-docs (the report goes to {settings.data_dir / 'bench'})"
            )
    return out


def bench_command(args: argparse.Namespace) -> str:
    """The command line that reproduces this run, every size spelled out."""
    parts = ["support bench"]
    if args.write_docs:
        parts.append("--write-docs")
    parts.append(f"--turns {args.turns} --reps {args.reps} --threads {args.threads}")
    if args.turns_each:
        parts.append(f"--turns-each {args.turns_each}")
    if args.startup or args.baseline:
        parts.append(f"--rounds {args.rounds}")
    if args.startup:
        parts.append("--startup")
    if args.baseline:
        parts.append(f"--baseline {args.baseline} --baseline-reps {args.baseline_reps}")
    if args.server:
        parts.append(f"--server --clients {args.clients or 8}")
        if args.url:
            parts.append(f"--url {args.url}")
    if args.evals:
        parts.append(f"--evals --k {args.k}")
        if args.routing_limit:
            parts.append(f"--routing-limit {args.routing_limit}")
    return " ".join(parts)


def _bench_server(args: argparse.Namespace) -> dict[str, Any]:
    """The load on a `langgraph dev`: the one at --url, or one started for the purpose and stopped after."""
    import sys

    from evals.progress import Progress
    from evals.server_bench import run_server_bench, run_with_own_server

    clients = args.clients or 8
    turns_each = args.turns_each or 5
    if args.url is None:
        print("Starting a LangGraph server on a free 127.0.0.1 port with a throwaway data directory…", file=sys.stderr)
    with Progress(clients * turns_each, "server") as bar:
        if args.url:
            return run_server_bench(
                args.url,
                clients=clients,
                turns_each=turns_each,
                tokens=args.token,
                timeout=args.server_timeout,
                on_progress=bar.advance,
            )
        return run_with_own_server(
            clients=clients, turns_each=turns_each, timeout=args.server_timeout, on_progress=bar.advance
        )


def _bench_engines(args: argparse.Namespace) -> int:
    """`--server --engine aegra`: the server load on `langgraph dev` and Aegra side by side, nothing else.

    The in-process figures do not depend on the server, so this mode measures only the servers.
    """
    import sys

    from evals.engine_bench import ENGINES, run_engine_comparison
    from evals.progress import Progress

    if not args.server or args.url or args.write_docs or args.evals or args.startup or args.baseline:
        raise InvalidRequest("--engine aegra goes with --server alone (and --clients, --turns-each, --json)")
    clients, turns_each, single = args.clients or 8, args.turns_each or 5, 20
    print("Starting langgraph dev, then one and two Aegra instances, on free 127.0.0.1 ports…", file=sys.stderr)
    with Progress(len(ENGINES) * (single + clients * turns_each), "engines") as bar:
        result = run_engine_comparison(
            clients=clients, turns_each=turns_each, single_turns=single, on_progress=bar.advance
        )
    result["command"] = f"support bench --server --engine aegra --clients {clients} --turns-each {turns_each}"
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(engines_summary(result))
    return 0


def engines_summary(result: dict[str, Any]) -> str:
    """The engine comparison as a table: streamed turns, offline model."""
    lines = [
        f"{result['command']}  (every turn streamed to its end, offline model)",
        f"  {'server':<20} {'clients':>7} {'turns':>6} {'turns/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6}",
    ]
    for r in result["rows"]:
        lat = r["latency_ms"]
        lines.append(
            f"  {r['engine']:<20} {r['clients']:>7} {r['turns']:>6} {r['turns_per_second']:>8.1f} "
            f"{lat['median']:>8.1f} {lat['p95']:>8.1f} {r['errors']:>6}"
        )
        lines += [f"    error: {e}" for e in r["error_samples"]]
    return "\n".join(lines)


def bench_summary(result: dict[str, Any]) -> str:
    """The headline figures as text (the full tables are in BENCHMARKS.md)."""
    lines = ["seed scenarios (latency median / min / p95, model calls, prompt tokens)"]
    for row in result["seed_scenarios"]:
        lat = row["latency_ms"]
        lines.append(
            f"  {row['scenario']:<18} {lat['median']:>7.1f} / {lat['min']:>6.1f} / {lat['p95']:>6.1f} ms"
            f"  {row['model_calls']:>4g} calls  {row['prompt_tokens']:>8,.0f} tokens  → {row['final_agent']}"
        )
    total = sum(row["prompt_tokens"] for row in result["seed_scenarios"])
    lines.append(f"  prompt tokens over the four: {total:,.0f} (original design 11,239)")
    long = result["long_conversation"]
    lines.append(
        f"{long['turns']}-turn conversation (latency, prompt tokens, newest checkpoint, written this turn, file)"
    )
    for turn, r in long["at"].items():
        lines.append(
            f"  turn {turn:>4}: {r['latency_ms']:>7.1f} ms  {r['prompt_tokens']:>6,} tokens  "
            f"{r['checkpoint_bytes']:>9,} B  {r['written_bytes']:>8,} B  {r['file_bytes']:>11,} B"
        )
    for key, what, unit in (
        ("startup", "cold support ask vs bare import", "s"),
        ("baseline", "per turn vs seed", "ms"),
    ):
        if key in result:
            r = result[key]
            ours, theirs = (
                (r["ask_seconds"], r["bare_import_seconds"])
                if key == "startup"
                else (
                    r["ours_ms_per_turn"],
                    r["seed_ms_per_turn"],
                )
            )
            lines.append(
                f"{what}: {ours['median']:g} vs {theirs['median']:g} {unit} (median) = {r['ratio']['median']:.2f}×, "
                f"min {r['ratio']['min']:.2f}×"
            )
    lines.append("throughput")
    for r in result["throughput"]:
        lines.append(
            f"  {r['threads']} threads: {r['turns_per_second']:>6.1f} turns/s  "
            f"median {r['latency_ms']['median']:.1f} ms  p95 {r['latency_ms']['p95']:.1f} ms  errors {r['errors']}"
        )
    if "server" in result:
        r = result["server"]
        lines.append(f"server {r['url']}: {r['clients']} clients × {r['turns_each']} turns")
        lines.append(
            f"  {r['turns_per_second']:>6.1f} turns/s  p50 {r['latency_ms']['median']:.1f} ms  "
            f"p95 {r['latency_ms']['p95']:.1f} ms  errors {r['errors']}/{r['turns']}"
            + ("  (timed out)" if r["timed_out"] else "")
        )
        lines += [f"  error: {e}" for e in r["error_samples"]]
    return "\n".join(lines)


def add_parsers(sub: Any) -> None:
    """Add `eval` and `bench` to the `support` command's subparsers."""
    evaluation = sub.add_parser("eval", help="measure routing accuracy or run the scenario suite")
    esub = evaluation.add_subparsers(dest="suite", required=True, metavar="SUITE")

    routing = esub.add_parser(
        "routing",
        help="route labelled messages through the triage step and score them",
        description="Each message starts a fresh thread; the triage step's first handoff is its route "
        "(escalate_to_human = human, triage answering itself = other).",
    )
    routing.add_argument("--data", type=Path, help="CSV with text and route columns (default: the bundled dev set)")
    routing.add_argument(
        "--limit", type=_positive, help="a sample of N rows, in proportion to each source and route (seeded)"
    )
    routing.add_argument("--seed", type=int, default=0, help="the sample's seed with --limit (default 0)")
    routing.add_argument("--model", help="offline or openai:<model> (default: the configured triage model)")
    routing.add_argument("--customer", default="cust_001", help="whose account triage sees (default cust_001)")
    routing.add_argument("--workers", type=_positive, default=1, help="messages in flight at once (for real models)")
    routing.add_argument("--json", action="store_true", help="print one JSON document")
    routing.set_defaults(func=_cmd_eval_routing)

    scen = esub.add_parser(
        "scenarios",
        help="run the multi-turn scenario suite and report pass rate and pass^k",
        description="Each scenario runs in a fresh data directory with a fixed day; a scripted customer and "
        "manager play their parts; the outcome is checked on the database end state and the replies. "
        "Exits 1 when any run fails.",
    )
    scen.add_argument("--k", type=_positive, default=1, help="runs per scenario; pass^k needs every run to pass")
    scen.add_argument("--only", nargs="+", metavar="ID", help="run only these scenario ids")
    scen.add_argument("--dir", type=Path, help="read scenarios from this folder (default: the bundled suite)")
    scen.add_argument("--model", help="offline or openai:<model> for every agent (default: the configured models)")
    scen.add_argument("--verbose", action="store_true", help="print the transcript of failing runs")
    scen.add_argument("--json", action="store_true", help="print one JSON document")
    scen.set_defaults(func=_cmd_eval_scenarios)

    msgs = esub.add_parser(
        "messages",
        help="single labelled messages through the whole desk: who answers and what is proposed",
        description="Each message starts a fresh conversation; the answering agent is scored against `route` and the "
        "proposal left waiting against `action` (with the charge and amount for refunds). Nobody says yes.",
    )
    msgs.add_argument("--data", type=Path, required=True, help="CSV: customer_id,text,route,action,order_id,amount")
    msgs.add_argument("--model", help="offline or openai:<model> for every agent (default: the configured models)")
    msgs.add_argument("--show", type=int, default=20, help="misses to print (default 20)")
    msgs.add_argument("--json", action="store_true", help="print one JSON document")
    msgs.set_defaults(func=_cmd_eval_messages)

    adv = esub.add_parser(
        "adversarial",
        help="drive the real graph with a misbehaving model and check that nothing moves unconfirmed",
        description="Each case scripts a model that proposes what nobody asked for, uses other customers' orders, "
        "inflates amounts, repeats calls, claims the customer agreed, loops handoffs or sends malformed "
        "arguments, through the OpenAI protocol (a local server) and in process. The database must change only "
        "by what the customer confirmed. Exits 1 on any violation.",
    )
    adv.add_argument(
        "--transport", choices=("both", "openai", "offline"), default="both", help="how the model is reached"
    )
    adv.add_argument("--json", action="store_true", help="print one JSON document")
    adv.set_defaults(func=_cmd_eval_adversarial)

    bench = sub.add_parser(
        "bench",
        help="measure latency, model calls, prompt tokens, storage, start-up and throughput; write a report",
        description="In process, on the offline model, with the SQLite checkpointer, in throwaway data directories. "
        "With --server, also N concurrent customers × M turns against `langgraph dev` (turns/s, p50/p95, errors); "
        "with --startup and --baseline, side-by-side ratios. The report goes to a scratch folder; only the full "
        "run (`make bench`, --write-docs) rewrites docs/BENCHMARKS.md.",
    )
    bench.add_argument("--turns", type=_positive, default=1000, help="length of the long conversation (default 1000)")
    bench.add_argument("--reps", type=_positive, default=20, help="runs of each seed scenario (default 20)")
    bench.add_argument("--threads", type=_positive, default=4, help="concurrent conversations (default 4)")
    bench.add_argument(
        "--turns-each",
        type=_positive,
        help="messages per concurrent conversation (default 20 in process, 5 per --server client)",
    )
    bench.add_argument(
        "--server",
        action="store_true",
        help="also load a running `langgraph dev` with concurrent customers over HTTP (starts its own unless --url)",
    )
    bench.add_argument("--clients", type=_positive, help="with --server: concurrent customers (default 8)")
    bench.add_argument(
        "--engine",
        choices=("langgraph-dev", "aegra"),
        default="langgraph-dev",
        help="with --server: aegra measures only the servers, langgraph dev next to one and two Aegra instances "
        "(needs SUPPORT_DATABASE_URL, an empty Postgres database, and SUPPORT_REDIS_URL; `make aegra`)",
    )
    bench.add_argument(
        "--url", help="with --server: an already running server on this machine, e.g. http://127.0.0.1:2024"
    )
    bench.add_argument(
        "--token",
        action="append",
        help="with --url: a customer token (repeat for several; default the demo tokens demo-cust_001 … 005)",
    )
    bench.add_argument(
        "--server-timeout",
        type=_positive,
        default=600,
        help="with --server: seconds for the whole load; unfinished turns count as errors (default 600)",
    )
    bench.add_argument("--evals", action="store_true", help="also run the routing eval and the scenario suite")
    bench.add_argument("--routing-limit", type=_positive, help="with --evals: only the first N routing messages")
    bench.add_argument("--k", type=_positive, default=3, help="with --evals: runs per scenario (default 3)")
    bench.add_argument(
        "--startup",
        action="store_true",
        help="also time a cold `support ask` against the bare import of langgraph, its SQLite saver and "
        "langchain-core's messages, alternating --rounds times",
    )
    bench.add_argument(
        "--baseline",
        type=Path,
        metavar="PATH",
        help="also run the original design's harness (seed_system.py, in its own environment .venv-seed) "
        "alternating with our four turns --rounds times, and report the per-turn ratio",
    )
    bench.add_argument(
        "--rounds", type=_positive, default=5, help="with --startup or --baseline: alternating rounds (default 5)"
    )
    bench.add_argument(
        "--baseline-reps",
        type=_positive,
        default=10,
        help="with --baseline: the four messages this many times per round on each side (default 10)",
    )
    bench.add_argument(
        "--write-docs",
        action="store_true",
        help="write docs/BENCHMARKS.md and its plot (only for the full run, as `make bench` does it)",
    )
    bench.add_argument(
        "--out",
        type=Path,
        help="where BENCHMARKS.md and the plot go (default: $SUPPORT_DATA_DIR/bench, a scratch folder)",
    )
    bench.add_argument("--no-write", action="store_true", help="print the figures only; write no files")
    bench.add_argument("--json", action="store_true", help="print the figures as JSON")
    bench.add_argument("--per-turn", action="store_true", help="with --json: include every turn of the long run")
    bench.set_defaults(func=_cmd_bench)
