"""Run the LangGraph server (`langgraph dev`) for this project, with its state in the data directory.

`langgraph dev` keeps its thread and run registry in ``.langgraph_api/`` under its working
directory and resolves the ``./`` paths of `langgraph.json` from there. To keep every runtime file
in ``$SUPPORT_DATA_DIR`` (outside the source tree, and kept across restarts), the server runs in
``<data dir>/server`` with a copy of `langgraph.json` whose paths point back at the project.
"""

from __future__ import annotations

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

from service.errors import InvalidRequest
from service.studio_access import StudioPolicy, is_loopback

__all__ = [
    "PROJECT_ROOT",
    "ManagedServer",
    "ServerAddresses",
    "free_port",
    "server_command",
    "server_env",
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


def wait_until_ready(base_url: str, process: subprocess.Popen[Any], *, timeout: float = 60.0) -> bool:
    """Poll ``/ok`` until the server answers; False if it exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{base_url}/ok", timeout=2) as response:
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

    def start(self, *, timeout: float = 90.0) -> None:
        """Start the server and wait until it answers.

        Raises:
            RuntimeError: It exited or did not answer within ``timeout`` seconds (the end of its output is in
                the message).
        """
        config = write_runtime_config(self.data_dir)
        env = server_env(self.data_dir)
        for var in self._drop_env:
            env.pop(var, None)
        env.update(studio_env(config, host=self.host, enabled=self.studio, base=env))
        env.update(self._extra_env)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("a", encoding="utf-8")
        self._process = subprocess.Popen(
            server_command(config, host=self.host, port=self.port, jobs=self.jobs),
            cwd=config.parent,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        if not wait_until_ready(self.url, self._process, timeout=timeout):
            self.stop()
            raise RuntimeError(f"langgraph dev did not start; output:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        """Stop the server cleanly (SIGINT lets it save its run registry); kill it after 30 s."""
        if self._process is not None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(encoding="utf-8") if self.log_path.exists() else ""

    def __enter__(self) -> ManagedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def serve(
    data_dir: Path,
    *,
    host: str,
    port: int,
    jobs: int = DEFAULT_JOBS,
    studio: bool = False,
    out: TextIO = sys.stdout,
) -> int:
    """Run the server in the foreground until Ctrl-C; returns its exit status.

    Raises:
        InvalidRequest: The port is taken or the options make no sense (nothing was started).
    """
    if not 0 < port < 65536:
        raise InvalidRequest(f"--port must be between 1 and 65535, not {port}")
    if jobs < 1:
        raise InvalidRequest(f"--jobs must be at least 1, not {jobs}")
    # `langgraph dev` would quietly move to another port, and we would print the wrong addresses.
    if not port_is_free(host, port):
        raise InvalidRequest(f"port {port} on {host} is in use (another server?); choose one with --port")
    config = write_runtime_config(data_dir)
    env = server_env(data_dir)
    env.update(studio_env(config, host=host, enabled=studio or studio_requested(), base=env))
    addresses = ServerAddresses(host, port)
    print(f"Starting the LangGraph server (data in {data_dir.resolve()})…", file=out, flush=True)
    process = subprocess.Popen(server_command(config, host=host, port=port, jobs=jobs), cwd=config.parent, env=env)
    try:
        if not wait_until_ready(addresses.api, process):
            process.terminate()
            print("The server did not start; see its output above.", file=out, flush=True)
            return process.wait() or 1
        print(
            f"\n  API:      {addresses.api}   (docs: {addresses.docs})\n"
            + (
                f"  Studio:   {addresses.studio}\n"
                if env["SUPPORT_STUDIO_ACCESS"] == "1"
                else "  Studio:   off (support serve --studio turns it on, for this machine only)\n"
            )
            + f"  Console:  {addresses.console}   (demo manager token: demo-manager)\n"
            + f"  Chat:     {addresses.chat}   (for customers)\n"
            f"\nCustomer tokens: demo-cust_001 … demo-cust_005. Press Ctrl-C to stop; state is kept.\n",
            file=out,
            flush=True,
        )
        return process.wait()
    except KeyboardInterrupt:
        # Ctrl-C reached the server too (same process group): let it save its state and stop.
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        print("Stopped.", file=out, flush=True)
        return 0
