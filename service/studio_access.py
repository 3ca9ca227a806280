"""Who may use LangGraph Studio's token-less scheme, and the gate that enforces it on every request.

`langgraph dev` hands any request that carries ``x-auth-scheme: langsmith`` to its own Studio
backend instead of our ``authenticate`` handler: such a request needs no token at all. Left open,
one header would make anyone a manager, and a web page on any origin could send it from the
operator's browser. So Studio access is off unless the operator turns it on, and even then a
Studio request is let through only when all of these hold:

- ``SUPPORT_STUDIO_ACCESS=1`` (``support serve --studio`` sets it);
- the server is `langgraph dev` (which marks its process with ``LANGSMITH_LANGGRAPH_API_VARIANT=local_dev``),
  never another engine;
- the request comes from the loopback interface (a server bound to another address refuses it);
- its ``Origin`` is one of ``SUPPORT_STUDIO_ORIGINS`` (default ``https://smith.langchain.com``).

The gate runs as middleware of our custom app, which `langgraph dev` applies before its own
routes and before authentication; the auth handlers check the switch again (`service.auth`).
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["DEFAULT_STUDIO_ORIGINS", "StudioGate", "StudioPolicy", "is_loopback"]

DEFAULT_STUDIO_ORIGINS = ("https://smith.langchain.com",)
STUDIO_HEADER = b"x-auth-scheme"
_OFF = ("", "0", "false", "no", "off")


def is_loopback(host: str | None) -> bool:
    """Is ``host`` (an address or ``localhost``) on this machine's loopback interface?"""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class StudioPolicy:
    """Whether Studio's token-less requests are honoured here, and from which origins."""

    enabled: bool
    dev_server: bool
    origins: frozenset[str]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StudioPolicy:
        env = os.environ if env is None else env
        raw = env.get("SUPPORT_STUDIO_ORIGINS", "").strip()
        origins = [o.strip().rstrip("/") for o in raw.split(",") if o.strip()] if raw else DEFAULT_STUDIO_ORIGINS
        return cls(
            enabled=env.get("SUPPORT_STUDIO_ACCESS", "0").strip().lower() not in _OFF,
            dev_server=env.get("LANGSMITH_LANGGRAPH_API_VARIANT") == "local_dev",
            origins=frozenset(origins),
        )

    def refusal(self, *, client_host: str | None, origin: str | None) -> str | None:
        """Why a Studio request from ``client_host`` with ``origin`` is refused; None when it may pass."""
        if not self.enabled:
            return "Studio access is off on this server; send Authorization: Bearer <token> (see SUPPORT_STUDIO_ACCESS)"
        if not self.dev_server:
            return "Studio's token-less access exists only on `langgraph dev`; send Authorization: Bearer <token>"
        if not is_loopback(client_host):
            return "Studio's token-less access is for this machine only; send Authorization: Bearer <token>"
        if (origin or "").rstrip("/") not in self.origins:
            return "this origin may not use Studio's token-less access (see SUPPORT_STUDIO_ORIGINS)"
        return None


class StudioGate:
    """ASGI middleware: a request that claims Studio's scheme gets 403 unless `StudioPolicy` lets it pass."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._policy: StudioPolicy | None = None

    def policy(self) -> StudioPolicy:
        # Read once, on the first request: environment reads stay out of import time.
        if self._policy is None:
            self._policy = StudioPolicy.from_env()
        return self._policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if STUDIO_HEADER not in headers:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        origin = headers.get(b"origin", b"").decode("latin-1") or None
        reason = self.policy().refusal(client_host=client[0] if client else None, origin=origin)
        if reason is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps({"detail": reason}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
