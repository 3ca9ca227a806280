"""A one-line progress bar on stderr, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Counts finished items and redraws at most ten times a second.

    Nothing is written when the stream is not a TTY, so pipes, logs and `--json` stay clean.
    """

    def __init__(self, total: int, label: str, *, stream: TextIO | None = None, width: int = 30) -> None:
        self.total = max(total, 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self.width = width
        self.done = 0
        self._started = time.perf_counter()
        self._drawn = 0.0
        self._lock = threading.Lock()  # advanced from worker threads by `--workers`

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            now = time.perf_counter()
            if self.enabled and (now - self._drawn >= 0.1 or self.done >= self.total):
                self._drawn = now
                self._draw(now)

    def _draw(self, now: float) -> None:
        fraction = self.done / self.total if self.total else 1.0
        filled = int(fraction * self.width)
        elapsed = now - self._started
        eta = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        bar = "█" * filled + "·" * (self.width - filled)
        self.stream.write(f"\r{self.label} {bar} {self.done}/{self.total} {elapsed:5.1f}s (eta {eta:4.0f}s) ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
