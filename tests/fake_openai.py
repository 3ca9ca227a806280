"""The local OpenAI-compatible server lives in `evals.fake_openai` (the misbehaving-model suite ships with the
product and uses it too); tests import it from here."""

from evals.fake_openai import FakeOpenAI, Reply, Script, protocol_errors, system_text, tools_offered, user_text

__all__ = ["FakeOpenAI", "Reply", "Script", "protocol_errors", "system_text", "tools_offered", "user_text"]
