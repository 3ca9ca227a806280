"""Run the same `langgraph.json` on Aegra: checkpoints and the run registry in Postgres, runs queued in Redis.

Aegra (`aegra-api` on PyPI) needs Python 3.12, so it lives in its own virtual environment,
``.venv-aegra`` (`make aegra`), beside the project's 3.11 ``.venv``; nothing here imports it. The
server is Aegra's FastAPI app under uvicorn, started from that environment with:

- ``DATABASE_URL`` <- ``SUPPORT_DATABASE_URL`` (required): Aegra's threads, runs and checkpoints. The
  domain data follows the same variable wherever `service.settings` reads it, and otherwise stays in
  ``$SUPPORT_DATA_DIR``, which all instances on one machine may share.
- ``REDIS_URL`` <- ``SUPPORT_REDIS_URL`` with ``REDIS_BROKER_ENABLED=true``: the run queue and the
  event broker that let several instances serve one conversation. Without it Aegra runs each run in
  the instance that received it: one instance only.
- ``AEGRA_CHECKPOINT_DURABILITY=exit`` unless set: one checkpoint per turn (see `aegra_env`).
- ``AEGRA_CONFIG``: the runtime copy of `langgraph.json` (`service.server.write_runtime_config`).
- ``SUPPORT_ENGINE=aegra``, ``SUPPORT_SELF_URL`` and a fresh ``SUPPORT_INTERNAL_TOKEN`` for this start:
  how the server's own code reaches its own API (`service.engine`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from service.engine import AEGRA, ENGINE_VAR, INTERNAL_TOKEN_VAR, SELF_URL_VAR
from service.errors import InvalidRequest
from service.server import PROJECT_ROOT, ManagedServer, server_env

__all__ = [
    "AEGRA_PYTHON_VAR",
    "AEGRA_VENV",
    "DATABASE_URL_VAR",
    "HEALTH_PATH",
    "REDIS_URL_VAR",
    "AegraServer",
    "aegra_command",
    "aegra_env",
    "aegra_python",
]

AEGRA_VENV = PROJECT_ROOT / ".venv-aegra"
AEGRA_PYTHON_VAR = "SUPPORT_AEGRA_PYTHON"  # a Python with aegra-api and this project (the Docker image's own)
DATABASE_URL_VAR = "SUPPORT_DATABASE_URL"
REDIS_URL_VAR = "SUPPORT_REDIS_URL"
HEALTH_PATH = "/health"  # Aegra's: it answers once Postgres (and the checkpointer) are connected
APP = "aegra_api.main:app"


def aegra_python(env: Mapping[str, str] | None = None) -> Path:
    """The Python that runs Aegra: ``$SUPPORT_AEGRA_PYTHON``, else ``.venv-aegra``'s.

    Raises:
        InvalidRequest: Neither is there (one line that says what to do).
    """
    named = (os.environ if env is None else env).get(AEGRA_PYTHON_VAR, "").strip()
    python = Path(named) if named else AEGRA_VENV / "bin" / "python"
    if not python.exists():
        raise InvalidRequest(
            f"the Aegra engine is not installed ({python} is missing): run `make aegra` (it needs python3.12)"
        )
    return python


def aegra_command(host: str, port: int, *, env: Mapping[str, str] | None = None) -> list[str]:
    """uvicorn serving Aegra's app on ``host:port``, from the Aegra environment."""
    return [str(aegra_python(env)), "-m", "uvicorn", APP, "--host", host, "--port", str(port), "--no-access-log"]


def _self_url(host: str, port: int) -> str:
    """Where this instance reaches itself: loopback when it listens on every interface."""
    reachable = "127.0.0.1" if host in ("0.0.0.0", "", "::", "[::]") else host
    return f"http://{reachable}:{port}"


def aegra_env(config: Path, *, host: str, port: int, base: Mapping[str, str]) -> dict[str, str]:
    """The variables Aegra reads, from the project's own (see the module's docstring).

    Raises:
        InvalidRequest: ``SUPPORT_DATABASE_URL`` is not set.
    """
    database = base.get(DATABASE_URL_VAR, "").strip()
    if not database:
        raise InvalidRequest(
            f"Aegra keeps conversations in Postgres: set {DATABASE_URL_VAR}=postgresql://user:password@host:5432/db"
        )
    env = {
        "DATABASE_URL": database,
        "AEGRA_CONFIG": str(config),
        ENGINE_VAR: AEGRA,
        SELF_URL_VAR: _self_url(host, port),
        INTERNAL_TOKEN_VAR: secrets.token_urlsafe(32),  # new for every start, known only to this instance
    }
    # A checkpoint when a run ends (or pauses) rather than after every step: a turn is many steps, and on this
    # 2-core machine two instances served 8 clients at 10.9 turns/s instead of 7.5. A run cut off by a crash starts its
    # turn again from the last checkpoint, and every payment is idempotent (tests/test_aegra.py kills one).
    env["AEGRA_CHECKPOINT_DURABILITY"] = base.get("AEGRA_CHECKPOINT_DURABILITY", "").strip() or "exit"
    redis = base.get(REDIS_URL_VAR, "").strip()
    if redis:
        env |= {"REDIS_BROKER_ENABLED": "true", "REDIS_URL": redis}
    else:
        env["REDIS_BROKER_ENABLED"] = "false"  # a value left in the shell must not point at a Redis we did not name
    return env


class AegraServer(ManagedServer):
    """An Aegra instance started in the background the way `support serve --engine aegra` starts it.

    Used by `support bench --server --engine aegra` and the tests. ``env`` must name
    ``SUPPORT_DATABASE_URL`` (and ``SUPPORT_REDIS_URL`` for several instances) unless this process has them.
    """

    name = "Aegra"
    health_path = HEALTH_PATH

    def _environment(self, config: Path) -> dict[str, str]:
        env = server_env(self.data_dir)
        for var in self._drop_env:
            env.pop(var, None)
        env.update(self._extra_env)
        env.update(aegra_env(config, host=self.host, port=self.port, base=env))
        return env

    def _command(self, config: Path) -> list[str]:
        return aegra_command(self.host, self.port, env={**os.environ, **self._extra_env})
