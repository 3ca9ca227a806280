"""`support config`: the effective settings, as this process would use them, secrets masked."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from typing import Any

from service.settings import AGENT_KEYS, Settings

__all__ = ["cmd_config", "effective_config", "mask_secret"]

_TRACING_VARS = ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2")


def mask_secret(value: str | None) -> str | None:
    """`None` when unset, else enough to recognise the key (its last 4 characters) and no more."""
    if not value:
        return None
    return f"****{value[-4:]}" if len(value) >= 16 else "****"


def _source(agent: str, env: Mapping[str, str]) -> str:
    """Where an agent's model comes from, for the reader wondering why it runs on what it does."""
    if env.get(f"SUPPORT_MODEL_{agent.upper()}", "").strip():
        return f"SUPPORT_MODEL_{agent.upper()}"
    if env.get("SUPPORT_MODEL", "").strip():
        return "SUPPORT_MODEL"
    if env.get("OPENAI_API_KEY"):
        return "default with OPENAI_API_KEY"
    return "default"


def effective_config(settings: Settings, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings plus the provider variables the OpenAI client and LangSmith read."""
    env = os.environ if env is None else env
    tracing = next((env[v] for v in _TRACING_VARS if env.get(v)), None)
    return {
        "data_dir": str(settings.data_dir),
        "today": settings.today.isoformat() if settings.today else None,
        "step_limit": settings.step_limit,
        "models": {agent: settings.models.get(agent, "offline") for agent in AGENT_KEYS},
        "model_sources": {agent: _source(agent, env) for agent in AGENT_KEYS},
        "model_timeout_s": settings.model_timeout,
        "model_max_retries": settings.model_max_retries,
        "retry_delay_s": settings.retry_delay,
        "retry_max_delay_s": settings.retry_max_delay,
        "openai_base_url": env.get("OPENAI_BASE_URL") or None,
        "openai_api_key": mask_secret(env.get("OPENAI_API_KEY")),
        "langsmith_tracing": (tracing or "").lower() == "true",
        "langsmith_api_key": mask_secret(env.get("LANGSMITH_API_KEY") or env.get("LANGCHAIN_API_KEY")),
        "warnings": _warnings(settings, env),
    }


def _warnings(settings: Settings, env: Mapping[str, str]) -> list[str]:
    uses_openai = any(spec.startswith("openai:") for spec in settings.models.values())
    if uses_openai and not env.get("OPENAI_API_KEY"):
        # The client refuses to start without one, and every customer would get the fallback answer.
        return ["an openai: model is configured but OPENAI_API_KEY is unset (any value for a local server)"]
    return []


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    config = effective_config(settings)
    if args.json:
        print(json.dumps(config, indent=2))
        return 0
    print(f"data dir        {config['data_dir']}")
    print(f"today           {config['today'] or '(the real date)'}")
    print(f"step limit      {config['step_limit']}")
    for agent in AGENT_KEYS:
        print(f"model {agent:<9} {config['models'][agent]}  ({config['model_sources'][agent]})")
    print(f"model timeout   {config['model_timeout_s']:g} s")
    print(
        f"retries         {config['model_max_retries']} (backoff from {config['retry_delay_s']:g} s, "
        f"at most {config['retry_max_delay_s']:g} s, with jitter)"
    )
    print(f"OPENAI_BASE_URL {config['openai_base_url'] or '(unset: api.openai.com)'}")
    print(f"OPENAI_API_KEY  {config['openai_api_key'] or '(unset)'}")
    tracing = "on" if config["langsmith_tracing"] else "off"
    print(f"LangSmith       tracing {tracing}, key {config['langsmith_api_key'] or '(unset)'}")
    for warning in config["warnings"]:
        print(f"warning: {warning}")
    return 0
