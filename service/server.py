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
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from service.errors import InvalidRequest

__all__ = [
    "PROJECT_ROOT",
    "ServerAddresses",
    "server_command",
    "server_env",
    "wait_until_ready",
    "write_runtime_config",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STUDIO_URL = "https://smith.langchain.com/studio/?baseUrl={base}"
DEFAULT_JOBS = 8  # concurrent runs; `langgraph dev` alone runs one at a time


class ServerAddresses:
    """Where the server answers: the API, LangGraph Studio for it, and the approval console."""

    def __init__(self, host: str, port: int) -> None:
        self.api = f"http://{host}:{port}"
        self.studio = STUDIO_URL.format(base=self.api)
        self.console = f"{self.api}/approvals"
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


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def serve(data_dir: Path, *, host: str, port: int, jobs: int = DEFAULT_JOBS, out: TextIO = sys.stdout) -> int:
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
    addresses = ServerAddresses(host, port)
    print(f"Starting the LangGraph server (data in {data_dir.resolve()})…", file=out, flush=True)
    process = subprocess.Popen(
        server_command(config, host=host, port=port, jobs=jobs), cwd=config.parent, env=server_env(data_dir)
    )
    try:
        if not wait_until_ready(addresses.api, process):
            process.terminate()
            print("The server did not start; see its output above.", file=out, flush=True)
            return process.wait() or 1
        print(
            f"\n  API:      {addresses.api}   (docs: {addresses.docs})\n"
            f"  Studio:   {addresses.studio}\n"
            f"  Console:  {addresses.console}   (demo manager token: demo-manager)\n"
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
