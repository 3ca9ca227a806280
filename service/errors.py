"""Errors a caller of the service can cause; the CLI turns them into exit status 2."""

from __future__ import annotations

__all__ = ["InvalidRequest"]


class InvalidRequest(ValueError):
    """Bad input from a customer or an operator. Nothing was written."""
