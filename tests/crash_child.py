"""Run the real `support` command in this process and kill it with SIGKILL right after a function returns.

    python -m tests.crash_child tools.refunds:request_refund status=refunded -- ask --customer cust_001 "..."

The named function runs for real (its transaction commits); when its result matches (an attribute equal to a
value, or always when none is given), the process sends itself SIGKILL: no `finally`, no exit handler, no
flush runs, exactly as if the machine's operator had typed kill -9 at that moment.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
import sys
from typing import Any


def _arm(target: str, condition: str | None) -> None:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    real = getattr(module, attr)
    key, _, wanted = (condition or "").partition("=")

    @functools.wraps(real)
    def then_die(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        if not key or str(getattr(result, key, None)) == wanted:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(module, attr, then_die)


def main(argv: list[str]) -> int:
    split = argv.index("--")
    spec, command = argv[:split], argv[split + 1 :]
    _arm(spec[0], spec[1] if len(spec) > 1 else None)
    from cli.main import main as support

    return support(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
