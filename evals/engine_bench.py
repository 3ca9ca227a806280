"""`support bench --server --engine aegra`: one load on `langgraph dev`, on one Aegra instance and on two.

Every server is started the way `support serve` starts it (`service.server.ManagedServer`,
`service.aegra_server.AegraServer`) on free 127.0.0.1 ports, with a throwaway data directory, the
offline model and a fixed day. The Aegra instances keep their state in Postgres at
``SUPPORT_DATABASE_URL`` and share Redis at ``SUPPORT_REDIS_URL`` (use an empty database: the runs,
threads and the demo customers are written there). Each server gets one client alone, then
``clients`` concurrent clients (spread over the instances); every turn is streamed to its end
(``runs.stream``), so a figure is the time a customer waits for the whole reply.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from evals.server_bench import _DROP_ENV, _OWN_SERVER_ENV, run_server_bench
from service.errors import InvalidRequest

__all__ = ["ENGINES", "run_engine_comparison"]

# (label, engine, instances)
ENGINES: tuple[tuple[str, str, int], ...] = (
    ("langgraph dev", "langgraph-dev", 1),
    ("Aegra, 1 instance", "aegra", 1),
    ("Aegra, 2 instances", "aegra", 2),
)
_QUIET = {**_OWN_SERVER_ENV, "LOG_LEVEL": "WARNING"}


def _aegra_env() -> dict[str, str]:
    missing = [var for var in ("SUPPORT_DATABASE_URL", "SUPPORT_REDIS_URL") if not os.environ.get(var, "").strip()]
    if missing:
        raise InvalidRequest(
            f"--engine aegra needs {' and '.join(missing)}: an empty Postgres database and a Redis on this machine"
        )
    return {var: os.environ[var] for var in ("SUPPORT_DATABASE_URL", "SUPPORT_REDIS_URL")}


@contextmanager
def _servers(engine: str, instances: int, data_dir: Path) -> Iterator[list[str]]:
    """Start the instances (one after another: the first runs Aegra's migrations); yield their URLs."""
    from service.aegra_server import AegraServer
    from service.server import ManagedServer

    with ExitStack() as stack:
        urls = []
        for index in range(instances):
            if engine == "aegra":
                server: ManagedServer = AegraServer(
                    data_dir,
                    env={**_QUIET, **_aegra_env()},
                    drop_env=_DROP_ENV,
                    log_path=data_dir / f"aegra-{index}.log",
                )
            else:
                server = ManagedServer(data_dir, env=_QUIET, drop_env=_DROP_ENV)
            try:
                server.start(timeout=180)
            except RuntimeError as exc:
                raise InvalidRequest(str(exc).splitlines()[0] + " (run `support serve` to see why)") from exc
            stack.callback(server.stop)
            urls.append(server.url)
        yield urls


def run_engine_comparison(
    *,
    clients: int = 8,
    turns_each: int = 5,
    single_turns: int = 20,
    timeout: float = 600.0,
    on_progress: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Measure each engine of `ENGINES` with one client (``single_turns`` turns) and ``clients`` clients.

    Raises:
        InvalidRequest: ``SUPPORT_DATABASE_URL`` or ``SUPPORT_REDIS_URL`` is missing, or a server did not start.
    """
    _aegra_env()  # refused before any server starts
    rows = []
    for label, engine, instances in ENGINES:
        with (
            tempfile.TemporaryDirectory(prefix="support-bench-engine-") as tmp,
            _servers(engine, instances, Path(tmp)) as urls,
        ):
            for n, turns in ((1, single_turns), (clients, turns_each)):
                result = run_server_bench(
                    urls, clients=n, turns_each=turns, timeout=timeout, on_progress=on_progress, stream=True
                )
                rows.append(
                    {
                        "engine": label,
                        "instances": instances,
                        "clients": n,
                        "turns": result["turns"],
                        "turns_per_second": result["turns_per_second"],
                        "latency_ms": result["latency_ms"],
                        "errors": result["errors"],
                        "error_samples": result["error_samples"],
                    }
                )
    return {"clients": clients, "turns_each": turns_each, "single_turns": single_turns, "rows": rows}
