"""Create chat models from "provider:model" strings, lazily, at run time."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

__all__ = ["make_chat_model"]


def make_chat_model(
    spec: str,
    *,
    timeout: float = 30.0,
    max_retries: int = 3,
    api_key: SecretStr | None = None,
    base_url: str | None = None,
    count_tokens: bool = True,
) -> BaseChatModel:
    """`offline` for the built-in deterministic model, `openai:<model>` for OpenAI or compatible.

    Any OpenAI-compatible endpoint (Ollama, vLLM, LM Studio) works by pointing OPENAI_BASE_URL at it.

    Args:
        spec: The model, as in the settings.
        timeout: Seconds one request may take (also the longest wait between streamed chunks).
        max_retries: Retries the client makes after a transient failure (see `llm.retry`).
        api_key: The key; None lets the client read OPENAI_API_KEY itself.
        base_url: The endpoint; None lets the client read OPENAI_BASE_URL itself.
        count_tokens: Whether the offline model reports token usage (a provider always does).
    """
    provider, _, name = spec.strip().partition(":")
    if provider == "offline":
        from llm.offline import OfflineChatModel

        return OfflineChatModel(count_tokens=count_tokens)
    if provider == "openai" and name.strip():
        from langchain_openai import ChatOpenAI

        from llm.retry import async_http_client, http_client

        extra: dict[str, Any] = {"api_key": api_key} if api_key is not None else {}
        if base_url:
            extra["base_url"] = base_url
        return ChatOpenAI(
            model=name.strip(),
            timeout=timeout,
            # The client's own retries (see llm.retry): only before an answer starts, so a
            # broken stream is never streamed again.
            max_retries=max_retries,
            http_client=http_client(),
            http_async_client=async_http_client(),
            # Token counts while streaming; the client leaves this off for a custom base URL.
            stream_usage=True,
            # Chat Completions is what OpenAI-compatible servers (Ollama, vLLM) implement.
            use_responses_api=False,
            **extra,
        )
    raise ValueError(f"unknown model {spec!r}: use 'offline' or 'openai:<model>'")
