"""Token counts are real o200k counts, made offline."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from llm.offline import OfflineChatModel
from llm.tokens import completion_tokens, count_tokens, prompt_tokens
from service.desk import SupportDesk


def test_the_encoding_is_o200k() -> None:
    from llm.tokens import _encoding

    # The ids tiktoken's o200k_base gives (GPT-4o's tokenizer); cl100k would give [9906, 11, 1917, 0].
    assert list(_encoding().encode_ordinary("Hello, world!")) == [13225, 11, 2375, 0]
    assert count_tokens("") == 0
    assert count_tokens("<|endoftext|>") > 1  # a special token's text is counted as text, never raises


def test_a_request_counts_messages_framing_tool_calls_and_schemas() -> None:
    tools = [{"type": "function", "function": {"name": "search_faq", "parameters": {"type": "object"}}}]
    system, human = SystemMessage("You are helpful."), HumanMessage("How do I export my data?")
    call = AIMessage("", tool_calls=[{"name": "search_faq", "args": {"query": "export"}, "id": "c1"}])
    bare = prompt_tokens([system, human])
    assert bare == 3 + (3 + count_tokens("You are helpful.")) + (3 + count_tokens("How do I export my data?"))
    assert prompt_tokens([system, human], tools) > bare
    assert prompt_tokens([system, human, call]) > bare + 3
    assert completion_tokens("Sure.", [{"name": "search_faq", "args": {"query": "export"}}]) == (
        count_tokens("Sure.") + count_tokens("search_faq") + count_tokens('{"query": "export"}')
    )


def test_the_offline_model_reports_what_it_was_sent(desk: SupportDesk) -> None:
    model = OfflineChatModel()
    messages = [SystemMessage("You are the FAQ agent."), HumanMessage("How do I export my data to CSV?")]
    reply = model.invoke(messages)
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["input_tokens"] == prompt_tokens(messages)
    assert reply.usage_metadata["output_tokens"] == completion_tokens(str(reply.content))
    result = desk.ask("How do I export my data to CSV?", customer_id="cust_001")
    calls = result["usage"]["calls"]
    assert len(calls) == result["model_calls"] and all(c["input_tokens"] > 500 for c in calls)
