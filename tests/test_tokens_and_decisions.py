"""Token configuration and the approval answers the interrupt accepts (no server needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nodes.approval import parse_decision
from service.server import write_runtime_config
from service.tokens import Principal, TokenError, TokenRegistry, bearer_token


def test_demo_tokens_cover_the_seed_customers_and_a_manager_when_asked_for() -> None:
    tokens = TokenRegistry.from_env({"SUPPORT_DEMO_TOKENS": "1"})
    assert tokens.lookup("demo-cust_003") == Principal("customer", "cust_003", "cust_003", demo=True)
    assert tokens.lookup("demo-manager") == Principal("manager", "Maya (demo)", demo=True)
    assert tokens.lookup("demo-cust_999") is None and tokens.lookup("") is None


@pytest.mark.parametrize("value", [None, "", "0", "off", "no", "maybe"])
def test_demo_tokens_are_off_unless_asked_for(value: str | None) -> None:
    env = {} if value is None else {"SUPPORT_DEMO_TOKENS": value}
    assert len(TokenRegistry.from_env(env)) == 0


def test_tokens_from_a_file_and_from_variables(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"s3cret": {"role": "customer", "customer_id": "cust_002"}}), encoding="utf-8")
    env = {
        "SUPPORT_DEMO_TOKENS": "off",
        "SUPPORT_TOKENS_FILE": str(path),
        "SUPPORT_MANAGER_TOKENS": "boss=Ada Lovelace, deputy=Sam",
        "SUPPORT_CUSTOMER_TOKENS": "c1=cust_001",
    }
    tokens = TokenRegistry.from_env(env)
    assert tokens.lookup("s3cret") == Principal("customer", "cust_002", "cust_002")
    assert tokens.lookup("boss") == Principal("manager", "Ada Lovelace")
    assert tokens.lookup("c1") == Principal("customer", "cust_001", "cust_001")
    assert tokens.lookup("demo-manager") is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SUPPORT_MANAGER_TOKENS": "no-equals-sign"}, "token=value"),
        ({"SUPPORT_TOKENS_FILE": "/nonexistent/tokens.json"}, "SUPPORT_TOKENS_FILE"),
    ],
)
def test_bad_token_configuration_says_where(env: dict[str, str], message: str) -> None:
    with pytest.raises(TokenError, match=message):
        TokenRegistry.from_env(env)


def test_a_token_file_entry_needs_a_known_role(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"t": {"role": "admin"}}), encoding="utf-8")
    with pytest.raises(TokenError, match="role must be"):
        TokenRegistry.from_env({"SUPPORT_TOKENS_FILE": str(path)})


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer ", None), (None, None)],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_our_own_decision_shape_still_works() -> None:
    decision = parse_decision({"decision": "reject", "by": "Maya", "note": "late"})
    assert decision is not None and (decision.decision, decision.by, decision.note) == ("reject", "Maya", "late")


def test_an_inbox_accept_approves_and_a_response_rejects_with_its_text() -> None:
    accept = parse_decision([{"type": "accept", "args": None}], default_by="Sam")
    assert accept is not None and (accept.decision, accept.by) == ("approve", "Sam")
    respond = parse_decision({"type": "response", "args": "Used all month"}, default_by="Sam")
    assert respond is not None and (respond.decision, respond.note) == ("reject", "Used all month")


@pytest.mark.parametrize(
    "answer",
    [
        {"decision": "approve", "by": "Chief Financial Officer"},
        {"decision": "reject", "by": "Chief Financial Officer", "note": "no"},
        {"type": "accept", "by": "Chief Financial Officer"},
        [{"type": "response", "args": "no", "by": "Chief Financial Officer"}],
        {"decision": "approve"},
    ],
)
def test_the_token_holder_is_the_decider_whatever_the_answer_claims(answer: object) -> None:
    decision = parse_decision(answer, caller="Maya (demo)")
    assert decision is not None and decision.by == "Maya (demo)"


def test_a_manager_resume_is_stamped_with_the_token_name_before_it_runs() -> None:
    from service.auth import stamp_decider

    claimed = "Chief Financial Officer"
    assert stamp_decider({"decision": "approve", "by": claimed}, "Sam") == {"decision": "approve", "by": "Sam"}
    assert stamp_decider([{"type": "accept", "by": claimed}], "Sam") == [{"type": "accept", "by": "Sam"}]
    keyed = stamp_decider({"abc123": {"decision": "reject", "by": claimed, "note": "x"}}, "Sam")
    assert keyed == {"abc123": {"decision": "reject", "by": "Sam", "note": "x"}}


@pytest.mark.parametrize(
    "answer",
    [{"type": "ignore"}, {"type": "edit", "args": {}}, {"type": "response", "args": "  "}, "yes", [], None],
)
def test_anything_else_is_not_a_decision(answer: object) -> None:
    assert parse_decision(answer) is None


def test_the_server_config_points_back_at_the_project(tmp_path: Path) -> None:
    config = json.loads(write_runtime_config(tmp_path).read_text(encoding="utf-8"))
    root = Path(__file__).resolve().parent.parent
    assert config["graphs"]["support"]["path"] == f"{root}/service/studio.py:make_graph"
    assert config["checkpointer"]["path"] == f"{root}/service/checkpointer.py:checkpointer"
    assert config["auth"]["path"].startswith(str(root)) and config["http"]["app"].startswith(str(root))
    assert config["env"] == str(root / ".env")
