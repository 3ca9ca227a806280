"""Studio's token-less scheme: off by default, and when turned on, only from loopback and Studio's origin.

`langgraph dev` treats any request with ``x-auth-scheme: langsmith`` as Studio and skips our
token check, so these tests send exactly what an attacker's web page would: the header, no token,
and a foreign Origin. Two real servers: one with the defaults, one started as `support serve --studio`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.errors import InvalidRequest
from service.server import studio_env
from service.studio_access import StudioPolicy, is_loopback
from tests.live_server import ASSISTANT, MANAGER, LiveServer, customer_token
from tools.refunds import get_approval

STUDIO = "https://smith.langchain.com"
EVIL = "https://evil.example"
SEAT_PACK = "I purchased the $899 seat pack by accident, I'd like my money back please."


def studio_headers(origin: str | None) -> dict[str, str]:
    headers = {"x-auth-scheme": "langsmith"}
    if origin:
        headers["Origin"] = origin
    return headers


@pytest.fixture(scope="module")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("studio-off")) as server:
        yield server


@pytest.fixture(scope="module")
def studio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("studio-on"), studio=True) as server:
        yield server


def waiting_approval(server: LiveServer) -> tuple[str, str]:
    """cust_003 asks for the $899 seat pack back; returns (thread id, approval id) once it waits for a manager."""
    client = server.client(customer_token("cust_003"))
    thread_id = client.threads.create()["thread_id"]
    client.runs.wait(thread_id, ASSISTANT, input={"messages": [{"role": "user", "content": SEAT_PACK}]})
    for _ in range(3):  # the desk may ask the customer to confirm first
        thread = client.threads.get(thread_id)
        if thread["status"] == "interrupted":
            break
        client.runs.wait(thread_id, ASSISTANT, input={"messages": [{"role": "user", "content": "yes"}]})
    thread = client.threads.get(thread_id)
    assert thread["status"] == "interrupted", thread
    payload = next(iter(thread["interrupts"].values()))[0]["value"]
    return thread_id, payload["approval"]["approval_id"]


@pytest.mark.parametrize(
    ("env", "client", "origin", "passes"),
    [
        ({}, "127.0.0.1", STUDIO, False),  # off unless turned on
        ({"SUPPORT_STUDIO_ACCESS": "1"}, "127.0.0.1", STUDIO, False),  # not `langgraph dev`
        ({"SUPPORT_STUDIO_ACCESS": "1", "LANGSMITH_LANGGRAPH_API_VARIANT": "local_dev"}, "127.0.0.1", STUDIO, True),
        ({"SUPPORT_STUDIO_ACCESS": "1", "LANGSMITH_LANGGRAPH_API_VARIANT": "local_dev"}, "::1", STUDIO + "/", True),
        ({"SUPPORT_STUDIO_ACCESS": "1", "LANGSMITH_LANGGRAPH_API_VARIANT": "local_dev"}, "10.0.0.7", STUDIO, False),
        ({"SUPPORT_STUDIO_ACCESS": "1", "LANGSMITH_LANGGRAPH_API_VARIANT": "local_dev"}, "127.0.0.1", EVIL, False),
        ({"SUPPORT_STUDIO_ACCESS": "1", "LANGSMITH_LANGGRAPH_API_VARIANT": "local_dev"}, "127.0.0.1", None, False),
        ({"SUPPORT_STUDIO_ACCESS": "0", "LANGSMITH_LANGGRAPH_API_VARIANT": "local_dev"}, "127.0.0.1", STUDIO, False),
        (
            {
                "SUPPORT_STUDIO_ACCESS": "yes",
                "LANGSMITH_LANGGRAPH_API_VARIANT": "local_dev",
                "SUPPORT_STUDIO_ORIGINS": "https://studio.internal",
            },
            "127.0.0.1",
            STUDIO,
            False,
        ),
    ],
)
def test_the_policy_lets_only_a_local_studio_through_when_turned_on(
    env: dict[str, str], client: str, origin: str | None, passes: bool
) -> None:
    refusal = StudioPolicy.from_env(env).refusal(client_host=client, origin=origin)
    assert (refusal is None) is passes, refusal


def test_loopback_means_this_machine_only() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.8.8.8", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "10.0.0.1", "192.168.1.2", "evil.example", "", None]))


def test_studio_cannot_be_turned_on_for_a_shared_host(tmp_path: Path) -> None:
    config = tmp_path / "langgraph.json"
    config.write_text('{"http": {"cors": {"allow_origins": []}}}')
    with pytest.raises(InvalidRequest, match="loopback"):
        studio_env(config, host="0.0.0.0", enabled=True)
    assert studio_env(config, host="0.0.0.0", enabled=False) == {"SUPPORT_STUDIO_ACCESS": "0"}


def test_by_default_the_studio_header_reads_and_decides_nothing(default_server: LiveServer) -> None:
    thread_id, approval_id = waiting_approval(default_server)
    attempts = []
    with httpx.Client(base_url=default_server.url, timeout=60) as http:
        for origin in (EVIL, STUDIO, None):
            headers = studio_headers(origin)
            attempts += [
                http.post("/threads/search", json={}, headers=headers),
                http.get(f"/threads/{thread_id}", headers=headers),
                http.get(f"/threads/{thread_id}/state", headers=headers),
                http.post(
                    f"/threads/{thread_id}/runs/wait",
                    json={"assistant_id": ASSISTANT, "command": {"resume": {"decision": "approve", "by": "x"}}},
                    headers=headers,
                ),
                http.post("/runs/wait", json={"assistant_id": ASSISTANT, "input": {"messages": []}}, headers=headers),
                http.post("/store/items/search", json={}, headers=headers),
            ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert all("Studio" in r.json()["detail"] for r in attempts)
    assert get_approval(default_server.db, approval_id).status == "pending"  # type: ignore[union-attr]


def test_by_default_no_other_origin_may_call_the_api(default_server: LiveServer) -> None:
    with httpx.Client(base_url=default_server.url, timeout=30) as http:
        preflight = http.options(
            "/threads/search",
            headers={
                "Origin": EVIL,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        simple = http.post("/threads/search", json={}, headers={"Origin": EVIL, "Authorization": f"Bearer {MANAGER}"})
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers  # the browser hides the answer from the page
    assert simple.status_code == 200  # a token still works from a non-browser client


def test_with_studio_on_only_studios_origin_gets_in(studio_server: LiveServer) -> None:
    thread_id, approval_id = waiting_approval(studio_server)
    resume = {"assistant_id": ASSISTANT, "command": {"resume": {"decision": "approve", "by": "x"}}}
    with httpx.Client(base_url=studio_server.url, timeout=60) as http:
        evil_read = http.post("/threads/search", json={}, headers=studio_headers(EVIL))
        evil_resume = http.post(f"/threads/{thread_id}/runs/wait", json=resume, headers=studio_headers(EVIL))
        no_origin = http.post("/threads/search", json={}, headers=studio_headers(None))
        studio_read = http.post("/threads/search", json={}, headers=studio_headers(STUDIO))
        evil_preflight = http.options(
            "/threads/search",
            headers={
                "Origin": EVIL,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-auth-scheme",
            },
        )
        studio_preflight = http.options(
            "/threads/search",
            headers={
                "Origin": STUDIO,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-auth-scheme",
            },
        )
    assert (evil_read.status_code, evil_resume.status_code, no_origin.status_code) == (403, 403, 403)
    assert get_approval(studio_server.db, approval_id).status == "pending"  # type: ignore[union-attr]
    assert studio_read.status_code == 200
    assert thread_id in {t["thread_id"] for t in studio_read.json()}
    assert "access-control-allow-origin" not in evil_preflight.headers
    assert studio_preflight.headers.get("access-control-allow-origin") == STUDIO
