"""Throwaway desks for evaluations: a fresh data directory each, a fixed day, chosen models."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from llm.factory import make_chat_model
from service.desk import SupportDesk
from service.settings import AGENT_KEYS, Settings

__all__ = ["DEFAULT_TODAY", "fresh_desk", "models_for", "shared_models"]

# The day every evaluation pretends it is, so seed data and policy windows never drift.
DEFAULT_TODAY = date(2026, 11, 25)


def models_for(spec: str | None, settings: Settings) -> dict[str, str]:
    """Every agent on `spec` when given, else the agents' configured models."""
    return dict.fromkeys(AGENT_KEYS, spec) if spec else dict(settings.models)


@contextmanager
def fresh_desk(
    settings: Settings,
    *,
    models: dict[str, BaseChatModel] | None = None,
    today: date | None = None,
    root: Path | None = None,
) -> Iterator[SupportDesk]:
    """A desk over a new, seeded data directory that is deleted afterwards.

    Args:
        settings: Model choice and step limit come from here; the data dir and day are replaced.
        models: Ready model instances per agent key (shared across desks to skip re-training).
        today: The fixed day (default: `settings.today`, else `DEFAULT_TODAY`).
        root: Where to create the temporary directory (default: the system's).
    """
    with tempfile.TemporaryDirectory(prefix="support-eval-", dir=root) as tmp:
        day = today or settings.today or DEFAULT_TODAY
        desk_settings = settings.model_copy(update={"data_dir": Path(tmp), "today": day})
        with SupportDesk(desk_settings, models=models) as desk:
            yield desk


def shared_models(spec_by_agent: dict[str, str]) -> dict[str, BaseChatModel]:
    """One model instance per distinct spec, shared by the agents that use it."""
    made: dict[str, BaseChatModel] = {}
    return {agent: made.setdefault(spec, make_chat_model(spec)) for agent, spec in spec_by_agent.items()}
