"""Use case: open a workspace (and create one: ``cosell init``).

Every other use case takes the :class:`Workspace` this opens. Readers (reports, explain, history,
lists, show, statements, the ledger) open it with ``read_only=True``: they run side by side and
never block one another; a writer has the workspace to itself. Either waits for a process holding
it in a conflicting mode for ``$COSELL_LOCK_TIMEOUT`` seconds at most (:data:`LOCK_TIMEOUT_ENV`),
telling ``on_wait`` who it waits for (a :class:`Holder`), then stops naming it
(:class:`~cosell.errors.WorkspaceBusy`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cosell.engine.duckdb_engine import LOCK_TIMEOUT_ENV, Holder
from cosell.store.workspace import Workspace
from cosell.store.workspace import open_workspace as _open

__all__ = ["LOCK_TIMEOUT_ENV", "Holder", "Workspace", "WorkspaceReady", "init_workspace", "open_workspace"]

OnWait = Callable[[Holder, float], None]


def open_workspace(
    path: str | None,
    *,
    create: bool = True,
    read_only: bool = False,
    on_wait: OnWait | None = None,
) -> Workspace:
    """Open (and migrate) the workspace at ``path`` (None: ``$COSELL_WORKSPACE``, else
    ``./cosell.duckdb``); with ``create=False`` a missing file is an error. The caller closes it."""
    return _open(path, create=create, read_only=read_only, on_wait=on_wait)


@dataclass(frozen=True)
class WorkspaceReady:
    """A workspace created or brought to the current schema."""

    path: str
    schema_version: int


def init_workspace(path: str | None, *, on_wait: OnWait | None = None) -> WorkspaceReady:
    """Create a workspace with the current schema; an existing one is migrated."""
    ws = open_workspace(path, on_wait=on_wait)
    try:
        return WorkspaceReady(ws.path, ws.schema_version)
    finally:
        ws.close()
