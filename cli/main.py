"""`support`: talk to the desk, decide approvals, inspect threads, run the demo."""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from cli.logs import configure_logging
from cli.serve import add_serve_parser
from cli.stream import StreamPrinter
from service.errors import InvalidRequest
from service.settings import Settings
from tools.db import DatabaseUnavailable

__all__ = ["main"]

logger = logging.getLogger("support.cli")


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


def _desk(settings: Settings) -> Any:
    from service.desk import SupportDesk  # imported here so `support --help` stays instant

    return SupportDesk(settings)


def _cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if not args.json:  # the reply shows no token usage: the offline model need not load its tokenizer
        settings = settings.model_copy(update={"count_offline_tokens": False})
    with _desk(settings) as desk:
        result = desk.ask(args.message, customer_id=args.customer, thread_id=args.thread)
    if args.json:
        _print_json(result)
        return 0
    print(f"{result['final_agent']}: {result['response']}")
    if result["pending_approval"]:
        print(f"(waiting for a manager: approval {result['pending_approval']['approval_id']})")
    route = " → ".join(result["routed_to"])
    print(f"(thread {result['thread_id']} · route {route} · {result['model_calls']} model calls)")
    return 0


def _cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from tools.accounts import customer_exists

    settings = settings.model_copy(update={"count_offline_tokens": False})  # usage is never shown here

    with _desk(settings) as desk:
        if not customer_exists(desk.db, args.customer):  # say so now, not after every line typed
            from service.desk import unknown_customer

            raise InvalidRequest(unknown_customer(args.customer))
        thread = args.thread
        print(f"Chatting as {args.customer}. Type 'quit' to leave.")
        while True:
            try:
                line = input("you> ")
            except (EOFError, KeyboardInterrupt):
                print()
                break
            if not sys.stdin.isatty():  # piped input is not echoed; keep the transcript readable
                print(line)
            if line.strip().lower() in {"quit", "exit", ":q"}:
                break
            if not line.strip():
                continue
            printer = StreamPrinter()
            try:
                result = desk.ask(line, customer_id=args.customer, thread_id=thread, on_text=printer)
            except InvalidRequest as exc:
                print(f"error: {exc}", file=sys.stderr)
                if thread is None or "thread" not in str(exc):
                    continue
                return 2
            thread = result["thread_id"]
            printer.finish()
            if not printer.printed:  # nothing was streamed, e.g. the fallback answer after a failed turn
                print(f"{result['final_agent']}> {result['response']}")
        if thread:
            print(f"Thread {thread}: continue later with --thread {thread}")
    return 0


def _cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    with _desk(settings) as desk:
        transcript = desk.history(args.thread)
    if args.json:
        _print_json({"thread_id": args.thread, "messages": transcript})
        return 0
    for item in transcript:
        who = "Customer" if item["role"] == "customer" else item["agent"] or "Agent"
        print(f"{who}: {item['text']}")
    return 0


_APPROVAL_COLUMNS = (
    ("ID", 8),
    ("STATUS", 8),
    ("CUSTOMER", 23),
    ("ORDER", 8),
    ("AMOUNT", 10),
    ("RULE", 20),
)


def _approval_header(decided: bool) -> str:
    head = "  ".join(f"{n:>{w}}" if n == "AMOUNT" else f"{n:<{w}}" for n, w in _APPROVAL_COLUMNS)
    return f"{head}  {'DECIDED BY':<22}  NOTE" if decided else f"{head}  CUSTOMER'S REASON"


ORPHANED_NOTE = "ORPHANED: its conversation no longer waits for it (forked, edited or lost); reject it to resolve"


def _approval_row(a: dict[str, Any], decided: bool) -> str:
    amount = f"${a['amount']:,.2f}"
    row = (
        f"{a['approval_id']:<8}  {a['status']:<8}  {a['customer_id']} {a['customer_name'][:14]:<14}  "
        f"{a['order_id']:<8}  {amount:>10}  {a['rule'][:20]:<20}"
    )
    if not decided:
        return f"{row}  {a['reason'][:40]}" + (f"\n    {ORPHANED_NOTE}" if a.get("live") is False else "")
    when = (a.get("decided_at") or "")[:16].replace("T", " ")
    who = f"{a['decided_by']} {when}" if a.get("decided_by") else "-"
    return f"{row}  {who[:22]:<22}  {(a.get('note') or '')[:40]}"


