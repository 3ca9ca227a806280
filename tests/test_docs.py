"""The docs match the code."""

from __future__ import annotations

from pathlib import Path

from cli.main import mermaid_diagram

ROOT = Path(__file__).resolve().parent.parent


def test_readme_diagram_is_the_one_drawn_from_the_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    assert block.strip() == mermaid_diagram(), "regenerate it with `support graph`"


def test_readme_opens_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text(encoding="utf-8")[:800]
    assert "make demo" in head and "make test" in head
