"""Imports made beside other work.

A command that will need a large library later (numpy and Arrow, for the incremental run's cohort
step: 0.07 to 0.2 s of imports) can import it in a thread of its own while it waits on the engine:
DuckDB leaves the interpreter while a statement runs, so the imports take no time from the command's
longest path. Whoever needs a module first waits for its import to end (Python imports a module
once, under its lock), so nothing depends on when the thread finishes.
"""

from __future__ import annotations

import importlib
import threading


def import_beside(*modules: str) -> threading.Thread:
    """Start importing ``modules`` (third-party libraries, which import nothing of cosell's) in a
    thread; return it. Join it before the command ends: Python stops a thread still importing at
    exit, and a module left half imported would hold its lock."""

    def load() -> None:
        for name in modules:
            importlib.import_module(name)

    thread = threading.Thread(target=load, name="cosell-imports", daemon=True)
    thread.start()
    return thread
