"""`support serve`: the LangGraph server with Studio, the API and the approval console."""

from __future__ import annotations

import argparse

from service.settings import Settings

__all__ = ["add_serve_parser"]


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from service.server import serve  # imported here so `support --help` stays instant

    return serve(
        settings.data_dir,
        host=args.host,
        port=args.port,
        jobs=args.jobs,
        studio=args.studio,
        demo_tokens=args.demo_tokens,
        engine=args.engine,
    )


def add_serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser(
        "serve",
        help="run the LangGraph server: API, Studio and the approval console",
        description="Run `langgraph dev` (no browser, no reload) with its state in $SUPPORT_DATA_DIR/server, "
        "or the same graph on Aegra (--engine aegra) with its state in Postgres.",
    )
    serve.add_argument(
        "--engine",
        choices=("langgraph-dev", "aegra"),
        default="langgraph-dev",
        help="langgraph-dev (default: one process, SQLite) or aegra (Postgres at $SUPPORT_DATABASE_URL, Redis at "
        "$SUPPORT_REDIS_URL, several instances; `make aegra` installs it)",
    )
    serve.add_argument("--port", type=int, default=2024, help="port to listen on (default 2024)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--jobs", type=int, default=8, help="runs processed at once (default 8)")
    serve.add_argument(
        "--studio",
        action="store_true",
        help="let LangGraph Studio (https://smith.langchain.com) connect without a token, as a manager; "
        "loopback hosts only (also SUPPORT_STUDIO_ACCESS=1)",
    )
    serve.add_argument(
        "--demo-tokens",
        action="store_true",
        help="accept the published demo tokens (demo-manager, demo-cust_001...) from this machine; "
        "loopback hosts only (also SUPPORT_DEMO_TOKENS=1); `make serve` turns them on",
    )
    serve.set_defaults(func=_cmd_serve)
