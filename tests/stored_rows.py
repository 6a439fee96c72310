"""What a workspace file holds, read back by a test after a command has written it."""

from __future__ import annotations

from pathlib import Path

from cosell.store.workspace import open_workspace


def stored_rows(workspace: Path, query: str) -> list[tuple[object, ...]]:
    """The rows of ``query`` over the workspace file ``workspace`` (opened and closed again)."""
    ws = open_workspace(str(workspace))
    try:
        return ws.con.execute(query).fetchall()
    finally:
        ws.close()
