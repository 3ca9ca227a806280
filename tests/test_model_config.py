"""Model settings from the environment, `support config`, and lazy model creation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main
from llm.factory import make_chat_model
from service.settings import Settings


def test_defaults_are_offline_with_bounded_retries() -> None:
    s = Settings.from_env({})
    assert set(s.models.values()) == {"offline"}
    assert (s.model_timeout, s.model_max_retries) == (30.0, 3)


def test_a_key_alone_selects_the_original_designs_models() -> None:
    s = Settings.from_env({"OPENAI_API_KEY": "sk-x"})
    assert dict(s.models) == {
        "triage": "openai:gpt-4o",
        "billing": "openai:gpt-4o",
        "refund": "openai:gpt-4o",
        "faq": "openai:gpt-4o-mini",
    }


def test_overrides_per_agent_and_for_all() -> None:
    env = {"OPENAI_API_KEY": "sk-x", "SUPPORT_MODEL": "openai:llama3.1", "SUPPORT_MODEL_FAQ": "offline"}
    s = Settings.from_env(env)
    assert dict(s.models) == {
        "triage": "openai:llama3.1",
        "billing": "openai:llama3.1",
        "refund": "openai:llama3.1",
        "faq": "offline",
    }


def test_timeouts_and_retries_from_the_environment() -> None:
    env = {
        "SUPPORT_MODEL_TIMEOUT": "12.5",
        "SUPPORT_MODEL_MAX_RETRIES": "0",
    }
    s = Settings.from_env(env)
    assert (s.model_timeout, s.model_max_retries) == (12.5, 0)


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("SUPPORT_MODEL", "gpt-4o"),
        ("SUPPORT_MODEL_REFUND", "anthropic:claude"),
        ("SUPPORT_MODEL", "openai:"),
        ("SUPPORT_MODEL_TIMEOUT", "soon"),
        ("SUPPORT_MODEL_TIMEOUT", "0"),
        ("SUPPORT_MODEL_MAX_RETRIES", "2.5"),
        ("SUPPORT_MODEL_MAX_RETRIES", "99"),
        ("SUPPORT_MODEL_TIMEOUT", "nan"),
        ("SUPPORT_TODAY", "tomorrow"),
        ("SUPPORT_STEP_LIMIT", "3"),
    ],
)
def test_bad_model_settings_are_one_line_errors(
    var: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(var, value)
    assert main(["config"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("support: error: ") and err.count("\n") == 1
    assert var in err or f"unknown model {value!r}" in err


def test_support_config_masks_the_key(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    key = "sk-proj-abcdefghijklmnopqrstuvwxyz9876"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("SUPPORT_MODEL_FAQ", "openai:llama3.1")
    assert main(["config", "--json"]) == 0
    out = capsys.readouterr().out
    assert key not in out and key[:-4] not in out
    config = json.loads(out)
    assert config["openai_api_key"] == "****9876"
    assert config["openai_base_url"] == "http://127.0.0.1:11434/v1"
    assert config["models"]["triage"] == "openai:gpt-4o"
    assert config["models"]["faq"] == "openai:llama3.1"
    assert config["model_sources"]["faq"] == "SUPPORT_MODEL_FAQ"
    assert main(["config"]) == 0
    text = capsys.readouterr().out
    assert key not in text and "****9876" in text and "openai:llama3.1" in text


def test_models_are_created_lazily(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from service.desk import SupportDesk

    models = dict.fromkeys(("triage", "billing", "refund", "faq"), "openai:x")
    settings = Settings(data_dir=tmp_path / "d", models=models)
    with SupportDesk(settings) as desk:
        assert desk._models == {}  # building the graph created no client


def test_the_factory_configures_the_openai_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
    model = make_chat_model("openai:gpt-4o-mini", timeout=7.0, max_retries=2)
    assert model.model_name == "gpt-4o-mini"  # type: ignore[attr-defined]
    assert model.request_timeout == 7.0  # type: ignore[attr-defined]
    assert model.max_retries == 2  # type: ignore[attr-defined]  # the client's own retries
    assert model.stream_usage is True  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        make_chat_model("gpt-4o")


def test_support_config_warns_about_a_missing_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SUPPORT_MODEL", "openai:llama3.1")
    assert main(["config", "--json"]) == 0
    assert "OPENAI_API_KEY is unset" in json.loads(capsys.readouterr().out)["warnings"][0]
    monkeypatch.setenv("OPENAI_API_KEY", "ollama")
    assert main(["config", "--json"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["warnings"] == [] and config["openai_api_key"] == "****"


def test_settings_keep_secrets_out_of_reprs_and_logs() -> None:
    key = "sk-proj-abcdefghijklmnopqrstuvwxyz9876"
    s = Settings.from_env({"OPENAI_API_KEY": key, "LANGSMITH_API_KEY": "lsv2-secret-value-1234"})
    assert key not in repr(s) and key not in str(s.model_dump())
    assert "lsv2-secret" not in repr(s)
    assert s.openai_api_key is not None and s.openai_api_key.get_secret_value() == key


def test_only_from_env_reads_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SUPPORT_STEP_LIMIT", "9")
    monkeypatch.setenv("SUPPORT_MODEL", "openai:gpt-4o-mini")
    assert Settings(data_dir=tmp_path).step_limit == 25  # what the code passes, nothing else
    assert set(Settings(data_dir=tmp_path).models.values()) == {"offline"}
    from_env = Settings.from_env()
    assert from_env.step_limit == 9 and set(from_env.models.values()) == {"openai:gpt-4o-mini"}


def test_an_unset_data_dir_is_dot_support_in_the_current_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({}).data_dir == tmp_path / ".support"
    assert Settings.from_env({"SUPPORT_DATA_DIR": ""}).data_dir == tmp_path / ".support"  # empty means unset


def test_support_config_says_the_old_backoff_variables_are_not_read(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SUPPORT_MODEL_RETRY_DELAY", "0.2")
    assert main(["config", "--json"]) == 0
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    assert any("SUPPORT_MODEL_RETRY_DELAY is no longer read" in w for w in warnings)
