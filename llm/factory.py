"""Create chat models from "provider:model" strings, lazily, at run time."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

__all__ = ["make_chat_model"]


def make_chat_model(spec: str, *, timeout: float = 30.0) -> BaseChatModel:
    """`offline` for the built-in deterministic model, `openai:<model>` for OpenAI or compatible.

    The OpenAI client reads OPENAI_API_KEY and OPENAI_BASE_URL itself, so any OpenAI-compatible
    endpoint (Ollama, vLLM, LM Studio) works by pointing OPENAI_BASE_URL at it.

    Args:
        spec: The model, as in the settings.
        timeout: Seconds one request may take (also the longest wait between streamed chunks).

    The client's own retries are switched off: `llm.retry` retries with the configured,
    bounded backoff and logs each attempt, so a call is never retried by two layers at once.
    """
    provider, _, name = spec.strip().partition(":")
    if provider == "offline":
        from llm.offline import OfflineChatModel

        return OfflineChatModel()
    if provider == "openai" and name.strip():
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=name.strip(),
            timeout=timeout,
            max_retries=0,
            # Token counts while streaming; the client leaves this off for a custom base URL.
            stream_usage=True,
            # Chat Completions is what OpenAI-compatible servers (Ollama, vLLM) implement.
            use_responses_api=False,
        )
    raise ValueError(f"unknown model {spec!r}: use 'offline' or 'openai:<model>'")
