"""The trained-model cache: a process loads the stored model instead of training it again."""

from __future__ import annotations

from pathlib import Path

from llm.model_cache import cached_model
from llm.router import default_router, train_router, training_rows


def _sources(tmp_path: Path, text: str = "a,b\n") -> list[Path]:
    data = tmp_path / "data" / "train.csv"
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text(text, encoding="utf-8")
    return [data]


def test_built_once_then_loaded_from_disk(tmp_path: Path) -> None:
    sources = _sources(tmp_path)
    built: list[int] = []

    def build() -> dict[str, int]:
        built.append(1)
        return {"weights": 42}

    assert cached_model("m", sources, build) == {"weights": 42}
    assert cached_model("m", sources, build) == {"weights": 42}  # a second process would do the same
    assert len(built) == 1
    assert [p.name.startswith("m-") for p in (tmp_path / "data" / ".cache").iterdir()] == [True]


def test_changed_training_data_builds_a_new_model_and_drops_the_old(tmp_path: Path) -> None:
    sources = _sources(tmp_path)
    cached_model("m", sources, lambda: "first")
    sources[0].write_text("a,b\nc,d\n", encoding="utf-8")
    assert cached_model("m", sources, lambda: "second") == "second"
    assert len(list((tmp_path / "data" / ".cache").glob("m-*.pickle"))) == 1


def test_a_damaged_file_is_rebuilt(tmp_path: Path) -> None:
    sources = _sources(tmp_path)
    cached_model("m", sources, lambda: "good")
    (stored,) = (tmp_path / "data" / ".cache").glob("m-*.pickle")
    stored.write_bytes(b"not a pickle")
    assert cached_model("m", sources, lambda: "rebuilt") == "rebuilt"
    assert cached_model("m", sources, lambda: "never") == "rebuilt"


def test_an_unwritable_first_place_falls_back_to_the_next(tmp_path: Path) -> None:
    sources = _sources(tmp_path)
    blocker = tmp_path / "file"  # a file where a folder should be: nothing can be created under it
    blocker.write_text("x", encoding="utf-8")
    other = tmp_path / "user-cache"
    assert cached_model("m", sources, lambda: 7, dirs=[blocker / "sub", other]) == 7
    assert cached_model("m", sources, lambda: 8, dirs=[blocker / "sub", other]) == 7
    assert list(other.glob("m-*.pickle"))


def test_nowhere_to_write_still_builds(tmp_path: Path) -> None:
    sources = _sources(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert cached_model("m", sources, lambda: 9, dirs=[blocker / "sub"]) == 9


def test_the_stored_router_decides_like_a_freshly_trained_one() -> None:
    dev, seed = training_rows()
    fresh = train_router(dev, seed_rows=seed)
    stored = default_router()
    for text in (
        "I was charged twice this month and want my money back",
        "How do I export my data to CSV?",
        "Can you explain what the $49.99 charge on March 1st was for?",
        "I want to upgrade from Pro to Enterprise",
        "can I talkk to someone?",
        *[text for text, _ in dev[::500]],
    ):
        assert stored.classify(text) == fresh.classify(text)
