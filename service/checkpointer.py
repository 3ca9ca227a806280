"""Conversations checkpointed in SQLite, with a bounded number of checkpoints per thread.

Two savers share one file, `<SUPPORT_DATA_DIR>/checkpoints.db`: `BoundedSqliteSaver` for the desk (CLI and
Python API) and `BoundedAsyncSqliteSaver` for the LangGraph server (`langgraph.json` names `checkpointer`
below; the server enters it once at start-up, inside its event loop, and leaves it at shutdown).

What they add to LangGraph's SQLite savers:

- **A bounded history.** Every stored checkpoint is a full copy of the state, and LangGraph keeps every one
  by default, so a thread's storage grew with its length. After each new checkpoint the savers delete the
  thread's checkpoints older than the latest `KEEP_CHECKPOINTS` (and their pending writes). The latest is
  all a conversation needs to continue or resume; the one before it covers a run that is still writing the
  next. `prune` / `aprune` ("keep_latest" or "delete") and `delete_for_runs` / `adelete_for_runs` are the
  LangGraph API for the same, which the server calls (and warns at start-up when they are missing).
  Safe because the graph has no `DeltaChannel` (whose state lives in older checkpoints' writes);
  `tests/test_storage.py` checks that it stays so.
- **The lineage survives pruning.** Every checkpoint's id and its parent's id are also written to the small
  table `checkpoint_lineage` (about 100 bytes a checkpoint), which pruning leaves alone: whatever needs to know
  whether an old checkpoint is an ancestor of the live one (the transcript archive's live branch) still can.
  Deleting a thread or a run deletes its lineage too.
- **`PRAGMA synchronous=NORMAL`** in WAL mode: a commit no longer waits for an fsync. A crash of the process
  (kill -9) loses nothing committed; a power cut may lose the last commits, never consistency. Safe here
  because a checkpoint can always be lost anyway (the desk writes one at the end of a turn): every effect
  with money in it (refunds, approvals, plan changes) lives in the domain database, which keeps SQLite's
  default FULL synchronisation and idempotency keys.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from service.settings import Settings

__all__ = [
    "CHECKPOINTS_FILE",
    "KEEP_CHECKPOINTS",
    "BoundedAsyncSqliteSaver",
    "BoundedSqliteSaver",
    "checkpointer",
    "lineage",
    "open_saver",
]

CHECKPOINTS_FILE = "checkpoints.db"

# Checkpoints kept per thread (and namespace). Storage stays bounded however long a thread runs, and
# the window still lets Studio fork or edit recent turns (time travel); older ones keep their lineage.
KEEP_CHECKPOINTS = 20

_LINEAGE_TABLE = """
CREATE TABLE IF NOT EXISTS checkpoint_lineage (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    parent_checkpoint_id TEXT,
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
)"""
_RECORD_LINEAGE = (
    "INSERT OR IGNORE INTO checkpoint_lineage (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id) "
    "VALUES (?, ?, ?, ?)"
)
_DELETE_THREAD_LINEAGE = "DELETE FROM checkpoint_lineage WHERE thread_id = ?"
_DELETE_ONE_LINEAGE = "DELETE FROM checkpoint_lineage WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?"

# Per connection, after LangGraph's own setup has switched the file to WAL.
_SYNCHRONOUS = "PRAGMA synchronous=NORMAL"

# The id of the thread's KEEP-th newest checkpoint in a namespace; everything older goes. uuid6 checkpoint
# ids sort by time, which is also how the savers find the latest one. NULL (nothing deleted) while the
# thread has fewer.
_NTH_NEWEST = (
    "(SELECT checkpoint_id FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? "
    "ORDER BY checkpoint_id DESC LIMIT 1 OFFSET ?)"
)
_TRIM = (
    f"DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id < {_NTH_NEWEST}",
    f"DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id < {_NTH_NEWEST}",
)
# keep_latest: per namespace, only the newest checkpoint and its writes stay.
_NEWEST_OF = (
    "(SELECT MAX(c.checkpoint_id) FROM checkpoints c "
    "WHERE c.thread_id = {t}.thread_id AND c.checkpoint_ns = {t}.checkpoint_ns)"
)
_KEEP_LATEST = (
    "DELETE FROM writes WHERE thread_id = ? AND checkpoint_id < " + _NEWEST_OF.format(t="writes"),
    # `checkpoints.` in the subquery is the row being deleted; the newest of its namespace is not below itself.
    "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_id < " + _NEWEST_OF.format(t="checkpoints"),
)
_RUN_CHECKPOINTS = (
    "SELECT thread_id, checkpoint_ns, checkpoint_id FROM checkpoints "
    "WHERE json_extract(CAST(metadata AS TEXT), '$.run_id') IN ({marks})"
)
_DELETE_ONE = (
    "DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?",
    "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?",
)


def _lineage(config: RunnableConfig, stored: RunnableConfig) -> tuple[str, str, str, str | None]:
    parent = config["configurable"].get("checkpoint_id")
    return (
        str(stored["configurable"]["thread_id"]),
        str(stored["configurable"].get("checkpoint_ns", "")),
        str(stored["configurable"]["checkpoint_id"]),
        str(parent) if parent else None,
    )


def _trim_params(config: RunnableConfig, keep: int) -> tuple[Any, ...]:
    thread_id = str(config["configurable"]["thread_id"])
    ns = str(config["configurable"].get("checkpoint_ns", ""))
    return (thread_id, ns, thread_id, ns, keep - 1)


def _check_strategy(strategy: str) -> None:
    if strategy not in ("keep_latest", "delete", "delete_all"):
        raise ValueError(f"unknown prune strategy {strategy!r}: use 'keep_latest' or 'delete'")


class BoundedSqliteSaver(SqliteSaver):
    """`SqliteSaver` keeping the newest `keep` checkpoints of each thread; WAL with synchronous=NORMAL."""

    def __init__(self, conn: sqlite3.Connection, *, keep: int = KEEP_CHECKPOINTS, **kwargs: Any) -> None:
        if keep < 1:
            raise ValueError("keep at least one checkpoint per thread")
        super().__init__(conn, **kwargs)
        self.keep = keep

    def setup(self) -> None:
        if self.is_setup:
            return
        super().setup()
        with self.lock:
            self.conn.execute(_SYNCHRONOUS)
            self.conn.execute(_LINEAGE_TABLE)
            self.conn.commit()

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        stored = super().put(config, checkpoint, metadata, new_versions)
        params = _trim_params(stored, self.keep)
        with self.cursor() as cur:
            cur.execute(_RECORD_LINEAGE, _lineage(config, stored))
            for sql in _TRIM:
                cur.execute(sql, params)
        return stored

    def delete_thread(self, thread_id: str) -> None:
        super().delete_thread(thread_id)
        with self.cursor() as cur:
            cur.execute(_DELETE_THREAD_LINEAGE, (str(thread_id),))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Keep only each thread's newest checkpoint ("keep_latest"), or delete the threads ("delete")."""
        _check_strategy(strategy)
        for thread_id in thread_ids:
            if strategy != "keep_latest":
                self.delete_thread(thread_id)
                continue
            with self.cursor() as cur:
                for sql in _KEEP_LATEST:
                    cur.execute(sql, (str(thread_id),))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints (and their writes) that these runs wrote."""
        ids = [str(r) for r in run_ids]
        if not ids:
            return
        with self.cursor() as cur:
            rows = cur.execute(_RUN_CHECKPOINTS.format(marks=",".join("?" * len(ids))), ids).fetchall()
            for row in rows:
                for sql in (*_DELETE_ONE, _DELETE_ONE_LINEAGE):
                    cur.execute(sql, tuple(row))


class BoundedAsyncSqliteSaver(AsyncSqliteSaver):
    """The server's `AsyncSqliteSaver`, bounded and tuned like `BoundedSqliteSaver`."""

    keep: int = KEEP_CHECKPOINTS

    async def setup(self) -> None:
        if self.is_setup:
            return
        await super().setup()
        async with self.lock:
            await self.conn.execute(_SYNCHRONOUS)
            await self.conn.execute(_LINEAGE_TABLE)
            await self.conn.commit()

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        stored = await super().aput(config, checkpoint, metadata, new_versions)
        params = _trim_params(stored, self.keep)
        async with self.lock:
            await self.conn.execute(_RECORD_LINEAGE, _lineage(config, stored))
            for sql in _TRIM:
                await self.conn.execute(sql, params)
            await self.conn.commit()
        return stored

    async def adelete_thread(self, thread_id: str) -> None:
        await super().adelete_thread(thread_id)
        async with self.lock:
            await self.conn.execute(_DELETE_THREAD_LINEAGE, (str(thread_id),))
            await self.conn.commit()

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Keep only each thread's newest checkpoint ("keep_latest"), or delete the threads ("delete")."""
        _check_strategy(strategy)
        await self.setup()
        for thread_id in thread_ids:
            if strategy != "keep_latest":
                await self.adelete_thread(thread_id)
                continue
            async with self.lock:
                for sql in _KEEP_LATEST:
                    await self.conn.execute(sql, (str(thread_id),))
                await self.conn.commit()

    async def adelete_for_runs(self, run_ids: Iterable[str]) -> None:
        """Delete the checkpoints (and their writes) that these runs wrote."""
        ids = [str(r) for r in run_ids]
        if not ids:
            return
        await self.setup()
        async with self.lock:
            async with self.conn.execute(_RUN_CHECKPOINTS.format(marks=",".join("?" * len(ids))), ids) as cur:
                rows = await cur.fetchall()
            for row in rows:
                for sql in (*_DELETE_ONE, _DELETE_ONE_LINEAGE):
                    await self.conn.execute(sql, tuple(row))
            await self.conn.commit()


