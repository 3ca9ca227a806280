"""Errors the data layer raises; all derive from ``SupportDataError``."""

from __future__ import annotations

from tools.records import Approval

__all__ = [
    "ApprovalAlreadyDecided",
    "ApprovalNotFound",
    "InvalidPlan",
    "NothingToRefund",
    "SupportDataError",
    "UnknownCustomer",
]


class SupportDataError(Exception):
    """Base class of every error raised by the data layer."""


class UnknownCustomer(SupportDataError):
    def __init__(self, customer_id: str) -> None:
        super().__init__(f"unknown customer: {customer_id!r}")
        self.customer_id = customer_id


class ApprovalNotFound(SupportDataError):
    def __init__(self, approval_id: str) -> None:
        super().__init__(f"unknown approval: {approval_id!r}")
        self.approval_id = approval_id


class ApprovalAlreadyDecided(SupportDataError):
    """The approval was already decided differently, or by someone else."""

    def __init__(self, approval: Approval) -> None:
        super().__init__(f"approval {approval.approval_id} was already {approval.status} by {approval.decided_by}")
        self.approval = approval


class NothingToRefund(SupportDataError):
    """A manager approved a refund, but the charge has nothing left to refund any more.

    The approval stays pending so the manager can reject it with a note.
    """

    def __init__(self, approval: Approval) -> None:
        super().__init__(f"approval {approval.approval_id}: order {approval.order_id} has nothing left to refund")
        self.approval = approval


class InvalidPlan(SupportDataError):
    """The requested plan does not exist, or the customer is already on it."""
