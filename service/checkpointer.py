"""The LangGraph server's persistence: conversations checkpointed in SQLite in the data directory.

`langgraph.json` names `checkpointer` here. The server enters it once at start-up, inside its
event loop (where an `AsyncSqliteSaver` must be created), and leaves it at shutdown. The file is
the same `checkpoints.db` the CLI and the Python API use, so every client sees one history.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from service.settings import Settings

__all__ = ["CHECKPOINTS_FILE", "checkpointer"]

CHECKPOINTS_FILE = "checkpoints.db"


@asynccontextmanager
async def checkpointer() -> AsyncIterator[AsyncSqliteSaver]:
    """Yield a ready `AsyncSqliteSaver` on `<SUPPORT_DATA_DIR>/checkpoints.db`, closed on exit."""
    # The server flags blocking calls on its event loop (even os.getcwd for the default data
    # directory, and mkdir), so both go to a thread.
    data_dir = (await asyncio.to_thread(Settings.from_env)).data_dir
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(str(data_dir / CHECKPOINTS_FILE)) as saver:
        await saver.setup()
        yield saver
