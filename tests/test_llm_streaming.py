"""Streaming from the offline model: word-sized text chunks that add up to exactly what `invoke` returns."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage

from graph.context import Context
from llm.protocol import HISTORY_TAG, KNOWLEDGE_TAG
from tests.test_llm_offline import KNOWLEDGE, MODEL, ROLE_TOOLS, schema, system, tool_exchange

# (agent, customer message, extra context blocks): text replies, tool calls and a tool result summary.
CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("billing", "What's the 64.50 charge from February 14th?", {}),
    ("billing", "I'd like to go up to the Enterprise tier", {}),
    ("triage", "Refund ord_299 please, the $64.50 add-on was never used!!", {}),
    ("triage", "Hello!", {}),
    ("refund", "I got billed double this month, please fix it", {}),
    ("faq", "How can I export a project as CSV?", {KNOWLEDGE_TAG: KNOWLEDGE}),
    ("faq", "How can I export a project as CSV?", {HISTORY_TAG: []}),
]


def _messages(text: str, blocks: dict[str, Any]) -> list[BaseMessage]:
    return [system(**blocks), HumanMessage(content=text)]


def _add(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def _same_message(streamed: AIMessage | AIMessageChunk, invoked: AIMessage) -> None:
    assert streamed.content == invoked.content
    assert streamed.tool_calls == invoked.tool_calls
    assert not streamed.invalid_tool_calls
    assert streamed.usage_metadata == invoked.usage_metadata
    assert streamed.response_metadata == invoked.response_metadata


@pytest.mark.parametrize(("role", "text", "blocks"), CALLS)
def test_stream_adds_up_to_the_invoked_message(role: str, text: str, blocks: dict[str, Any]) -> None:
    bound = MODEL.bind_tools([schema(n) for n in ROLE_TOOLS[role]])
    invoked = bound.invoke(_messages(text, blocks))
    chunks = list(bound.stream(_messages(text, blocks)))
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    _same_message(_add(chunks), invoked)


def test_text_arrives_a_word_at_a_time() -> None:
    bound = MODEL.bind_tools([schema(n) for n in ROLE_TOOLS["billing"]])
    messages = _messages("What's the 64.50 charge from February 14th?", {})
    content = str(bound.invoke(messages).content)
    chunks = list(bound.stream(messages))
    words = [str(chunk.content) for chunk in chunks if chunk.content]
    assert len(words) == len(content.split()) > 5
    assert all(len(word.split()) == 1 for word in words)
    assert "".join(words) == content


def test_a_tool_call_comes_whole_in_the_last_chunk_with_the_usage() -> None:
    bound = MODEL.bind_tools([schema(n) for n in ROLE_TOOLS["refund"]])
    messages = _messages("I got billed double this month, please fix it", {})
    invoked = bound.invoke(messages)
    chunks = list(bound.stream(messages))
    last = chunks[-1]
    assert last.chunk_position == "last"
    assert [c["name"] for c in last.tool_call_chunks] == ["propose_refund"]
    assert json.loads(last.tool_call_chunks[0]["args"] or "") == invoked.tool_calls[0]["args"]
    assert last.tool_call_chunks[0]["id"] == invoked.tool_calls[0]["id"]
    assert all(not chunk.tool_call_chunks for chunk in chunks[:-1])
    assert [chunk.usage_metadata for chunk in chunks if chunk.usage_metadata] == [invoked.usage_metadata]
    assert _add(chunks).tool_calls == invoked.tool_calls


def test_usage_and_model_name_are_on_one_chunk_only() -> None:
    bound = MODEL.bind_tools([schema(n) for n in ROLE_TOOLS["triage"]])
    chunks = list(bound.stream(_messages("Hello!", {})))
    assert len(chunks) > 3
    assert sum(chunk.usage_metadata is not None for chunk in chunks) == 1
    assert chunks[-1].usage_metadata is not None
    assert sum("model_name" in chunk.response_metadata for chunk in chunks) == 1
    assert _add(chunks).response_metadata["model_name"] == "acme-offline"  # not "acme-offlineacme-offline"


def test_tool_results_stream_too() -> None:
    faq = MODEL.bind_tools([schema(n) for n in ROLE_TOOLS["faq"]])
    question = "How can I export a project as CSV?"
    after = [system(), HumanMessage(content=question)]
    after += tool_exchange("search_faq", {"query": question}, {"articles": KNOWLEDGE})
    invoked = faq.invoke(after)
    assert "Exporting your data" in str(invoked.content)
    _same_message(_add(list(faq.stream(after))), invoked)


def test_astream_gives_the_same_chunks() -> None:
    bound = MODEL.bind_tools([schema(n) for n in ROLE_TOOLS["billing"]])
    messages = _messages("Do I have any unpaid invoices?", {})

    async def collect() -> list[AIMessageChunk]:
        return [chunk async for chunk in bound.astream(messages)]

    streamed = asyncio.run(collect())
    synced = list(bound.stream(messages))
    assert [c.content for c in streamed] == [c.content for c in synced]
    _same_message(_add(streamed), bound.invoke(messages))


def test_the_graph_streams_the_reply_token_by_token(desk: Any) -> None:
    question = "Can you explain what the $49.99 charge on March 1st was for?"
    config = desk._config("thr_streamed")
    by_node: dict[str, list[Any]] = {}
    for chunk, metadata in desk.graph.stream(
        {"messages": [HumanMessage(content=question)]},
        config,
        context=Context(customer_id="cust_001"),
        stream_mode="messages",
    ):
        by_node.setdefault(metadata["langgraph_node"], []).append(chunk)
    billing = [chunk for chunk in by_node["billing"] if isinstance(chunk, AIMessageChunk)]
    assert len(billing) > 10
    streamed = "".join(str(chunk.content) for chunk in billing)
    final = desk.graph.get_state(config).values["messages"][-1]
    assert isinstance(final, AIMessage)
    assert streamed == final.content
    assert final.usage_metadata is not None and final.response_metadata["model_name"] == "acme-offline"
    # The same question, invoked without streaming on another thread, gets the same answer.
    assert desk.ask(question, customer_id="cust_001")["response"] == streamed
