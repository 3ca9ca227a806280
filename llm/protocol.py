"""The context-block format shared by the prompt renderer and the offline model.

A system prompt carries free prose plus context blocks. Each block is a tag line, one line of JSON
and a closing tag line::

    <account>
    {"customer_id": "cus_1", ...}
    </account>

The graph renders blocks with `render_block`; the offline model reads them back with
`parse_blocks`. Keeping both here means the two sides cannot drift apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

__all__ = [
    "ACCOUNT_TAG",
    "HANDOFF_TAG",
    "HISTORY_TAG",
    "KNOWLEDGE_TAG",
    "parse_blocks",
    "render_block",
]

ACCOUNT_TAG = "account"  # AccountSummary JSON
HANDOFF_TAG = "handoff"  # {"from": "TriageAgent", "tool": "transfer_to_billing", "record": {...}}
HISTORY_TAG = "history"  # [{"role": "customer" | "agent", "agent": "BillingAgent" | null, "text": "..."}]
KNOWLEDGE_TAG = "knowledge"  # [{"slug", "title", "body", "score"}]

_BLOCK_RE = re.compile(r"^<(?P<tag>[a-z_][a-z0-9_-]*)>[ \t]*\n(?P<body>.*?)\n</(?P=tag)>[ \t]*$", re.M | re.S)


def _plain(obj: Any) -> Any:
    """What `json.dumps` cannot write itself: pydantic models (wherever they are), other mappings, the rest as text.

    Called by the encoder only for such objects, so plain data (the account in the state) is not walked twice.
    """
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, Mapping):
        return dict(obj)
    return str(obj)


def render_block(tag: str, obj: Any) -> str:
    """Render one context block: `<tag>`, the JSON of `obj` on one line, `</tag>` (no trailing newline).

    Pydantic models in `obj` are dumped first; anything else unknown (dates, decimals) is written with `str`.
    """
    return f"<{tag}>\n{json.dumps(obj, default=_plain, indent=None)}\n</{tag}>"


def parse_blocks(system_text: str) -> dict[str, Any]:
    """Every well-formed context block of a system prompt: tag -> decoded JSON.

    Blocks whose body is not valid JSON are skipped, and when a tag appears twice the last block wins (the most
    recent context).
    """
    blocks: dict[str, Any] = {}
    for match in _BLOCK_RE.finditer(system_text):
        try:
            blocks[match.group("tag")] = json.loads(match.group("body"))
        except json.JSONDecodeError:
            continue
    return blocks