def _cmd_approvals(args: argparse.Namespace, settings: Settings) -> int:
    with _desk(settings) as desk:
        if args.action == "list":
            found = [
                # "live" only means something while it waits: False flags an orphan nobody can approve.
                {**a.model_dump(mode="json"), "live": desk.is_live(a) if a.status == "pending" else None}
                for a in desk.approvals(status=None if args.all else "pending")
            ]
            if args.json:
                _print_json(found)
            elif not found:
                print("No approvals waiting." if not args.all else "No approvals yet.")
            else:
                print(_approval_header(args.all))
                for a in found:
                    print(_approval_row(a, args.all))
            return 0
        approve = args.action == "approve"
        outcome = desk.decide(args.approval_id, approve=approve, by=args.by, note=args.note if approve else args.reason)
    if args.json:
        _print_json(outcome)
        return 0
    a = outcome["approval"]
    print(f"{a['approval_id']} {a['status']} by {a['decided_by']}.")
    if outcome["customer_reply"]:
        print(f"Customer was told: {outcome['customer_reply']}")
    if not outcome["delivered"]:
        print("Not delivered: the customer's conversation no longer exists or is busy; tell them another way.")
    return 0


def _cmd_threads(args: argparse.Namespace, settings: Settings) -> int:
    with _desk(settings) as desk:
        found = desk.threads(args.customer)
    if args.json:
        _print_json({"customer_id": args.customer, "threads": found})
        return 0
    if not found:
        print(f"No conversations for {args.customer} yet.")
        return 0
    print(f"{'THREAD':<16}  {'UPDATED (UTC)':<16}  {'MESSAGES':>8}  LAST CUSTOMER MESSAGE")
    for t in found:
        waiting = " (waiting for a manager)" if t["waiting_for_manager"] else ""
        when = t["updated_at"][:16].replace("T", " ")
        print(f"{t['thread_id']:<16}  {when:<16}  {t['messages']:>8}  {t['last_message'][:60]}{waiting}")
    print("Continue one with: support chat --customer CUSTOMER --thread THREAD; read it with: support history THREAD")
    return 0


def _cmd_reset(args: argparse.Namespace, settings: Settings) -> int:
    import shutil

    # Conversations go with the data they refer to: a thread must never outlive its refunds.
    for name in ("checkpoints.db", "checkpoints.db-wal", "checkpoints.db-shm"):
        (settings.data_dir / name).unlink(missing_ok=True)
    for folder in ("demo", "server"):  # server/: the LangGraph server's thread registry
        if (settings.data_dir / folder).exists():
            shutil.rmtree(settings.data_dir / folder)
    settings.database().reset()
    where = (
        settings.data_dir
        if settings.database_url is None
        else f"{settings.data_dir} and {settings.database_location()}"
    )
    print(f"Reset the support data in {where}")
    return 0


def _cmd_customers(args: argparse.Namespace, settings: Settings) -> int:
    from tools.accounts import list_customers

    with _desk(settings) as desk:
        found = list_customers(desk.db)
    if args.json:
        _print_json(found)
    else:
        for c in found:
            print(f"{c['id']}  {c['name']:<16} {c['plan']}")
    return 0


def _cmd_graph(args: argparse.Namespace, settings: Settings) -> int:
    print(mermaid_diagram())
    return 0


def mermaid_diagram() -> str:
    """The graph as Mermaid, drawn from the code (nothing is opened or called to draw it)."""
    from graph.builder import build_graph
    from llm.factory import make_chat_model
    from nodes.deps import Deps
    from tools.clock import SystemClock
    from tools.db import Database

    deps = Deps(db=Database(Path("unused.db"), SystemClock()), model_for=make_chat_model)
    return str(build_graph(deps).get_graph().draw_mermaid()).strip()


