"""Settings, read from the environment when asked for, never at import time.

`Settings` is a pydantic-settings model: each field names its variable, secrets are `SecretStr`
(masked in any repr or log), and a bad value is one line naming the variable. Constructing
`Settings(...)` in code uses exactly what is passed plus the defaults; only `Settings.from_env()`
reads variables, so a test or an embedding program is never configured behind its back.

`from_env()` may look at the current directory (the default data directory), which the
LangGraph server flags as a blocking call on its event loop: async code calls it through
`await asyncio.to_thread(Settings.from_env)`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from tools.clock import Clock, FixedClock, SystemClock
from tools.db import Database, check_database_url, default_data_dir, redact_url

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["AGENT_KEYS", "DEFAULT_STEP_LIMIT", "MAX_MESSAGE_CHARS", "PROVIDERS", "Settings", "check_model_spec"]

AGENT_KEYS = ("triage", "billing", "refund", "faq")
DEFAULT_STEP_LIMIT = 25
MAX_MESSAGE_CHARS = 8000
DEFAULT_MODEL_TIMEOUT = 30.0
DEFAULT_MODEL_MAX_RETRIES = 3
PROVIDERS = ("offline", "openai")

# The original design's models, used when an OpenAI key is present and nothing else is said.
OPENAI_DEFAULTS = {
    "triage": "openai:gpt-4o",
    "billing": "openai:gpt-4o",
    "refund": "openai:gpt-4o",
    "faq": "openai:gpt-4o-mini",
}


class Settings(BaseSettings):
    """Everything configurable, with the defaults a fresh machine needs (offline, local data)."""

    model_config = SettingsConfigDict(
        env_prefix="SUPPORT_",
        env_ignore_empty=True,  # SUPPORT_TODAY= means "unset", as it always did
        extra="ignore",
        frozen=True,
        protected_namespaces=(),  # fields named model_* are ours, not pydantic's
        populate_by_name=True,
    )

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the domain database, checkpoints and logs live ($SUPPORT_DATA_DIR, default ./.support).",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="A postgresql:// URL to keep the domain data in PostgreSQL ($SUPPORT_DATABASE_URL); "
        "unset means SQLite (support.db in the data directory).",
    )
    today: date | None = Field(
        default=None, description='A fixed "today" for the clock ($SUPPORT_TODAY, YYYY-MM-DD); None is the real date.'
    )
    step_limit: int = Field(
        default=DEFAULT_STEP_LIMIT, description="Graph steps allowed per customer message ($SUPPORT_STEP_LIMIT)."
    )
    count_offline_tokens: bool = Field(
        default=True,
        description="Whether the offline model reports its usage in o200k tokens ($SUPPORT_COUNT_OFFLINE_TOKENS); "
        "a plain `support ask` or `support chat` shows no usage and skips it (loading the tokenizer takes ~0.6 s).",
    )
    model: str | None = Field(default=None, description="The model of every agent ($SUPPORT_MODEL).")
    model_triage: str | None = Field(default=None, description="Triage's model ($SUPPORT_MODEL_TRIAGE).")
    model_billing: str | None = Field(default=None, description="Billing's model ($SUPPORT_MODEL_BILLING).")
    model_refund: str | None = Field(default=None, description="Refund's model ($SUPPORT_MODEL_REFUND).")
    model_faq: str | None = Field(default=None, description="FAQ's model ($SUPPORT_MODEL_FAQ).")
    models: dict[str, str] = Field(
        default_factory=lambda: dict.fromkeys(AGENT_KEYS, "offline"),
        description="The model of each agent as 'offline' or 'openai:<model>', derived from the variables above.",
    )
    model_timeout: float = Field(
        default=DEFAULT_MODEL_TIMEOUT,
        description="Seconds one model request may take, also the longest pause between streamed tokens "
        "($SUPPORT_MODEL_TIMEOUT).",
    )
    model_max_retries: int = Field(
        default=DEFAULT_MODEL_MAX_RETRIES,
        description="Retries the OpenAI client makes after a timeout, connection error, 408/409/429 or 5xx "
        "($SUPPORT_MODEL_MAX_RETRIES).",
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key"), description="OpenAI's key."
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url"),
        description="An OpenAI-compatible endpoint (Ollama, vLLM); unset means api.openai.com.",
    )
    langsmith_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY", "langsmith_api_key"),
        description="LangSmith's key (read by LangChain itself; shown masked by `support config`).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only what is passed: the environment is read by from_env(), explicitly.
        return (init_settings,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings from `env` (default: the process environment).

        Raises:
            ValueError: A value cannot be used; the message is one line naming the variable.
        """
        values = _MappingSource(cls, os.environ if env is None else env)()
        if "data_dir" not in values:
            values["data_dir"] = Path.cwd() / ".support"  # the documented ./.support, made absolute
        try:
            return cls(**values)
        except ValidationError as exc:
            raise ValueError(_one_line(exc)) from None

    # --- validation: each message names the variable and the value, on one line ---------------

    @field_validator("today", mode="before")
    @classmethod
    def _check_today(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            try:
                return date.fromisoformat(text) if text else None
            except ValueError:
                raise ValueError(f"SUPPORT_TODAY must be a date like 2026-11-25, not {value!r}") from None
        return value

    @field_validator("database_url", mode="before")
    @classmethod
    def _check_database_url(cls, value: Any) -> Any:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(text, str):
            return check_database_url(text) if text.strip() else None
        return value

    @field_validator("step_limit", mode="before")
    @classmethod
    def _check_step_limit(cls, value: Any) -> Any:
        text = str(value).strip()
        if not (text.isdigit() and int(text) >= 5):
            raise ValueError(f"SUPPORT_STEP_LIMIT must be a whole number of at least 5, not {text!r}")
        return int(text)

    @field_validator("model_timeout", mode="before")
    @classmethod
    def _check_timeout(cls, value: Any) -> float:
        return _number("SUPPORT_MODEL_TIMEOUT", value, low=0.1)

    @field_validator("model_max_retries", mode="before")
    @classmethod
    def _check_retries(cls, value: Any) -> int:
        return int(_number("SUPPORT_MODEL_MAX_RETRIES", value, high=10, whole=True))

    @field_validator("model", "model_triage", "model_billing", "model_refund", "model_faq", mode="before")
    @classmethod
    def _check_model(cls, value: Any) -> Any:
        return check_model_spec(value) if isinstance(value, str) and value.strip() else None

    @model_validator(mode="before")
    @classmethod
    def _derive_models(cls, data: Any) -> Any:
        """`models` from SUPPORT_MODEL_<AGENT>, then SUPPORT_MODEL, then the OpenAI defaults with a key."""
        if not isinstance(data, dict) or "models" in data:
            return data
        base = _spec(data.get("model"))
        has_key = bool(data.get("openai_api_key") or data.get("OPENAI_API_KEY"))
        models = {}
        for agent in AGENT_KEYS:
            models[agent] = (
                _spec(data.get(f"model_{agent}")) or base or (OPENAI_DEFAULTS[agent] if has_key else "offline")
            )
        return {**data, "models": models}

    # --- derived objects ----------------------------------------------------------------------

    def model_source(self, agent: str) -> str:
        """Where an agent's model comes from, for the reader wondering why it runs on what it does."""
        if getattr(self, f"model_{agent}", None):
            return f"SUPPORT_MODEL_{agent.upper()}"
        if self.model:
            return "SUPPORT_MODEL"
        if self.openai_api_key is not None and self.models.get(agent, "").startswith("openai:"):
            return "default with OPENAI_API_KEY"
        return "default"

    def chat_model(self, agent: str) -> BaseChatModel:
        """A new client for `agent`'s model under these settings (nothing connects until it is called)."""
        from llm.factory import make_chat_model

        return make_chat_model(
            self.models.get(agent, "offline"),
            timeout=self.model_timeout,
            max_retries=self.model_max_retries,
            api_key=self.openai_api_key,
            base_url=self.openai_base_url,
            count_tokens=self.count_offline_tokens,
        )

    def clock(self) -> Clock:
        return FixedClock(self.today) if self.today else SystemClock()

    def database(self) -> Database:
        """The domain database: PostgreSQL at ``database_url`` if set, else SQLite in the data directory.

        Nothing is opened until used.
        """
        url = self.database_url.get_secret_value() if self.database_url else None
        return Database(self.data_dir / "support.db", self.clock(), url=url)

    def database_location(self) -> str:
        """Where the domain data lives, for people: the SQLite file, or the URL without its password."""
        if self.database_url is None:
            return str(self.data_dir / "support.db")
        return redact_url(self.database_url.get_secret_value())


class _MappingSource(EnvSettingsSource):
    """The environment source over any mapping, so `from_env({...})` reads exactly that mapping."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._mapping = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._mapping, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


def _one_line(exc: ValidationError) -> str:
    error = exc.errors()[0]
    cause = (error.get("ctx") or {}).get("error")
    if cause is not None:  # our validators' own messages, which already name the variable
        return str(cause).splitlines()[0]
    where = ".".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']} (got {error.get('input')!r})".splitlines()[0]


def _spec(value: Any) -> str | None:
    return check_model_spec(value) if isinstance(value, str) and value.strip() else None


def check_model_spec(spec: str) -> str:
    """Return `spec` normalised, or raise ValueError unless it is `offline` or `openai:<model>`."""
    text = spec.strip()
    provider, sep, name = text.partition(":")
    if text == "offline" or (provider == "openai" and sep and name.strip()):
        return text
    raise ValueError(f"unknown model {spec!r}: use 'offline' or 'openai:<model>' (e.g. openai:gpt-4o-mini)")


def _number(var: str, value: Any, *, low: float = 0.0, high: float = 600.0, whole: bool = False) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number: float = value
        text = repr(value)
    else:
        text = str(value).strip()
        try:
            number = int(text) if whole else float(text)
        except ValueError:
            number = -1
    if (whole and number != int(number)) or not low <= number <= high:  # also refuses nan
        kind = "a whole number" if whole else "a number of seconds"
        raise ValueError(f"{var} must be {kind} from {low:g} to {high:g}, not {text!r}")
    return number
