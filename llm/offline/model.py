"""`OfflineChatModel`, the LangChain side of the offline model: tool binding, messages out (whole or streamed),
token usage, ids."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.runnables.config import run_in_executor
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from llm.offline.agents import decide
from llm.tokens import completion_tokens, prompt_tokens

__all__ = ["MODEL_NAME", "OfflineChatModel"]

MODEL_NAME = "acme-offline"

# A streamed reply arrives a word at a time: each word with the spaces after it (leading spaces on their own).
_WORD_RE = re.compile(r"\S+\s*|\s+")


def _call_id(messages: Sequence[BaseMessage], name: str, args: Mapping[str, Any]) -> str:
    """A tool-call id derived from the input, so the same call gets the same id in every run.

    Each call of a turn comes at a different length of the exchange and after a different last message, so
    those (not a hash over every message and the whole system prompt) tell a turn's calls apart.
    """
    last = messages[-1] if messages else None
    key = [len(messages), last.type if last else "", last.text if last else "", name]
    if isinstance(last, ToolMessage):
        key.append(last.tool_call_id)
    key.append(json.dumps(args, sort_keys=True, default=str))
    digest = hashlib.blake2b(json.dumps(key, default=str).encode(), digest_size=8).hexdigest()
    return f"call_{int(digest, 16) % 10**12}"


class OfflineChatModel(BaseChatModel):
    """A deterministic chat model that plays the triage, billing, refund and FAQ agents offline.

    Bind the agent's tools with `bind_tools`; the bound tool names tell the model which agent it is. It plays the
    desk's agents and nothing else: the desk never forces a tool, so neither a forced `tool_choice` nor
    `with_structured_output` (which forces one) is offered.
    """

    model_name: str = MODEL_NAME
    # Usage in real o200k tokens, as a provider bills it. Loading the tokenizer takes about 0.6 s, so a front end
    # that shows no usage (a plain `support ask`) turns counting off; its replies then carry no usage at all.
    count_tokens: bool = True

    @property
    def _llm_type(self) -> str:
        return MODEL_NAME

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | dict[str, Any] | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (any form `convert_to_openai_tool` accepts); the model chooses freely among them."""
        if tool_choice not in (None, "auto"):
            raise NotImplementedError(f"the offline model chooses its tools itself; tool_choice={tool_choice!r}")
        return self.bind(tools=[convert_to_openai_tool(tool) for tool in tools], **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._respond(messages, kwargs))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """The same reply as `_generate`, in chunks: the text word by word, then the tool call and usage."""
        for chunk in _chunks(self._respond(messages, kwargs)):
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        # The reply is worked out in a thread: the first call trains the router, which must not block the loop.
        message = await run_in_executor(None, self._respond, messages, kwargs)
        for chunk in _chunks(message):
            if run_manager:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    def _respond(self, messages: Sequence[BaseMessage], kwargs: Mapping[str, Any]) -> AIMessage:
        """The whole reply to one call, with a tool-call id derived from the input and the token usage."""
        tools: list[dict[str, Any]] = [dict(t) for t in kwargs.get("tools") or []]
        reply = decide(messages, tools)

        tool_calls = []
        if reply.call is not None:
            call_id = _call_id(messages, reply.call.name, reply.call.args)
            tool_calls.append({"name": reply.call.name, "args": reply.call.args, "id": call_id, "type": "tool_call"})
        usage = None
        if self.count_tokens:  # real o200k counts (llm.tokens), as a provider would report them
            tokens_in, tokens_out = prompt_tokens(messages, tools), completion_tokens(reply.text, tool_calls)
            usage = {"input_tokens": tokens_in, "output_tokens": tokens_out, "total_tokens": tokens_in + tokens_out}
        return AIMessage(
            content=reply.text,
            tool_calls=tool_calls,
            usage_metadata=usage,
            response_metadata={"model_name": self.model_name},
        )


def _chunks(message: AIMessage) -> Iterator[ChatGenerationChunk]:
    """`message` as stream chunks that add up to it again.

    The text comes a word per chunk. The last chunk carries the tool calls (as tool-call chunks with
    JSON arguments, as a provider streams them), the usage and the response metadata: chunks are
    added together, so anything counted or named once must be on one chunk only.
    """
    for word in _WORD_RE.findall(str(message.content)):
        yield ChatGenerationChunk(message=AIMessageChunk(content=word))
    calls = [
        tool_call_chunk(name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=index)
        for index, call in enumerate(message.tool_calls)
    ]
    last = AIMessageChunk(
        content="",
        tool_call_chunks=calls,
        usage_metadata=message.usage_metadata,
        response_metadata=dict(message.response_metadata),
        chunk_position="last",
    )
    yield ChatGenerationChunk(message=last)
