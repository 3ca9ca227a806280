"""Time travel and the transcript archive: after a fork from before the archive point, history follows the live branch.

A long thread moves its oldest messages to the archive. Forking at an older checkpoint (what
Studio does when you edit a message and re-run) starts a new branch; the archived turns of the
abandoned branch must not appear in `support history` or the API's transcript.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from cli.main import main
from graph.context import Context
from service.transcript import thread_transcript
from tests.live_server import ASSISTANT, MANAGER, LiveServer, customer_token, live_server

__all__ = ["live_server"]


def question(n: int | str) -> str:
    return f"How do I export my data to CSV? (question {n})"


def archived_rows(desk: Any, thread: str) -> int:
    with desk.db.connect() as conn:
        return int(conn.execute("SELECT COUNT(*) FROM transcript_archive WHERE thread_id = ?", (thread,)).fetchone()[0])


def fork_with_an_edit(desk: Any, thread: str, turn_text: str, new_text: str) -> None:
    """Go back to the checkpoint where `turn_text` was about to be handled, change it, and run from there."""
    config = desk._config(thread)
    before = next(
        s
        for s in desk.graph.get_state_history(config)
        if s.next == ("intake",) and s.values["messages"][-1].text == turn_text
    )
    original = before.values["messages"][-1]
    forked = desk.graph.update_state(
        before.config, {"messages": [HumanMessage(content=new_text, id=original.id)]}, as_node="__start__"
    )
    assert (
        desk.graph.get_state(config).config["configurable"]["checkpoint_id"] == forked["configurable"]["checkpoint_id"]
    )
    desk.graph.invoke(None, config, context=Context(customer_id="cust_001"))


@pytest.fixture
def forked_thread(desk: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str]]:
    """A thread archived at some turn A, then forked at turn A-1 with an edit; returns (thread, live questions)."""
    # Studio time-travels on the server, whose runs checkpoint every step; the CLI keeps one per turn.
    monkeypatch.setattr("service.desk.DURABILITY", "async")
    thread = None
    archived_at = None
    turn = 0
    while archived_at is None or turn < archived_at + 3:  # three more turns on the branch to abandon
        thread = desk.ask(question(turn), customer_id="cust_001", thread_id=thread)["thread_id"]
        if archived_at is None and archived_rows(desk, thread):
            archived_at = turn
        turn += 1
    assert thread is not None and archived_at is not None
    edited = f"{question(archived_at - 1)} (edited)"
    fork_with_an_edit(desk, thread, question(archived_at - 1), edited)
    # The live branch grows past the archive point again, so it archives on its own.
    rows_before = archived_rows(desk, thread)
    desk.ask(question("after the fork"), customer_id="cust_001", thread_id=thread)
    assert archived_rows(desk, thread) > rows_before
    live = [question(n) for n in range(archived_at - 1)] + [edited, question("after the fork")]
    return thread, live


def customer_lines(history: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in history if m["role"] == "customer"]


def test_history_follows_the_live_branch(desk: Any, forked_thread: tuple[str, list[str]]) -> None:
    thread, live = forked_thread
    history = desk.history(thread)
    assert customer_lines(history) == live  # nothing from the abandoned branch, nothing twice
    assert len(history) == 2 * len(live)  # each question with its one answer


def test_support_history_shows_the_live_branch(
    desk: Any, forked_thread: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    thread, live = forked_thread
    monkeypatch.setenv("SUPPORT_DATA_DIR", str(desk.settings.data_dir))
    assert main(["history", thread, "--json"]) == 0
    assert customer_lines(json.loads(capsys.readouterr().out)["messages"]) == live
    assert main(["history", thread]) == 0
    text = capsys.readouterr().out
    assert "(edited)" in text and f"{question(len(live) - 1)}\n" not in text


def test_the_servers_transcript_reads_the_same_live_branch(desk: Any, forked_thread: tuple[str, list[str]]) -> None:
    thread, live = forked_thread
    transcript = thread_transcript(desk.db, Path(desk.settings.data_dir) / "checkpoints.db", thread)
    assert transcript is not None
    assert customer_lines(transcript["messages"]) == live
    assert transcript["messages"] == desk.history(thread)


def test_rows_archived_before_branches_were_recorded_still_show(desk: Any) -> None:
    thread = None
    for turn in range(24):
        thread = desk.ask(question(turn), customer_id="cust_001", thread_id=thread)["thread_id"]
    assert thread is not None
    with desk.db.transaction() as conn:  # as an older version wrote them
        conn.execute("UPDATE transcript_archive SET checkpoint_id = '' WHERE thread_id = ?", (thread,))
    assert customer_lines(desk.history(thread)) == [question(n) for n in range(24)]


# --- the same through the server: Studio's fork (update_state at an old checkpoint), then the API ---------


def test_a_fork_through_the_server_and_the_transcript_api(live_server: LiveServer) -> None:
    customer = live_server.client(customer_token("cust_002"))
    manager = live_server.client(MANAGER)
    thread = customer.threads.create()["thread_id"]

    def ask(text: str) -> None:
        customer.runs.wait(thread, ASSISTANT, input={"messages": [{"role": "user", "content": text}]})

    def rows() -> int:
        with live_server.db.connect() as conn:
            query = "SELECT COUNT(*) FROM transcript_archive WHERE thread_id = ?"
            return int(conn.execute(query, (thread,)).fetchone()[0])

    turn, archived_at = 0, None
    while archived_at is None or turn < archived_at + 2:
        ask(question(turn))
        if archived_at is None and rows():
            archived_at = turn
        turn += 1
    assert archived_at is not None
    # What Studio does on "edit and re-run": a new checkpoint forked from the old one, then a run from it.
    before = next(
        s
        for s in manager.threads.get_history(thread, limit=1000)
        if s["next"] == ["intake"] and s["values"]["messages"][-1]["content"] == question(archived_at - 1)
    )
    original = before["values"]["messages"][-1]
    edited = f"{question(archived_at - 1)} (edited)"
    manager.threads.update_state(
        thread,
        {"messages": [{"type": "human", "content": edited, "id": original["id"]}]},
        as_node="__start__",
        checkpoint=before["checkpoint"],
    )
    manager.runs.wait(thread, ASSISTANT, input=None, context={"customer_id": "cust_002"})
    ask(question("after the fork"))

    with live_server.http() as http:
        response = http.get(f"/approvals/api/threads/{thread}/transcript")
        missing = http.get("/approvals/api/threads/thr_nope/transcript")
    with live_server.http(customer_token("cust_002")) as http:
        as_customer = http.get(f"/approvals/api/threads/{thread}/transcript")
    assert response.status_code == 200, response.text
    live = [question(n) for n in range(archived_at - 1)] + [edited, question("after the fork")]
    assert customer_lines(response.json()["messages"]) == live
    assert missing.status_code == 404 and as_customer.status_code == 403


def test_an_archive_from_before_branches_is_migrated(tmp_path: Path) -> None:
    from tests.conftest import TODAY
    from tools.clock import FixedClock
    from tools.db import Database

    db = Database(tmp_path / "support.db", FixedClock(TODAY))
    db.ensure_ready()
    with db.transaction() as conn:  # the version 2 table, with one archived message
        conn.execute("DROP TABLE transcript_archive")
        conn.execute(
            "CREATE TABLE transcript_archive (id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id TEXT NOT NULL, "
            "message_id TEXT NOT NULL, customer_id TEXT NOT NULL REFERENCES customers (id), role TEXT NOT NULL "
            "CHECK (role IN ('customer', 'agent')), agent TEXT, text TEXT NOT NULL, UNIQUE (thread_id, message_id))"
        )
        conn.execute(
            "INSERT INTO transcript_archive (thread_id, message_id, customer_id, role, agent, text) "
            "VALUES ('thr_old', 'm1', 'cust_001', 'customer', NULL, 'hello')"
        )
        conn.execute("DROP TABLE schema_migrations")  # a file from before numbered migrations, at version 2
        conn.execute("PRAGMA user_version = 2")
    db.ensure_ready()
    with db.connect() as conn:
        row = conn.execute("SELECT checkpoint_id, message_id, text FROM transcript_archive").fetchone()
    assert tuple(row) == ("", "m1", "hello")
    from tools.transcripts import archived_messages

    assert archived_messages(db, "thr_old", branch={"any"}) == [{"role": "customer", "agent": None, "text": "hello"}]
