"""Side-by-side measurements: our turns against the original design's harness, and our cold start against
the bare import of what we build on. Each pair runs interleaved, round after round, in the same run, so both
sides see the same machine load; the report gives median and min over the rounds and their ratios.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from evals.harness import DEFAULT_TODAY, fresh_desk
from service.settings import Settings

__all__ = [
    "BARE_IMPORT",
    "COLD_MESSAGE",
    "SEED_PROMPT_TOKENS",
    "bench_baseline",
    "bench_startup",
    "seed_python",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The seed design's prompt tokens for the four classic messages, counted with the o200k tokenizer on the prompts
# it sends (issue 9). Its harness counts model calls and time, not tokens, so the figure is quoted.
SEED_PROMPT_TOKENS = 11_239

# What the desk is built on, imported and nothing else: the floor of any cold start.
BARE_IMPORT = "import langgraph.graph, langchain_core.messages; from langgraph.checkpoint.sqlite import SqliteSaver"
COLD_MESSAGE = "How do I export my data to CSV?"

_SEED_PACKAGES = ("openai-agents", "pydantic")


def _stats(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "rounds": len(values)}


def _ratios(ours: dict[str, float], theirs: dict[str, float]) -> dict[str, float]:
    return {
        "median": round(ours["median"] / theirs["median"], 2),
        "min": round(ours["min"] / theirs["min"], 2),
    }


def seed_python(venv: Path | None = None, *, log: Callable[[str], None] = lambda _m: None) -> Path:
    """The interpreter of the harness's own environment (openai-agents), created on first use.

    The harness must not run in ours (its README says so): `.venv-seed/` at the project root, from PyPI.
    """
    venv = venv or PROJECT_ROOT / ".venv-seed"
    python = venv / "bin" / "python"
    if not python.exists():
        log(f"Creating {venv} for the seed harness ({', '.join(_SEED_PACKAGES)})…")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *_SEED_PACKAGES],
            check=True,
        )
    return python


def _run_seed(python: Path, harness: Path, reps: int) -> dict[str, Any]:
    out = subprocess.run(
        [str(python), str(harness), str(reps)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
        cwd=harness.parent,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _our_turns(settings: Settings, models: dict[str, BaseChatModel], reps: int) -> tuple[float, int]:
    """ms per turn over `reps` rounds of the four classic messages, each in a fresh desk (timed: `ask`)."""
    from evals.bench import SEED_SCENARIOS

    spent = 0.0
    calls = 0
    for _ in range(reps):
        for _title, message in SEED_SCENARIOS:
            with fresh_desk(settings, models=models, today=DEFAULT_TODAY) as desk:
                started = time.perf_counter()
                result = desk.ask(message, customer_id="cust_001")
                spent += time.perf_counter() - started
            calls += result["model_calls"]
    turns = reps * len(SEED_SCENARIOS)
    return spent / turns * 1000, calls // reps


def bench_baseline(
    harness: Path,
    settings: Settings,
    models: dict[str, BaseChatModel],
    *,
    rounds: int,
    reps: int,
    python: Path | None = None,
    tick: Callable[[], None] = lambda: None,
    log: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """The seed harness (`harness [reps]`, in its own environment) and our four turns, alternating `rounds` times.

    Both sides run the same four messages `reps` times per round, one message per turn, and report ms per
    turn: the harness with its scripted model and nothing stored, ours through `SupportDesk.ask` with the offline
    model and SQLite (checkpoints and the domain database).
    """
    harness = harness.resolve()
    if not harness.is_file():
        raise FileNotFoundError(f"no seed harness at {harness}")
    python = python or seed_python(log=log)
    _run_seed(python, harness, 1)  # warm both sides: imports, caches, the router
    _our_turns(settings, models, 1)
    seed_ms: list[float] = []
    our_ms: list[float] = []
    seed_calls = our_calls = 0
    for _ in range(rounds):
        seed = _run_seed(python, harness, reps)
        seed_ms.append(float(seed["ms_per_turn"]))
        seed_calls = int(seed["total_model_calls"])
        ms, our_calls = _our_turns(settings, models, reps)
        our_ms.append(ms)
        tick()
    ours, theirs = _stats(our_ms), _stats(seed_ms)
    return {
        "harness": str(harness),
        "rounds": rounds,
        "reps": reps,
        "ours_ms_per_turn": ours,
        "seed_ms_per_turn": theirs,
        "ratio": _ratios(ours, theirs),
        "ours_per_round": [round(v, 3) for v in our_ms],
        "seed_per_round": [round(v, 3) for v in seed_ms],
        "model_calls": {"ours": our_calls, "seed": seed_calls},
        "seed_prompt_tokens": SEED_PROMPT_TOKENS,
    }


def _wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    return time.perf_counter() - started


def bench_startup(*, rounds: int, tick: Callable[[], None] = lambda: None) -> dict[str, Any]:
    """A cold `support ask` (a new process: imports, opening the files, one turn, exit) against a new process that
    only imports langgraph, its SQLite saver and langchain-core's messages, alternating `rounds` times.

    Two more processes in the same rounds say where the figure comes from: the bare import followed by the
    quick exit `support` takes (`cli.main.run`: no interpreter teardown), and `support ask --json`, whose
    usage figures make the offline model load its tokenizer.
    """
    import compileall

    support = str(Path(sys.executable).with_name("support"))
    # Bytecode for our packages, as an installed package has: where PYTHONDONTWRITEBYTECODE is set, every process
    # would compile them from source again, a cost no installed copy pays.
    for package in ("cli", "service", "graph", "nodes", "tools", "llm"):
        compileall.compile_dir(PROJECT_ROOT / package, quiet=1)
    with tempfile.TemporaryDirectory(prefix="support-coldstart-") as folder:
        env = {**os.environ, "SUPPORT_DATA_DIR": folder, "SUPPORT_TODAY": DEFAULT_TODAY.isoformat()}
        for var in ("SUPPORT_MODEL", "OPENAI_API_KEY"):
            env.pop(var, None)
        ask = [support, "ask", "--customer", "cust_001", COLD_MESSAGE]
        commands = {
            "ask": ask,
            "bare": [sys.executable, "-c", BARE_IMPORT],
            "bare_quick_exit": [sys.executable, "-c", f"{BARE_IMPORT}; import os; os._exit(0)"],
            "ask_json": [*ask[:2], "--json", *ask[2:]],
        }
        for command in commands.values():  # seeds the data directory and warms the file cache; not timed
            _wall(command, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, command in commands.items():
                times[name].append(_wall(command, env))
            tick()
    ours, floor, quick = _stats(times["ask"]), _stats(times["bare"]), _stats(times["bare_quick_exit"])
    return {
        "rounds": rounds,
        "ask_seconds": ours,
        "bare_import_seconds": floor,
        "ratio": _ratios(ours, floor),
        "bare_quick_exit_seconds": quick,
        "ratio_to_quick_exit": _ratios(ours, quick),
        "ask_json_seconds": _stats(times["ask_json"]),
        "command": f'support ask --customer cust_001 "{COLD_MESSAGE}"',
        "bare_import": BARE_IMPORT,
    }
