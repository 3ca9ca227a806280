"""Personal data kept out of logs and traces: emails, customers' names and card digits are masked.

Customers' words, account summaries and handoff summaries reach `support.log`, the server's log
and, when tracing is on, LangSmith. Those are read by more people, and kept longer, than the
conversations themselves, so everything written there goes through `mask`:

- email addresses become ``[email]``;
- a card number (13 to 19 digits, spaces or dashes allowed) becomes ``[card ****1234]``, and the
  last four digits named as such ("ending in 4242", ``"last4": "4242"``) become ``****``;
- the names of the customers in the database (whole name, and each part of it as a word) become
  ``[name]``.

`mask_support_logs` puts a filter on every ``support.*`` logger, so the CLI's file, the server's
output and any handler an operator adds all receive masked records. `install_trace_masking`
hands LangSmith a client whose ``hide_inputs``/``hide_outputs`` apply the same masking to every
run sent (only when tracing is on; nothing is created otherwise).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "MASKING_FILTER",
    "MaskingFilter",
    "install_trace_masking",
    "mask",
    "mask_data",
    "mask_support_logs",
    "remember_names",
    "remember_names_in",
]

_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_CARD = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")
_LAST4 = re.compile(
    r"(?i)(\b(?:ending|ends)(?:\s+(?:in|with))?\s*:?\s*|\blast\s*(?:4|four)(?:\s+digits)?\W{0,4})\d{4}\b"
)
_LAST4_FIELD = re.compile(r'("last4"\s*:\s*")\d{4}(")')

_names: set[str] = set()
_names_lock = threading.Lock()
_names_pattern: re.Pattern[str] | None = None


def remember_names(names: Iterable[str]) -> None:
    """Add customers' names to those masked (each whole name and each part of three letters or more)."""
    global _names_pattern
    with _names_lock:
        before = len(_names)
        for name in names:
            name = (name or "").strip()
            if name:
                _names.add(name)
                _names.update(part for part in name.split() if len(part) >= 3)
        if len(_names) != before or _names_pattern is None:
            # Longest first, so "Alice Johnson" goes as one before "Alice" alone.
            words = sorted(_names, key=len, reverse=True)
            _names_pattern = (
                re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE) if words else None
            )


def remember_names_in(database_file: Path) -> None:
    """Remember the names of every customer in the domain database, if it exists (read-only, best effort)."""
    if not database_file.exists():
        return
    try:
        conn = sqlite3.connect(f"file:{database_file}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute("SELECT name FROM customers").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:  # no customers table yet, or a damaged file: nothing to learn
        return
    remember_names(row[0] for row in rows)


def mask(text: str) -> str:
    """The text with emails, card digits and known customers' names masked."""
    if not text:
        return text
    text = _EMAIL.sub("[email]", text)
    text = _CARD.sub(lambda m: f"[card ****{re.sub(r'[^0-9]', '', m.group())[-4:]}]", text)
    text = _LAST4.sub(lambda m: f"{m.group(1)}****", text)
    text = _LAST4_FIELD.sub(r"\1****\2", text)
    pattern = _names_pattern
    if pattern is not None:
        text = pattern.sub("[name]", text)
    return text


def mask_data(value: Any) -> Any:
    """`mask` applied to every string inside dicts, lists and tuples (keys kept)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {key: mask_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_data(item) for item in value]
    if hasattr(value, "model_dump"):  # LangChain messages and other pydantic records in a trace
        try:
            return mask_data(value.model_dump())
        except Exception:  # never let masking break tracing; the text form is masked instead
            return mask(str(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # A node's `Command(goto=..., update=...)` and similar records: their fields, masked.
        return {f.name: mask_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class MaskingFilter(logging.Filter):
    """Rewrites a record in place: message, `extra=` fields and any traceback, masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage())
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD:
                setattr(record, key, mask_data(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
            record.exc_info = None  # the masked text stands in for it
        return True


MASKING_FILTER = MaskingFilter()
SUPPORT_LOGGERS = (
    "support",
    "support.agent",
    "support.approval",
    "support.cli",
    "support.console",
    "support.desk",
    "support.handoff",
    "support.incident",
    "support.model",
    "support.tools",
)


def mask_support_logs(extra_loggers: Iterable[str] = ()) -> None:
    """Put the masking filter on every ``support.*`` logger (a logger's filter sees only its own records)."""
    names = (
        set(SUPPORT_LOGGERS)
        | set(extra_loggers)
        | {name for name in logging.root.manager.loggerDict if name.startswith("support.")}
    )
    for name in sorted(names):
        logger = logging.getLogger(name)
        if MASKING_FILTER not in logger.filters:
            logger.addFilter(MASKING_FILTER)


def _tracing_on(env: dict[str, str] | os._Environ[str]) -> bool:
    return any(env.get(v, "").strip().lower() == "true" for v in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2"))


_trace_masking_installed = False


def install_trace_masking() -> bool:
    """When LangSmith tracing is on, send every run's inputs and outputs through `mask_data`; True if installed."""
    global _trace_masking_installed
    if _trace_masking_installed or not _tracing_on(os.environ):
        return _trace_masking_installed
    import langsmith

    def hide(data: dict[str, Any]) -> dict[str, Any]:
        masked = mask_data(data or {})
        return masked if isinstance(masked, dict) else {}

    langsmith.configure(client=langsmith.Client(hide_inputs=hide, hide_outputs=hide))
    _trace_masking_installed = True
    return True
