"""A deterministic, offline chat model that plays every agent of the support desk.

`OfflineChatModel` is a real `BaseChatModel`: the graph binds the same tools and sends the same
prompts as it would to OpenAI, and gets back `AIMessage`s with tool calls or text. Which agent it
plays is read from the bound tool names; what it does is decided from the customer's latest
message, the context blocks of the system prompt (see `llm.protocol`) and any tool results of
this turn. The same input always gives the same output.

Modules, one concern each:

- `model`: the `BaseChatModel` (tool binding, whole or streamed replies, usage, ids);
- `turn`: reading one model call (messages, context blocks, tool results) and the `Reply` it gets;
- `agents`: which agent the bound tools make it, and its reply;
- `triage`, `billing` (with `plans`), `refund`, `faq` (with `articles`): each agent's behaviour;
- `records`: the handoff records; `charges`: finding and describing charges;
- `smalltalk` and `wording`: shared phrasing.
"""

from llm.offline.model import MODEL_NAME, OfflineChatModel
from llm.offline.turn import Reply, ToolCall

__all__ = ["MODEL_NAME", "OfflineChatModel", "Reply", "ToolCall"]
