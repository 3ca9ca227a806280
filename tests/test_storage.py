"""Checkpoint storage stays bounded: a few checkpoints per thread, a flat file, the latest state intact."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from langchain_core.messages import HumanMessage
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import BaseCheckpointSaver

from evals.bench import LONG_CONVERSATION
from graph.builder import build_graph
from graph.context import Context
from llm.factory import make_chat_model
from nodes.deps import Deps
from service.checkpointer import (
    KEEP_CHECKPOINTS,
    BoundedAsyncSqliteSaver,
    BoundedSqliteSaver,
    lineage,
    open_saver,
)
from service.desk import SupportDesk
from service.settings import Settings


def _rows(conn: sqlite3.Connection, thread_id: str) -> tuple[int, int]:
    checkpoints = conn.execute("SELECT COUNT(*) FROM checkpoints WHERE thread_id = ?", (thread_id,)).fetchone()[0]
    writes = conn.execute("SELECT COUNT(*) FROM writes WHERE thread_id = ?", (thread_id,)).fetchone()[0]
    return int(checkpoints), int(writes)


def _file_bytes(data_dir: Path) -> tuple[int, int]:
    """(the database file, its write-ahead log)."""
    return (data_dir / "checkpoints.db").stat().st_size, (data_dir / "checkpoints.db-wal").stat().st_size


def test_a_long_thread_keeps_a_bounded_number_of_small_checkpoints(desk: SupportDesk) -> None:
    thread: str | None = None
    sizes: dict[int, tuple[int, int]] = {}
    for turn in range(1, 81):
        result = desk.ask(
            LONG_CONVERSATION[(turn - 1) % len(LONG_CONVERSATION)], customer_id="cust_001", thread_id=thread
        )
        thread = result["thread_id"]
        checkpoints, writes = _rows(desk.checkpointer.conn, thread)
        assert checkpoints <= KEEP_CHECKPOINTS and writes == 0, (turn, checkpoints, writes)
        newest = desk.checkpointer.conn.execute(
            "SELECT length(checkpoint) + length(metadata) FROM checkpoints WHERE thread_id = ? "
            "ORDER BY checkpoint_id DESC LIMIT 1",
            (thread,),
        ).fetchone()[0]
        assert newest <= 30_000, (turn, newest)  # one checkpoint per turn (durability "exit"), under 30 kB
        sizes[turn] = _file_bytes(desk.settings.data_dir)
    # The database file stays the size of the kept window of checkpoints: freed pages are reused. The log is
    # copied into it and restarted every 1,000 pages (SQLite's automatic checkpoint), so it stays under 4.2 MB.
    assert max(db for db, _ in sizes.values()) <= KEEP_CHECKPOINTS * 30_000 + 100_000, sizes
    assert max(wal for _, wal in sizes.values()) <= 4_200_000, sizes
    # Pruned checkpoints stay in the lineage: from the newest one, the parents lead back through every turn.
    parents = lineage(desk.checkpointer.conn, thread)
    node: str | None = desk.graph.get_state(desk._config(thread)).config["configurable"]["checkpoint_id"]
    chain = 0
    while node is not None:
        chain, node = chain + 1, parents.get(node)
    assert chain == len(parents) == 80  # one checkpoint per turn, none lost from the chain
    # The conversation itself is whole: the state continues, and history still has every turn.
    assert len(desk.history(thread)) == 160
    follow_up = desk.ask("Which card do you have on file for me?", customer_id="cust_001", thread_id=thread)
    assert "4242" in follow_up["response"] or "card" in follow_up["response"].lower()


def test_checkpoints_are_written_with_synchronous_normal_in_wal(desk: SupportDesk) -> None:
    conn = desk.checkpointer.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    with desk.db.connect() as domain:  # the money stays fully synchronous
        assert domain.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_prune_keep_latest_and_delete(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True)
    saver = open_saver(settings.data_dir, keep=50)  # keep everything, then prune by hand
    try:
        graph = build_graph(
            Deps(db=settings.database(), model_for=lambda _agent: make_chat_model("offline")), checkpointer=saver
        )
        settings.database().ensure_ready()
        config = {"configurable": {"thread_id": "t1"}}
        for text in ("How do I export my data to CSV?", "Thanks!"):
            graph.invoke({"messages": [HumanMessage(text)]}, config, context=Context(customer_id="cust_001"))
        before = graph.get_state(config).values
        assert before["messages"][-1].name == "FAQAgent"  # a real answer (the specialist keeps the thread)
        assert _rows(saver.conn, "t1")[0] > 2
        saver.prune(["t1"])
        assert _rows(saver.conn, "t1") == (1, 0)
        assert graph.get_state(config).values == before
        assert len(lineage(saver.conn, "t1")) > 2  # pruning keeps the lineage
        saver.prune(["t1"], strategy="delete")
        assert _rows(saver.conn, "t1") == (0, 0)
        assert lineage(saver.conn, "t1") == {}  # deleting a thread deletes it too
    finally:
        saver.conn.close()


def test_the_server_saver_prunes_and_deletes_runs(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True)
    db = settings.database()
    db.ensure_ready()

    async def scenario() -> None:
        path = str(settings.data_dir / "checkpoints.db")
        async with BoundedAsyncSqliteSaver.from_conn_string(path) as saver:
            assert isinstance(saver, BoundedAsyncSqliteSaver)
            saver.keep = 50
            graph = build_graph(Deps(db=db, model_for=lambda _agent: make_chat_model("offline")), checkpointer=saver)
            context = Context(customer_id="cust_001")
            for run, text in (("run-1", "How do I export my data to CSV?"), ("run-2", "Thanks!")):
                config = {"configurable": {"thread_id": "t1", "run_id": run}}
                await graph.ainvoke({"messages": [HumanMessage(text)]}, config, context=context)
            conn = sqlite3.connect(path)
            total = _rows(conn, "t1")[0]
            await saver.adelete_for_runs(["run-2"])
            remaining = conn.execute(
                "SELECT DISTINCT json_extract(CAST(metadata AS TEXT), '$.run_id') FROM checkpoints"
            ).fetchall()
            assert remaining == [("run-1",)] and _rows(conn, "t1")[0] < total
            assert len(lineage(conn, "t1")) == _rows(conn, "t1")[0]  # the deleted run's lineage went with it
            await saver.aprune(["t1"], strategy="keep_latest")
            assert _rows(conn, "t1") == (1, 0)
            state = await graph.aget_state({"configurable": {"thread_id": "t1"}})
            assert state.values["messages"][-1].name == "FAQAgent"
            conn.close()

    asyncio.run(scenario())


def test_the_server_finds_every_storage_method_it_asks_for() -> None:
    # langgraph-api warns at start-up ("storage usage will grow without bound") for each one not overridden.
    for name in ("aprune", "adelete_for_runs", "adelete_thread"):
        assert getattr(BoundedAsyncSqliteSaver, name) is not getattr(BaseCheckpointSaver, name), name
    for name in ("prune", "delete_for_runs", "delete_thread"):
        assert getattr(BoundedSqliteSaver, name) is not getattr(BaseCheckpointSaver, name), name


def test_pruning_is_safe_because_no_channel_keeps_its_state_in_older_checkpoints(settings: Settings) -> None:
    graph = build_graph(Deps(db=settings.database(), model_for=lambda _agent: make_chat_model("offline")))
    assert not [name for name, channel in graph.channels.items() if isinstance(channel, DeltaChannel)]