def lineage(conn: sqlite3.Connection, thread_id: str, checkpoint_ns: str = "") -> dict[str, str | None]:
    """Every checkpoint the thread ever had in `checkpoint_ns`, pruned or not, mapped to its parent's id."""
    rows = conn.execute(
        "SELECT checkpoint_id, parent_checkpoint_id FROM checkpoint_lineage WHERE thread_id = ? AND checkpoint_ns = ?",
        (thread_id, checkpoint_ns),
    ).fetchall()
    return {str(c): (str(p) if p else None) for c, p in rows}


def open_saver(data_dir: Path, *, keep: int = KEEP_CHECKPOINTS) -> BoundedSqliteSaver:
    """The desk's saver on `<data_dir>/checkpoints.db`, set up; close it with `saver.conn.close()`."""
    conn = sqlite3.connect(data_dir / CHECKPOINTS_FILE, check_same_thread=False)
    saver = BoundedSqliteSaver(conn, keep=keep)
    saver.setup()
    return saver


@asynccontextmanager
async def checkpointer() -> AsyncIterator[BoundedAsyncSqliteSaver]:
    """Yield a ready `BoundedAsyncSqliteSaver` on `<SUPPORT_DATA_DIR>/checkpoints.db`, closed on exit."""
    # The server flags blocking calls on its event loop (even os.getcwd for the default data
    # directory, and mkdir), so both go to a thread.
    data_dir = (await asyncio.to_thread(Settings.from_env)).data_dir
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    async with BoundedAsyncSqliteSaver.from_conn_string(str(data_dir / CHECKPOINTS_FILE)) as saver:
        assert isinstance(saver, BoundedAsyncSqliteSaver)  # from_conn_string builds `cls`
        await saver.setup()
        yield saver
