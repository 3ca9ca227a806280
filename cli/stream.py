"""Printing a reply as it is written, for `support chat`."""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["StreamPrinter"]


class StreamPrinter:
    """Prints a reply as it arrives: `Agent> ` before each new message, then its pieces.

    Pass an instance as `on_text` to `SupportDesk.ask`; call `finish()` after the turn.
    """

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.current: str | None = None
        self.printed = False

    def __call__(self, agent: str, message_id: str, text: str) -> None:
        if message_id != self.current:
            if self.current is not None:
                self.out.write("\n")
            self.out.write(f"{agent}> ")
            self.current = message_id
        self.out.write(text)
        self.out.flush()  # the point is to show each piece now, not when a buffer fills
        self.printed = True

    def finish(self) -> None:
        if self.printed:
            self.out.write("\n")
            self.out.flush()
