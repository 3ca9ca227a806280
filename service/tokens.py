"""Bearer tokens: who a request comes from (a customer or a manager), read from configuration.

Sources, all optional and merged (a later one wins for the same token):

1. Demo tokens, only when asked for with ``SUPPORT_DEMO_TOKENS=1`` (``make serve`` and
   ``support serve --demo-tokens`` set it, on a loopback host only): ``demo-cust_001`` ...
   ``demo-cust_005`` for the five seed customers and ``demo-manager`` for the manager "Maya (demo)".
   They are published in the README, so anyone who can reach the server could use them: off by
   default, refused on a non-loopback host by `support serve`, and accepted only from this machine
   (`service.auth`).
2. ``SUPPORT_TOKENS_FILE``: a JSON file ``{"<token>": {"role": "customer", "customer_id": "cust_001"}``
   or ``{"role": "manager", "name": "Maya"}, ...}``.
3. ``SUPPORT_CUSTOMER_TOKENS="tokA=cust_001,tokB=cust_002"`` and
   ``SUPPORT_MANAGER_TOKENS="tokC=Maya,tokD=Sam"``.
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "DEMO_MANAGER_TOKEN",
    "Principal",
    "TokenError",
    "TokenRegistry",
    "bearer_token",
    "demo_customer_token",
    "demo_tokens_requested",
]

Role = Literal["customer", "manager"]

DEMO_CUSTOMERS = ("cust_001", "cust_002", "cust_003", "cust_004", "cust_005")
DEMO_MANAGER_TOKEN = "demo-manager"
DEMO_MANAGER_NAME = "Maya (demo)"


def demo_customer_token(customer_id: str) -> str:
    return f"demo-{customer_id}"


def demo_tokens_requested(env: Mapping[str, str] | None = None) -> bool:
    """Did the operator ask for the demo tokens (``SUPPORT_DEMO_TOKENS=1``)? Off unless asked for."""
    env = os.environ if env is None else env
    return env.get("SUPPORT_DEMO_TOKENS", "0").strip().lower() in ("1", "true", "yes", "on")


class TokenError(ValueError):
    """The token configuration is unusable (a bad file or variable); the message says where."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    Attributes:
        role: "customer" or "manager".
        name: Shown in the console and stored as who decided ("Maya"); a customer's id for customers.
        customer_id: The customer a customer token belongs to; None for managers.
    """

    role: Role
    name: str
    customer_id: str | None = None
    demo: bool = False  # a published demo token: accepted from this machine only

    @property
    def identity(self) -> str:
        return f"customer:{self.customer_id}" if self.role == "customer" else f"manager:{self.name}"


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class TokenRegistry:
    """Token -> principal, looked up in constant time per entry so timing reveals nothing."""

    def __init__(self, tokens: Mapping[str, Principal]) -> None:
        self._tokens = dict(tokens)

    def __len__(self) -> int:
        return len(self._tokens)

    def lookup(self, token: str | None) -> Principal | None:
        if not token:
            return None
        found = None
        for known, principal in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                found = principal
        return found

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TokenRegistry:
        """Build the registry from the environment (see the module docstring).

        Raises:
            TokenError: The tokens file is missing or malformed, or a variable is malformed.
        """
        env = os.environ if env is None else env
        tokens: dict[str, Principal] = {}
        if demo_tokens_requested(env):
            tokens.update({demo_customer_token(c): Principal("customer", c, c, demo=True) for c in DEMO_CUSTOMERS})
            tokens[DEMO_MANAGER_TOKEN] = Principal("manager", DEMO_MANAGER_NAME, demo=True)
        if path := env.get("SUPPORT_TOKENS_FILE", "").strip():
            tokens.update(_from_file(Path(path)))
        tokens.update(_from_pairs(env.get("SUPPORT_CUSTOMER_TOKENS", ""), "customer", "SUPPORT_CUSTOMER_TOKENS"))
        tokens.update(_from_pairs(env.get("SUPPORT_MANAGER_TOKENS", ""), "manager", "SUPPORT_MANAGER_TOKENS"))
        return cls(tokens)


def _principal(role: Any, entry: Mapping[str, Any], where: str) -> Principal:
    if role == "customer":
        customer_id = str(entry.get("customer_id") or "").strip()
        if not customer_id:
            raise TokenError(f"{where}: a customer token needs a customer_id")
        return Principal("customer", customer_id, customer_id)
    if role == "manager":
        name = str(entry.get("name") or "").strip()
        if not name:
            raise TokenError(f"{where}: a manager token needs a name")
        return Principal("manager", name)
    raise TokenError(f"{where}: role must be 'customer' or 'manager', not {role!r}")


def _from_file(path: Path) -> dict[str, Principal]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TokenError(f"SUPPORT_TOKENS_FILE {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise TokenError(f"SUPPORT_TOKENS_FILE {path}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise TokenError(f"SUPPORT_TOKENS_FILE {path}: expected an object of token -> {{role, ...}}")
    return {str(token): _principal(entry.get("role"), entry, f"{path} [{token[:4]}…]") for token, entry in data.items()}


def _from_pairs(text: str, role: Role, variable: str) -> dict[str, Principal]:
    tokens: dict[str, Principal] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        token, sep, value = (p.strip() for p in item.partition("="))
        if not sep or not token or not value:
            raise TokenError(f"{variable}: expected token=value pairs separated by commas")
        key = "customer_id" if role == "customer" else "name"
        tokens[token] = _principal(role, {key: value}, variable)
    return tokens
