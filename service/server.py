"""Run the LangGraph server (`langgraph dev`) for this project, with its state in the data directory.

`langgraph dev` keeps its thread and run registry in ``.langgraph_api/`` under its working
directory and resolves the ``./`` paths of `langgraph.json` from there. To keep every runtime file
in ``$SUPPORT_DATA_DIR`` (outside the source tree, and kept across restarts), the server runs in
``<data dir>/server`` with a copy of `langgraph.json` whose paths point back at the project.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, TextIO

from service.engine import ENGINE_VAR, INTERNAL_TOKEN_VAR, LANGGRAPH_DEV, SELF_URL_VAR
from service.errors import InvalidRequest
from service.studio_access import StudioPolicy, is_loopback
from service.tokens import TokenError, TokenRegistry, demo_tokens_requested

__all__ = [
    "PROJECT_ROOT",
    "ManagedServer",
    "ServerAddresses",
    "demo_token_env",
    "free_port",
    "port_is_free",
    "server_command",
    "server_env",
    "stop_group",
    "studio_env",
    "wait_until_ready",
    "write_runtime_config",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STUDIO_URL = "https://smith.langchain.com/studio/?baseUrl={base}"
DEFAULT_JOBS = 8  # concurrent runs; `langgraph dev` alone runs one at a time


class ServerAddresses:
    """Where the server answers: the API, LangGraph Studio for it, the approval console and the customer chat."""

    def __init__(self, host: str, port: int) -> None:
        self.api = f"http://{host}:{port}"
        self.studio = STUDIO_URL.format(base=self.api)
        self.console = f"{self.api}/approvals"
        self.chat = f"{self.api}/chat"
        self.docs = f"{self.api}/docs"


def _absolute(value: str, root: Path) -> str:
    """``./service/x.py:fn`` -> ``/abs/service/x.py:fn``; anything else unchanged."""
    return str(root / value[2:]) if value.startswith("./") else value


def write_runtime_config(data_dir: Path, *, project_root: Path = PROJECT_ROOT) -> Path:
    """Write ``<data dir>/server/langgraph.json``: the project's config with absolute paths.

    Raises:
        FileNotFoundError: The project's `langgraph.json` is not there (not a source checkout).
    """
    config: dict[str, Any] = json.loads((project_root / "langgraph.json").read_text(encoding="utf-8"))
    config["dependencies"] = [str((project_root / dep).resolve()) for dep in config.get("dependencies", ["."])]
    for spec in config.get("graphs", {}).values():
        if isinstance(spec, dict):
            spec["path"] = _absolute(spec["path"], project_root)
    for section, key in (("checkpointer", "path"), ("auth", "path"), ("http", "app")):
        if section in config and key in config[section]:
            config[section][key] = _absolute(config[section][key], project_root)
    if isinstance(config.get("env"), str):
        config["env"] = str(project_root / config["env"])
    workdir = data_dir / "server"
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / "langgraph.json"
    target.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return target


def _langgraph_executable() -> str:
    beside = Path(sys.executable).with_name("langgraph")
    found = str(beside) if beside.exists() else shutil.which("langgraph")
    if not found:
        raise FileNotFoundError("the `langgraph` command is missing: install the project with `make install`")
    return found


def server_command(config: Path, *, host: str, port: int, jobs: int = DEFAULT_JOBS) -> list[str]:
    """The `langgraph dev` command line: no browser, no reload loop, bound to ``host``."""
    return [
        _langgraph_executable(),
        "dev",
        "--config",
        str(config),
        "--host",
        host,
        "--port",
        str(port),
        "--no-browser",
        "--no-reload",
        "--n-jobs-per-worker",
        str(jobs),
    ]


def server_env(data_dir: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The server's environment: the data directory made absolute, quiet logs, no version check."""
    env = dict(os.environ if base is None else base)
    env["SUPPORT_DATA_DIR"] = str(data_dir.resolve())
    # `langgraph dev` unless the Aegra launcher says otherwise (`service.aegra_server.aegra_env`): a value left
    # in the shell must not make a `langgraph dev` accept an internal token.
    env[ENGINE_VAR] = LANGGRAPH_DEV
    for var in (INTERNAL_TOKEN_VAR, SELF_URL_VAR):
        env.pop(var, None)
    env.setdefault("LOG_LEVEL", "WARNING")
    env.setdefault("LANGGRAPH_NO_VERSION_CHECK", "true")
    env.setdefault("LANGSMITH_TRACING", "false")
    return env


