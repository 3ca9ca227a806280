"""Plain `langgraph dev` in a copy of the project folder, with no SUPPORT_* variable, as a newcomer runs it.

The server flags blocking calls on its event loop (even `os.getcwd()` for the default data
directory), so this is the path where `./.support` is worked out at run time. It is also where
Studio reads the graph and its input, output and context schemas.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.server import PROJECT_ROOT, free_port, server_command, wait_until_ready
from tests.live_server import ASSISTANT, MANAGER, customer_token

_SOURCES = ("graph", "nodes", "tools", "llm", "service", "cli", "evals", "langgraph.json", "pyproject.toml")


class PlainServer:
    def __init__(self, folder: Path, process: subprocess.Popen[Any], url: str, log: Path) -> None:
        self.folder, self.process, self.url, self.log = folder, process, url, log

    def http(self, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=90)

    def assistant_id(self) -> str:
        with self.http(MANAGER) as http:
            found = http.post("/assistants/search", json={"graph_id": ASSISTANT}).json()
        return str(found[0]["assistant_id"])


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlainServer]:
    folder = tmp_path_factory.mktemp("project")
    for name in _SOURCES:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, folder / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPPORT_", "OPENAI_"))}
    env.update(
        # Only what a newcomer's shell would hold, plus the demo tokens the test signs in with
        # (set explicitly, so the test holds whether they are on by default or opt-in).
        SUPPORT_DEMO_TOKENS="1",
        LANGGRAPH_NO_VERSION_CHECK="true",
        LANGSMITH_TRACING="false",
        LOG_COLOR="false",
    )
    port = free_port()
    command = server_command(folder / "langgraph.json", host="127.0.0.1", port=port, jobs=2)
    command = [part for part in command if part != str(folder / "langgraph.json") and part != "--config"]
    log = folder / "server-output.log"
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_ready(url, process, timeout=90):
            raise RuntimeError(f"langgraph dev did not start:\n{log.read_text()[-4000:]}")
        yield PlainServer(folder, process, url, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_graph_view_answers(plain_server: PlainServer) -> None:
    with plain_server.http(MANAGER) as http:
        response = http.get(f"/assistants/{plain_server.assistant_id()}/graph")
    assert response.status_code == 200, response.text
    nodes = {node["id"] for node in response.json()["nodes"]}
    assert {"intake", "triage", "billing", "refund", "faq"} <= nodes


def test_studio_gets_input_output_and_context_schemas_with_descriptions(plain_server: PlainServer) -> None:
    with plain_server.http(MANAGER) as http:
        response = http.get(f"/assistants/{plain_server.assistant_id()}/schemas")
    assert response.status_code == 200, response.text
    schemas = response.json()
    for name, fields in (
        ("input_schema", {"messages"}),
        ("output_schema", {"messages", "routed_to", "pending_approval"}),
        ("context_schema", {"customer_id"}),
    ):
        schema = schemas[name]
        assert schema is not None, f"{name} is null"
        assert schema.get("description"), name
        assert fields <= set(schema["properties"]), name
        undescribed = [f for f, spec in schema["properties"].items() if not spec.get("description")]
        assert undescribed == [], f"{name}: {undescribed} have no description"


def test_a_run_succeeds_and_the_data_lands_in_dot_support(plain_server: PlainServer) -> None:
    with plain_server.http(customer_token("cust_001")) as http:
        thread = http.post("/threads", json={}).json()
        values = http.post(
            f"/threads/{thread['thread_id']}/runs/wait",
            json={
                "assistant_id": ASSISTANT,
                "input": {"messages": [{"role": "user", "content": "How do I export my data to CSV?"}]},
            },
        ).json()
        runs = http.get(f"/threads/{thread['thread_id']}/runs").json()
    assert [r["status"] for r in runs] == ["success"], values
    reply = next(m for m in reversed(values["messages"]) if m["type"] == "ai" and m["content"])
    assert reply["name"] == "FAQAgent" and "Export" in reply["content"]
    assert (plain_server.folder / ".support" / "checkpoints.db").exists()
    assert (plain_server.folder / ".support" / "support.db").exists()


def test_the_console_api_answers(plain_server: PlainServer) -> None:
    with plain_server.http(MANAGER) as http:
        me = http.get("/approvals/api/me")
        approvals = http.get("/approvals/api/approvals")
    assert me.status_code == 200 and me.json()["role"] == "manager"
    assert approvals.status_code == 200 and "approvals" in approvals.json()


def test_nothing_was_refused_as_blocking(plain_server: PlainServer) -> None:
    # Runs after the others (file order): every request above has been served by now.
    assert "Blocking" not in plain_server.log.read_text(encoding="utf-8")
