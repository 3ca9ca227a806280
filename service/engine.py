"""Which server runs the graph, and how the server's own code reaches that server's API.

Two engines serve the same `langgraph.json` (`support serve --engine ...`):

- ``langgraph-dev`` (the default, `make serve`): `langgraph dev`, one process, its registry in memory.
  The SDK's client with no URL talks to this very process in process, past the auth layer.
- ``aegra``: Aegra on Postgres and Redis, several instances. There is no in-process client (the SDK's
  client with no URL would build langgraph-api's own in-memory server, a different one), and Aegra
  keeps each thread to the identity that created it: a manager's token cannot read a customer's
  thread. So the server's own code (the auth handlers' look-ups, the console's resumes) calls the
  instance's own HTTP address, ``SUPPORT_SELF_URL``, with the instance's internal token,
  ``SUPPORT_INTERNAL_TOKEN``, acting as the thread's owner. `support serve` makes a new random token
  for every start and gives it only to the server's environment; `service.auth` accepts it, and only
  it, together with the identity to act as (`ACT_AS_HEADER`). Without the token the headers are
  ignored: no header grants anything without a token.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from typing import Literal
from urllib.parse import quote

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

__all__ = [
    "ACT_AS_HEADER",
    "AEGRA",
    "DECIDER_HEADER",
    "ENGINE_VAR",
    "INTERNAL_TOKEN_VAR",
    "LANGGRAPH_DEV",
    "SELF_URL_VAR",
    "Engine",
    "current_engine",
    "internal_token",
    "is_internal_token",
    "server_client",
]

Engine = Literal["langgraph-dev", "aegra"]
LANGGRAPH_DEV: Engine = "langgraph-dev"
AEGRA: Engine = "aegra"

ENGINE_VAR = "SUPPORT_ENGINE"
SELF_URL_VAR = "SUPPORT_SELF_URL"
INTERNAL_TOKEN_VAR = "SUPPORT_INTERNAL_TOKEN"
ACT_AS_HEADER = "x-support-act-as"  # the identity ("customer:cust_003") the internal token acts as
DECIDER_HEADER = "x-support-decider"  # the manager who decided, for a resume's audit trail

# Long enough for a resume, which waits for the graph's reply.
SELF_CALL_TIMEOUT_S = 90.0


def current_engine(env: Mapping[str, str] | None = None) -> Engine:
    """The engine this process serves the graph on (``SUPPORT_ENGINE``; `langgraph dev` when unset)."""
    value = (os.environ if env is None else env).get(ENGINE_VAR, "").strip().lower()
    return AEGRA if value == AEGRA else LANGGRAPH_DEV


def internal_token(env: Mapping[str, str] | None = None) -> str | None:
    """This instance's internal token; None where there is none (always so on `langgraph dev`)."""
    value = (os.environ if env is None else env).get(INTERNAL_TOKEN_VAR, "").strip()
    return value or None


def is_internal_token(token: str, env: Mapping[str, str] | None = None) -> bool:
    """Is ``token`` this Aegra instance's internal token? Compared in constant time."""
    expected = internal_token(env)
    if expected is None or current_engine(env) != AEGRA:
        return False
    return hmac.compare_digest(token.encode(), expected.encode())


def server_client(act_as: str, *, decider: str | None = None) -> LangGraphClient:
    """A client of this server's own API that acts as ``act_as`` (an identity, e.g. ``customer:cust_003``).

    On `langgraph dev` the in-process client, which passes no auth at all. On Aegra an HTTP client of
    this instance with its internal token. Close it with ``await client.aclose()``.

    Raises:
        RuntimeError: On Aegra without ``SUPPORT_SELF_URL`` or ``SUPPORT_INTERNAL_TOKEN`` (`support serve`
            sets both).
    """
    if current_engine() != AEGRA:
        return get_client()
    url = os.environ.get(SELF_URL_VAR, "").strip()
    token = internal_token()
    if not url or token is None:
        raise RuntimeError(f"{SELF_URL_VAR} and {INTERNAL_TOKEN_VAR} must be set on Aegra (`support serve` sets them)")
    headers = {"Authorization": f"Bearer {token}", ACT_AS_HEADER: act_as}
    if decider:
        headers[DECIDER_HEADER] = quote(decider)  # a header is ASCII; the name may not be
    return get_client(url=url, api_key=None, headers=headers, timeout=SELF_CALL_TIMEOUT_S)
