"""Logging for the CLI: JSON lines to a file in the data directory, handoff lines on screen.

Everything is masked first (`service.privacy`): emails, card digits and customers' names never
reach `support.log` or the screen.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, TextIO

from service.privacy import MASKING_FILTER, mask, mask_support_logs, remember_names_in

__all__ = ["JsonLineFormatter", "configure_logging"]

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record, with any `extra=` fields included."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:  # already formatted (and masked) by the masking filter
            entry["exception"] = record.exc_text
        # Masked again as a whole line: whatever a field held, nothing personal is written.
        return mask(json.dumps(entry, default=str))


class _HandoffsOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "event", None) == "handoff"


def configure_logging(data_dir: Path, *, show_handoffs: TextIO | None = sys.stdout) -> None:
    """Send every `support.*` record to `<data_dir>/support.log`; echo handoff lines if asked."""
    root = logging.getLogger("support")
    root.setLevel(logging.INFO)
    root.propagate = False
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    data_dir.mkdir(parents=True, exist_ok=True)
    remember_names_in(data_dir / "support.db")
    mask_support_logs()
    file_handler = logging.FileHandler(data_dir / "support.log", encoding="utf-8")
    file_handler.addFilter(MASKING_FILTER)
    file_handler.setFormatter(JsonLineFormatter())
    root.addHandler(file_handler)
    if show_handoffs is not None:
        screen = logging.StreamHandler(show_handoffs)
        screen.addFilter(_HandoffsOnly())
        screen.addFilter(MASKING_FILTER)
        screen.setFormatter(logging.Formatter("  %(message)s"))
        root.addHandler(screen)