def _cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    from cli.config import cmd_config

    return cmd_config(args, settings)


def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from cli.demo import run_demo

    return run_demo(settings, as_json=args.json)


def build_parser(
    parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser, *, required: bool = True
) -> argparse.ArgumentParser:
    parser = parser_class(
        prog="support",
        description="Acme Support Desk: a triage agent hands each customer to billing, refund or FAQ.",
        epilog="Data lives in $SUPPORT_DATA_DIR (default ./.support). Runs offline unless a model is configured.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the demo conversations in a fresh data directory")
    demo.add_argument("--json", action="store_true", help="print the results as JSON")
    demo.set_defaults(func=_cmd_demo)

    ask = sub.add_parser("ask", help="send one message and print the reply")
    ask.add_argument("--customer", required=required, help="customer id, e.g. cust_001")
    ask.add_argument("--thread", help="continue this thread (printed after each reply)")
    ask.add_argument("--json", action="store_true", help="print the full result as JSON")
    ask.add_argument("message", help="the customer's message")
    ask.set_defaults(func=_cmd_ask)

    chat = sub.add_parser(
        "chat",
        help="an interactive multi-turn conversation",
        description="One message per line; replies stream as they are written. 'quit', 'exit' or Ctrl-D leaves.",
    )
    chat.add_argument("--customer", required=required, help="customer id, e.g. cust_001")
    chat.add_argument("--thread", help="continue this thread")
    chat.set_defaults(func=_cmd_chat)

    approvals = sub.add_parser("approvals", help="list, approve or reject refunds waiting for a manager")
    asub = approvals.add_subparsers(dest="action", required=True, metavar="ACTION")
    alist = asub.add_parser("list", help="refunds waiting for a decision")
    alist.add_argument("--all", action="store_true", help="include decided approvals")
    alist.add_argument("--json", action="store_true", help="print as JSON")
    approve = asub.add_parser("approve", help="approve a refund and resume the customer's conversation")
    approve.add_argument("approval_id", help="e.g. apr_0001 (see `support approvals list`)")
    approve.add_argument("--by", required=required, help="the manager's name")
    approve.add_argument("--note", help="an optional note")
    approve.add_argument("--json", action="store_true", help="print as JSON")
    reject = asub.add_parser("reject", help="reject a refund and tell the customer why")
    reject.add_argument("approval_id", help="e.g. apr_0001 (see `support approvals list`)")
    reject.add_argument("--by", required=required, help="the manager's name")
    reject.add_argument("--reason", required=required, help="why (the customer sees it)")
    reject.add_argument("--json", action="store_true", help="print as JSON")
    approvals.set_defaults(func=_cmd_approvals)

    history = sub.add_parser("history", help="show a thread's conversation")
    history.add_argument("thread", help="the thread id that ask and chat print")
    history.add_argument("--json", action="store_true", help="print as JSON")
    history.set_defaults(func=_cmd_history)

    threads = sub.add_parser("threads", help="list a customer's conversations, most recent first")
    threads.add_argument("--customer", required=required, help="customer id, e.g. cust_001 (see `support customers`)")
    threads.add_argument("--json", action="store_true", help="print as JSON")
    threads.set_defaults(func=_cmd_threads)

    customers = sub.add_parser("customers", help="list the customers in the database")
    customers.add_argument("--json", action="store_true", help="print as JSON")
    customers.set_defaults(func=_cmd_customers)

    config = sub.add_parser("config", help="show the effective settings (models, timeouts, retries), secrets masked")
    config.add_argument("--json", action="store_true", help="print as JSON")
    config.set_defaults(func=_cmd_config)

    graph = sub.add_parser("graph", help="print the graph as a Mermaid diagram")
    graph.set_defaults(func=_cmd_graph)

    add_serve_parser(sub)

    reset = sub.add_parser(
        "reset",
        help="delete all support data and recreate the seed data",
        description="Deletes support.db (or, with $SUPPORT_DATABASE_URL, the desk's tables in that PostgreSQL "
        "database), the conversations (checkpoints.db), the demo data and the server's thread registry in "
        "$SUPPORT_DATA_DIR, then recreates the seed data. It cannot be undone.",
    )
    reset.set_defaults(func=_cmd_reset)

    from cli.evals import add_parsers as add_eval_parsers

    add_eval_parsers(sub)
    return parser


