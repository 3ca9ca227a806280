"""One message at a time per conversation, across processes: a lock file per thread in the data directory.

Two processes that each load a thread's latest checkpoint, add a message and save would both
"succeed", but the later save forks from the same parent and the earlier message is lost from
the thread. So every turn (and every resume) holds the thread's lock from reading the
checkpoint until the reply is saved. A second caller waits its turn (queued, in arrival order
as the operating system grants it) and, if the thread stays busy longer than `wait_s`, is
refused with a clear error instead of being dropped.

The lock is `flock` on ``<data dir>/locks/<hash of thread id>.lock``: released by the kernel when
the holder exits or crashes, so a killed process never leaves a thread locked.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from service.errors import InvalidRequest

__all__ = ["DEFAULT_WAIT_S", "ThreadBusy", "thread_lock"]

DEFAULT_WAIT_S = 120.0
_POLL_S = 0.05


class ThreadBusy(InvalidRequest):
    """The thread stayed busy with another message for longer than the caller would wait."""


@contextmanager
def thread_lock(data_dir: Path, thread_id: str, *, wait_s: float = DEFAULT_WAIT_S) -> Iterator[None]:
    """Hold the thread's lock for the duration of the block.

    Raises:
        ThreadBusy: Another process or thread held it for longer than ``wait_s`` seconds.
    """
    folder = data_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    # A hash, not the id itself: a thread id is caller-chosen text and must never name a path.
    name = hashlib.sha256(thread_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    fd = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ThreadBusy(
                        f"thread {thread_id} is busy with another message; try again in a moment"
                    ) from None
                time.sleep(_POLL_S)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
