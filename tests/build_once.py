"""Something built once per test session by whichever process (xdist worker) asks for it first."""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from pathlib import Path


def build_once(folder: Path, name: str, build: Callable[[], None]) -> None:
    """Run ``build()`` unless a build of ``name`` has already finished: under an exclusive ``flock``
    on ``<folder>/<name>.lock`` (the other processes wait), and ``<folder>/<name>.built``, touched
    last, marks a finished build (a failed one leaves no mark and is tried again)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (folder / f"{name}.built").exists():
                build()
                (folder / f"{name}.built").touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
