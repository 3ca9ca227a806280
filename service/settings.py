"""Settings, read from the environment when asked for, never at import time."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from llm.retry import RetryPolicy
from tools.clock import Clock, FixedClock, SystemClock
from tools.db import Database, default_data_dir

__all__ = ["AGENT_KEYS", "DEFAULT_STEP_LIMIT", "MAX_MESSAGE_CHARS", "PROVIDERS", "Settings", "check_model_spec"]

AGENT_KEYS = ("triage", "billing", "refund", "faq")
DEFAULT_STEP_LIMIT = 25
MAX_MESSAGE_CHARS = 8000
DEFAULT_MODEL_TIMEOUT = 30.0
DEFAULT_MODEL_MAX_RETRIES = 3
DEFAULT_RETRY_DELAY = 0.5
DEFAULT_RETRY_MAX_DELAY = 8.0
PROVIDERS = ("offline", "openai")

# The original design's models, used when an OpenAI key is present and nothing else is said.
OPENAI_DEFAULTS = {
    "triage": "openai:gpt-4o",
    "billing": "openai:gpt-4o",
    "refund": "openai:gpt-4o",
    "faq": "openai:gpt-4o-mini",
}


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with the defaults a fresh machine needs (offline, local data).

    Attributes:
        data_dir: Where the domain database, checkpoints and logs live ($SUPPORT_DATA_DIR).
        today: A fixed "today" for the clock ($SUPPORT_TODAY, YYYY-MM-DD); None means the real date.
        step_limit: Graph steps allowed per customer message ($SUPPORT_STEP_LIMIT).
        models: The model of each agent as "provider:model" or "offline".
        model_timeout: Seconds one model request may take before it counts as failed
            ($SUPPORT_MODEL_TIMEOUT).
        model_max_retries: Retries after a timeout, 429, 5xx or connection error, so a call
            makes at most 1 + this many requests ($SUPPORT_MODEL_MAX_RETRIES).
        retry_delay: The first backoff in seconds; it doubles on each retry, with jitter
            ($SUPPORT_MODEL_RETRY_DELAY).
        retry_max_delay: The longest single backoff in seconds ($SUPPORT_MODEL_RETRY_MAX_DELAY).
    """

    data_dir: Path = field(default_factory=default_data_dir)
    today: date | None = None
    step_limit: int = DEFAULT_STEP_LIMIT
    models: Mapping[str, str] = field(default_factory=lambda: dict.fromkeys(AGENT_KEYS, "offline"))
    model_timeout: float = DEFAULT_MODEL_TIMEOUT
    model_max_retries: int = DEFAULT_MODEL_MAX_RETRIES
    retry_delay: float = DEFAULT_RETRY_DELAY
    retry_max_delay: float = DEFAULT_RETRY_MAX_DELAY

    def retry_policy(self) -> RetryPolicy:
        """How model calls are retried under these settings."""
        return RetryPolicy(max_retries=self.model_max_retries, delay=self.retry_delay, max_delay=self.retry_max_delay)

    def clock(self) -> Clock:
        return FixedClock(self.today) if self.today else SystemClock()

    def database(self) -> Database:
        """The domain database in the data directory (not opened until used)."""
        return Database(self.data_dir / "support.db", self.clock())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env["SUPPORT_DATA_DIR"]) if env.get("SUPPORT_DATA_DIR") else Path.cwd() / ".support"
        today_text = env.get("SUPPORT_TODAY", "").strip()
        try:
            today = date.fromisoformat(today_text) if today_text else None
        except ValueError as exc:
            raise ValueError(f"SUPPORT_TODAY must be a date like 2026-11-25, not {today_text!r}") from exc
        limit_text = env.get("SUPPORT_STEP_LIMIT", "").strip()
        if limit_text and not (limit_text.isdigit() and int(limit_text) >= 5):
            raise ValueError(f"SUPPORT_STEP_LIMIT must be a whole number of at least 5, not {limit_text!r}")
        step_limit = int(limit_text) if limit_text else DEFAULT_STEP_LIMIT
        return cls(
            data_dir=data_dir,
            today=today,
            step_limit=step_limit,
            models=_models_from_env(env),
            model_timeout=_number(env, "SUPPORT_MODEL_TIMEOUT", DEFAULT_MODEL_TIMEOUT, low=0.1),
            model_max_retries=int(
                _number(env, "SUPPORT_MODEL_MAX_RETRIES", DEFAULT_MODEL_MAX_RETRIES, high=10, whole=True)
            ),
            retry_delay=_number(env, "SUPPORT_MODEL_RETRY_DELAY", DEFAULT_RETRY_DELAY),
            retry_max_delay=_number(env, "SUPPORT_MODEL_RETRY_MAX_DELAY", DEFAULT_RETRY_MAX_DELAY),
        )


def check_model_spec(spec: str) -> str:
    """Return `spec` normalised, or raise ValueError unless it is `offline` or `openai:<model>`."""
    text = spec.strip()
    provider, sep, name = text.partition(":")
    if text == "offline" or (provider == "openai" and sep and name.strip()):
        return text
    raise ValueError(f"unknown model {spec!r}: use 'offline' or 'openai:<model>' (e.g. openai:gpt-4o-mini)")


def _number(
    env: Mapping[str, str], var: str, default: float, *, low: float = 0.0, high: float = 600.0, whole: bool = False
) -> float:
    text = env.get(var, "").strip()
    if not text:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        value = -1
    if not low <= value <= high:  # also refuses nan
        kind = "a whole number" if whole else "a number of seconds"
        raise ValueError(f"{var} must be {kind} from {low:g} to {high:g}, not {text!r}")
    return value


def _models_from_env(env: Mapping[str, str]) -> dict[str, str]:
    base = env.get("SUPPORT_MODEL", "").strip()
    models: dict[str, str] = {}
    for agent in AGENT_KEYS:
        specific = env.get(f"SUPPORT_MODEL_{agent.upper()}", "").strip()
        if specific:
            models[agent] = check_model_spec(specific)
        elif base:
            models[agent] = check_model_spec(base)
        elif env.get("OPENAI_API_KEY"):
            models[agent] = OPENAI_DEFAULTS[agent]
        else:
            models[agent] = "offline"
    return models
