"""`support config`: the effective settings, as this process would use them, secrets masked."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from service.settings import AGENT_KEYS, Settings

__all__ = ["cmd_config", "effective_config", "mask_secret"]

_TRACING_VARS = ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2")


def mask_secret(secret: SecretStr | str | None) -> str | None:
    """`None` when unset, else enough to recognise the key (its last 4 characters) and no more."""
    value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    if not value:
        return None
    return f"****{value[-4:]}" if len(value) >= 16 else "****"


def effective_config(settings: Settings, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings plus the tracing switch LangSmith reads, keys masked."""
    env = os.environ if env is None else env
    tracing = next((env[v] for v in _TRACING_VARS if env.get(v)), None)
    return {
        "data_dir": str(settings.data_dir),
        "database": settings.database_location(),
        "today": settings.today.isoformat() if settings.today else None,
        "step_limit": settings.step_limit,
        "models": {agent: settings.models.get(agent, "offline") for agent in AGENT_KEYS},
        "model_sources": {agent: settings.model_source(agent) for agent in AGENT_KEYS},
        "model_timeout_s": settings.model_timeout,
        "model_max_retries": settings.model_max_retries,
        "openai_base_url": settings.openai_base_url,
        "openai_api_key": mask_secret(settings.openai_api_key),
        "langsmith_tracing": (tracing or "").lower() == "true",
        "langsmith_api_key": mask_secret(settings.langsmith_api_key),
        "warnings": _warnings(settings, env),
    }


# Read by an earlier version, which retried with its own backoff; the OpenAI client's is fixed.
_RETIRED = ("SUPPORT_MODEL_RETRY_DELAY", "SUPPORT_MODEL_RETRY_MAX_DELAY")


def _warnings(settings: Settings, env: Mapping[str, str]) -> list[str]:
    warnings = []
    uses_openai = any(spec.startswith("openai:") for spec in settings.models.values())
    if uses_openai and settings.openai_api_key is None:
        # The client refuses to start without one, and every customer would get the fallback answer.
        warnings.append("an openai: model is configured but OPENAI_API_KEY is unset (any value for a local server)")
    for var in _RETIRED:
        if env.get(var):
            warnings.append(f"{var} is no longer read: the OpenAI client's own backoff applies (0.5 s doubling to 8 s)")
    return warnings


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    config = effective_config(settings)
    if args.json:
        print(json.dumps(config, indent=2))
        return 0
    print(f"data dir        {config['data_dir']}")
    print(f"domain data     {config['database']}")
    print(f"today           {config['today'] or '(the real date)'}")
    print(f"step limit      {config['step_limit']}")
    for agent in AGENT_KEYS:
        print(f"model {agent:<9} {config['models'][agent]}  ({config['model_sources'][agent]})")
    print(f"model timeout   {config['model_timeout_s']:g} s")
    print(f"retries         {config['model_max_retries']} (the OpenAI client's backoff: 0.5 s doubling to 8 s)")
    print(f"OPENAI_BASE_URL {config['openai_base_url'] or '(unset: api.openai.com)'}")
    print(f"OPENAI_API_KEY  {config['openai_api_key'] or '(unset)'}")
    tracing = "on" if config["langsmith_tracing"] else "off"
    print(f"LangSmith       tracing {tracing}, key {config['langsmith_api_key'] or '(unset)'}")
    for warning in config["warnings"]:
        print(f"warning: {warning}")
    return 0