def studio_env(config: Path, *, host: str, enabled: bool, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables that turn Studio's token-less access on (or leave it off) for a server on ``host``.

    On, the Studio origins join the CORS allow-list of the runtime ``langgraph.json`` (only there:
    the API answers no other origin). Off, ``SUPPORT_STUDIO_ACCESS`` is pinned to ``0`` so a value
    left in the shell cannot turn it on behind the operator's back.

    Raises:
        InvalidRequest: Studio access was asked for on a host other than loopback.
    """
    if not enabled:
        return {"SUPPORT_STUDIO_ACCESS": "0"}
    if not is_loopback(host):
        raise InvalidRequest(f"--studio works only on a loopback host (127.0.0.1), not {host}: Studio needs no token")
    origins = sorted(StudioPolicy.from_env(base).origins)
    data = json.loads(config.read_text(encoding="utf-8"))
    cors = dict((data.get("http") or {}).get("cors") or {})
    cors["allow_origins"] = origins
    return {"SUPPORT_STUDIO_ACCESS": "1", "CORS_CONFIG": json.dumps(cors)}


def studio_requested(env: Mapping[str, str] | None = None) -> bool:
    """Did the operator turn Studio access on in the environment (``SUPPORT_STUDIO_ACCESS=1``)?"""
    return StudioPolicy.from_env(env).enabled


def wait_until_ready(
    base_url: str, process: subprocess.Popen[Any], *, timeout: float = 60.0, path: str = "/ok"
) -> bool:
    """Poll ``path`` (`langgraph dev`'s ``/ok``; Aegra's is ``/health``) until the server answers.

    False if it exits or the time runs out.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{base_url}{path}", timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port the operating system says is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ManagedServer:
    """A `langgraph dev` started in the background the way `support serve` starts it, and stopped on request.

    Used by `support bench --server` (a throwaway server on a free loopback port) and by the tests.
    The server's output goes to ``log_path`` (default ``<data dir>/server-output.log``).

    Args:
        data_dir: The server's data directory ($SUPPORT_DATA_DIR for it).
        port: The port; a free one on 127.0.0.1 when None.
        jobs: Runs processed at once.
        env: Variables set for the server on top of this process's environment.
        drop_env: Variables removed from the server's environment.
        studio: Let Studio's token-less requests in (loopback only), as ``support serve --studio`` does.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        jobs: int = DEFAULT_JOBS,
        env: Mapping[str, str] | None = None,
        drop_env: tuple[str, ...] = (),
        log_path: Path | None = None,
        studio: bool = False,
    ) -> None:
        self.data_dir = data_dir
        self.studio = studio
        self.host = "127.0.0.1"
        self.port = port or free_port(self.host)
        self.jobs = jobs
        self.addresses = ServerAddresses(self.host, self.port)
        self.url = self.addresses.api
        self.log_path = log_path or data_dir / "server-output.log"
        self._extra_env = dict(env or {})
        self._drop_env = drop_env
        self._process: subprocess.Popen[Any] | None = None
        self._log: IO[str] | None = None

    name = "langgraph dev"
    health_path = "/ok"

    def _environment(self, config: Path) -> dict[str, str]:
        """The server's whole environment."""
        env = server_env(self.data_dir)
        for var in self._drop_env:
            env.pop(var, None)
        env.update(studio_env(config, host=self.host, enabled=self.studio, base=env))
        env.update(self._extra_env)
        return env

    def _command(self, config: Path) -> list[str]:
        return server_command(config, host=self.host, port=self.port, jobs=self.jobs)

    def start(self, *, timeout: float = 90.0) -> None:
        """Start the server and wait until it answers.

        Raises:
            RuntimeError: It exited or did not answer within ``timeout`` seconds (the end of its output is in
                the message).
        """
        config = write_runtime_config(self.data_dir)
        env = self._environment(config)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("a", encoding="utf-8")
        self._process = subprocess.Popen(
            self._command(config),
            cwd=config.parent,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
        if not wait_until_ready(self.url, self._process, timeout=timeout, path=self.health_path):
            self.stop()
            raise RuntimeError(f"{self.name} did not start; output:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        """Stop the server cleanly (SIGINT lets it save its run registry); kill its group after 30 s."""
        if self._process is not None:
            stop_group(self._process, signal.SIGINT, grace=30)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def kill(self) -> None:
        """SIGKILL the server's whole process group at once, as a crash would: nothing is saved."""
        if self._process is not None:
            _signal_group(self._process, signal.SIGKILL)
            self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(encoding="utf-8") if self.log_path.exists() else ""

    def __enter__(self) -> ManagedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def port_is_free(host: str, port: int) -> bool:
    """Can a server bind ``host:port`` now?

    With SO_REUSEADDR, as uvicorn binds: a port whose last connections linger in TIME_WAIT
    after a stop counts as free (the server can take it at once); a listening one does not.
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError:
            return False
    return True


def _signal_group(process: subprocess.Popen[Any], signum: int) -> None:
    """Send ``signum`` to the child's whole process group (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(process.pid, signum)


def stop_group(process: subprocess.Popen[Any], signum: int = signal.SIGTERM, *, grace: float = 15.0) -> int:
    """Stop the child and everything it started: ``signum``, then SIGTERM, then SIGKILL; returns its status."""
    for sig, wait_s in ((signum, grace), (signal.SIGTERM, grace), (signal.SIGKILL, None)):
        if process.poll() is not None:
            break
        _signal_group(process, sig)
        try:
            process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            continue
    code = process.wait()
    _signal_group(process, signal.SIGKILL)  # nothing it started may outlive it and keep the port
    return code


def demo_token_env(host: str, *, requested: bool) -> dict[str, str]:
    """``SUPPORT_DEMO_TOKENS`` for a server on ``host``: "1" only when asked for, and only on loopback.

    Raises:
        InvalidRequest: Demo tokens were asked for on a host other than loopback.
    """
    if requested and not is_loopback(host):
        raise InvalidRequest(
            f"demo tokens are on (--demo-tokens or SUPPORT_DEMO_TOKENS=1) and they are published, so they work "
            f"only on a loopback host, not {host}: turn them off and configure your own tokens (see README, Tokens)"
        )
    return {"SUPPORT_DEMO_TOKENS": "1" if requested else "0"}


def serve(
    data_dir: Path,
    *,
    host: str,
    port: int,
    jobs: int = DEFAULT_JOBS,
    studio: bool = False,
    demo_tokens: bool = False,
    engine: str = "langgraph-dev",
    out: TextIO = sys.stdout,
) -> int:
    """Run the server in the foreground until Ctrl-C or SIGTERM; returns its exit status.

    The server runs in its own process group; SIGINT and SIGTERM sent to this process are
    forwarded to the whole group, and this process waits until it has stopped, so nothing is
    left answering on the port.

    Raises:
        InvalidRequest: The port is taken or the options make no sense (nothing was started).
    """
    if not 0 < port < 65536:
        raise InvalidRequest(f"--port must be between 1 and 65535, not {port}")
    if jobs < 1:
        raise InvalidRequest(f"--jobs must be at least 1, not {jobs}")
    demo = demo_token_env(host, requested=demo_tokens or demo_tokens_requested())
    studio = studio or studio_requested()
    aegra = engine == "aegra"
    if studio and aegra:  # Studio's token-less scheme is `langgraph dev`'s; on Aegra it connects with a token
        raise InvalidRequest("--studio is for `langgraph dev`; on Aegra, Studio connects with a manager's token")
    if studio and not is_loopback(host):  # checked again by studio_env; here so nothing is written first
        raise InvalidRequest(f"--studio works only on a loopback host (127.0.0.1), not {host}: Studio needs no token")
    # `langgraph dev` would quietly move to another port, and we would print the wrong addresses.
    if not port_is_free(host, port):
        raise InvalidRequest(f"port {port} on {host} is in use (another server?); choose one with --port")
    if aegra:
        from service.aegra_server import HEALTH_PATH, aegra_command, aegra_env

        command = aegra_command(host, port)  # before anything is written: says what is missing
    config = write_runtime_config(data_dir)
    env = server_env(data_dir)
    env.update(studio_env(config, host=host, enabled=studio, base=env))
    env.update(demo)
    if aegra:
        env.update(aegra_env(config, host=host, port=port, base=env))
    else:
        command = server_command(config, host=host, port=port, jobs=jobs)
    try:
        token_count = len(TokenRegistry.from_env(env))
    except TokenError as exc:
        raise InvalidRequest(str(exc)) from exc
    addresses = ServerAddresses(host, port)
    where = "Aegra on Postgres" + (" and Redis" if env.get("REDIS_BROKER_ENABLED") == "true" else "") if aegra else ""
    print(
        f"Starting the LangGraph server{' (' + where + ')' if where else ''} (data in {data_dir.resolve()})…",
        file=out,
        flush=True,
    )
    process = subprocess.Popen(
        command,
        cwd=config.parent,
        env=env,
        start_new_session=True,  # its own group: signals reach it only through us, and reach all of it
    )
    stopping: list[int] = []

    def forward(signum: int, frame: object) -> None:
        stopping.append(signum)
        _signal_group(process, signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if not wait_until_ready(addresses.api, process, timeout=120, path=HEALTH_PATH if aegra else "/ok"):
            if stopping:
                print("Stopped.", file=out, flush=True)
                return 0
            print("The server did not start; see its output above.", file=out, flush=True)
            return stop_group(process) or 1
        demo_on = demo["SUPPORT_DEMO_TOKENS"] == "1"
        print(
            f"\n  API:      {addresses.api}   (docs: {addresses.docs})\n"
            + (
                f"  Studio:   {addresses.studio}\n"
                if env["SUPPORT_STUDIO_ACCESS"] == "1"
                else "  Studio:   with a manager's token (Aegra)\n"
                if aegra
                else "  Studio:   off (support serve --studio turns it on, for this machine only)\n"
            )
            + f"  Console:  {addresses.console}"
            + ("   (demo manager token: demo-manager)\n" if demo_on else "\n")
            + f"  Chat:     {addresses.chat}   (for customers)\n"
            + (
                "\nCustomer tokens: demo-cust_001 … demo-cust_005 (demo tokens: this machine only).\n"
                if demo_on
                else (
                    "\nNo tokens are configured, so every request gets 401: set SUPPORT_TOKENS_FILE or "
                    "SUPPORT_MANAGER_TOKENS, or use --demo-tokens on this machine.\n"
                    if token_count == 0
                    else ""
                )
            )
            + "Press Ctrl-C to stop; state is kept.\n",
            file=out,
            flush=True,
        )
        code = process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        # Forwarded SIGINT lets the server save its state; give it time, then make sure all of it is gone.
        code = stop_group(process, signal.SIGINT if not stopping else stopping[-1])
    if stopping:
        print("Stopped.", file=out, flush=True)
        return 0
    return code
