"""A trained model kept on disk, so a process loads it instead of training it again.

The file is named after a hash of everything the model is built from (its training data and the
code that trains it), so changing either one builds and stores a new model; nothing has to remember
to invalidate it. Any picklable model works (the router's exported linear scorer today).

Where it goes: a `.cache` folder next to the first source file (the training data), or, when that
folder cannot be written (an installed, read-only package), the user's cache folder. When neither
can be written, the model is simply trained in memory every time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar, cast

__all__ = ["cache_dirs", "cached_model", "source_hash"]

T = TypeVar("T")

logger = logging.getLogger("support.model_cache")

_SUFFIX = ".pickle"


def source_hash(sources: Sequence[Path]) -> str:
    """A hash of the sources' names and bytes, in the order given."""
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def cache_dirs(sources: Sequence[Path]) -> list[Path]:
    """Where a model built from `sources` is looked for and stored, in order of preference."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return [sources[0].parent / ".cache", Path(base) / "acme-support-desk"]


def cached_model(
    name: str, sources: Sequence[Path], build: Callable[[], T], *, dirs: Sequence[Path] | None = None
) -> T:
    """Load the model `name` built from `sources`, or build it with `build()` and store it.

    Args:
        name: A short file-name-safe name, e.g. "router".
        sources: Every file the model depends on: training data and the code that trains it.
        build: Trains the model; called only when no stored copy matches the sources.
        dirs: Where to look and store (default `cache_dirs(sources)`).
    """
    key = source_hash(sources)
    places = list(dirs) if dirs is not None else cache_dirs(sources)
    file_name = f"{name}-{key}{_SUFFIX}"
    for folder in places:
        path = folder / file_name
        try:
            return cast(T, pickle.loads(path.read_bytes()))
        except FileNotFoundError:
            continue
        except Exception:  # a truncated or foreign file: build again and overwrite it
            logger.warning("ignoring unreadable model cache %s", path, exc_info=True)
    model = build()
    for folder in places:
        if _store(folder, name, file_name, model):
            break
    return model


def _store(folder: Path, name: str, file_name: str, model: object) -> bool:
    """Write atomically (a reader never sees half a file); drop this model's older versions."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.chmod(tmp, 0o644)  # mkstemp makes it private; other users of an install may read it
            os.replace(tmp, folder / file_name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return False
    for old in folder.glob(f"{name}-*{_SUFFIX}"):
        if old.name != file_name:
            old.unlink(missing_ok=True)
    return True
