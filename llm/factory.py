"""Create chat models from "provider:model" strings, lazily, at run time."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

__all__ = ["make_chat_model"]


def make_chat_model(spec: str) -> BaseChatModel:
    """`offline` for the built-in deterministic model, `openai:<model>` for OpenAI or compatible.

    The OpenAI client reads OPENAI_API_KEY and OPENAI_BASE_URL itself, so any OpenAI-compatible
    endpoint (Ollama, vLLM, LM Studio) works by pointing OPENAI_BASE_URL at it.
    """
    provider, _, name = spec.strip().partition(":")
    if provider == "offline":
        from llm.offline import OfflineChatModel

        return OfflineChatModel()
    if provider == "openai" and name:
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=name, timeout=60, max_retries=2)
    raise ValueError(f"unknown model {spec!r}: use 'offline' or 'openai:<model>'")
