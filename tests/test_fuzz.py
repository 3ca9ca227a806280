"""Hostile input through the `support` command: a normal reply or one line and exit status 2, never a traceback.

The corpus is `tests/hostile.py`. `support ask` runs in process through `cli.main.main` (the same
code as the installed command, without a process start per item); `support chat` reads the whole
corpus in one real process. Afterwards nobody's refunds, approvals, plans or invoices changed.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from tests.conftest import TODAY
from tests.hostile import CLI_ARGUMENTS, HOSTILE_TEXTS


def snapshot(data_dir: Path) -> dict[str, Any]:
    """Everything money or access depends on, to compare before and after the corpus."""
    with sqlite3.connect(data_dir / "support.db") as conn:
        return {
            table: conn.execute(query).fetchall()
            for table, query in {
                "refunds": "SELECT refund_id, order_id, amount_cents FROM refunds ORDER BY refund_id",
                "decided": "SELECT approval_id, status FROM approvals WHERE status != 'pending'",
                "plans": "SELECT id, plan_id FROM customers ORDER BY id",
                "invoices": "SELECT invoice_id, status FROM invoices ORDER BY invoice_id",
                "customers": "SELECT id, name, email FROM customers ORDER BY id",
            }.items()
        }


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def ask(data_dir: Path, args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> tuple[int, str, str]:
    monkeypatch.setenv("SUPPORT_DATA_DIR", str(data_dir))
    code = main(["ask", *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean(code: int, out: str, err: str) -> None:
    assert "Traceback" not in out + err
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("support: error: "), err
    else:
        assert code == 0, err
        assert out.strip(), "a reply was expected"


@pytest.mark.parametrize("text", HOSTILE_TEXTS, ids=range(len(HOSTILE_TEXTS)))
def test_hostile_messages_get_a_reply_or_one_line(
    fuzz_dir: Path, text: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = ask(fuzz_dir, ["--customer", "cust_002", text], capsys, monkeypatch)
    assert_clean(code, out, err)
    if not text.strip("\x00\x01\x02\n\t ") or len(text) > 8001:
        assert code == 2


@pytest.mark.parametrize("args", CLI_ARGUMENTS, ids=range(len(CLI_ARGUMENTS)))
def test_hostile_arguments_get_a_reply_or_one_line(
    fuzz_dir: Path, args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = ask(fuzz_dir, args, capsys, monkeypatch)
    assert_clean(code, out, err)
    if args[1] != "cust_002":
        assert code == 2 and "unknown customer" in err


def test_the_corpus_changed_nobodys_data(fuzz_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs last in this module: the seed data as a fresh directory has it, after everything above."""
    fresh = fuzz_dir.parent / "fuzz-fresh"
    monkeypatch.setenv("SUPPORT_DATA_DIR", str(fresh))
    assert main(["customers"]) == 0
    assert snapshot(fuzz_dir) == snapshot(fresh)


def test_support_chat_survives_the_corpus_in_one_process(tmp_path: Path) -> None:
    env = {**os.environ, "SUPPORT_DATA_DIR": str(tmp_path), "SUPPORT_TODAY": TODAY.isoformat()}
    # One message per line: line breaks inside an item would make it several messages.
    lines = [" ".join(text.splitlines()) for text in HOSTILE_TEXTS]
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "chat", "--customer", "cust_002"],
        input="\n".join(lines) + "\nquit\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    for line in done.stderr.splitlines():  # each refusal is one line, and the chat goes on
        assert line.startswith("error: "), line
    assert "Thread thr_" in done.stdout  # it reached the end and said how to continue