class _ParseError(Exception):
    pass


class _TrialParser(argparse.ArgumentParser):
    """Parses without printing or exiting, to look for unknown options first."""

    def error(self, message: str) -> NoReturn:
        raise _ParseError(message)


def _unknown_options(argv: Sequence[str]) -> list[str]:
    """Options no command knows, e.g. `--user` for `--customer`.

    argparse checks required options before unknown ones, so `ask --user cust_001 hi` would be
    blamed on a missing --customer; a trial parse with nothing required finds the real mistake.
    """
    try:
        _, extra = build_parser(_TrialParser, required=False).parse_known_args(argv)
    except _ParseError:
        return []  # another mistake: the real parse reports it
    return [a for a in extra if a.startswith("-")]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:  # a parser that raises instead of exiting: the slower diagnosis below runs only for a mistake
        args = build_parser(_TrialParser).parse_args(argv)
    except _ParseError:
        parser = build_parser()
        if unknown := _unknown_options(argv):
            parser.error(f"unrecognized arguments: {' '.join(unknown)} (see `support COMMAND --help`)")
        args = parser.parse_args(argv)  # prints the mistake and exits
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"support: error: {exc}", file=sys.stderr)
        return 2
    quiet = getattr(args, "json", False) or args.command in (
        "approvals",
        "history",
        "customers",
        "reset",
        "graph",
        "config",
        "eval",
        "bench",
        "serve",
    )
    try:
        configure_logging(settings.data_dir, show_handoffs=None if quiet else sys.stdout)
    except OSError as exc:  # e.g. SUPPORT_DATA_DIR names a file, or a folder that cannot be created
        reason = exc.strerror or str(exc)
        print(f"support: error: cannot use {settings.data_dir} as SUPPORT_DATA_DIR: {reason}", file=sys.stderr)
        return 2
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        status = func(args, settings)
        sys.stdout.flush()  # a closed pipe shows here, not at exit where it would print a warning
        return status
    except BrokenPipeError:
        # The reader stopped early (`support graph | head`): not an error worth a message. Later writes,
        # including the interpreter's final flush, go nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a command stopped by a closed pipe
    except InvalidRequest as exc:
        print(f"support: error: {exc}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:
        logger.exception("command failed")
        if isinstance(exc, sqlite3.OperationalError):  # locked, disk full...: not damage
            print(f"support: error: {exc} (details in {settings.data_dir / 'support.log'})", file=sys.stderr)
            return 1
        # A damaged file is left as it is, for a backup or a repair; reset is the last resort.
        print(
            f"support: error: a database in {settings.data_dir} is damaged ({exc}); restore it from a backup, "
            "or start over with `support reset`",
            file=sys.stderr,
        )
        return 1
    except DatabaseUnavailable as exc:  # a wrong or unreachable SUPPORT_DATABASE_URL: the message says which
        logger.exception("command failed")
        print(f"support: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # an operator gets one line, the log gets the traceback
        logger.exception("command failed")
        print(f"support: error: {_one_line(exc)} (details in {settings.data_dir / 'support.log'})", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    """The first line of an error's message (a driver's may run to several), or its type's name."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def run() -> NoReturn:
    """The `support` command: `main`, then an exit without the interpreter's teardown.

    With langgraph, langchain and pydantic loaded, that teardown (freeing every module's objects one by one)
    takes about 0.3 s, a quarter of a cold `support ask`, and does nothing we need: the exit handlers run here,
    logs and output are flushed, and the desk has closed its databases. A command that left other threads
    running gets the ordinary exit, which waits for them.
    """
    status = main()
    if threading.active_count() > 1:
        sys.exit(status)
    atexit._run_exitfuncs()  # what the interpreter would run at exit: logging.shutdown, tracing flushes
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        status = status or 141
    os._exit(status)


if __name__ == "__main__":
    run()
