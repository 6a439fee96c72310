"""Fixtures of the referral and registration tests (the data: :mod:`.world`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cosell.data.load import import_canonical
from cosell.policy import Policy
from cosell.store.workspace import Workspace, open_workspace

from .world import IMPORTED, TABLES, write_tables


@pytest.fixture
def ref_ws(tmp_path: Path) -> Iterator[Workspace]:
    """The workspace of :mod:`.world`, in a file of its own (a test may write to it)."""
    ws = open_workspace(tmp_path / "cosell.duckdb")
    import_canonical(
        ws, write_tables(tmp_path / "data", TABLES), policy=Policy(), now=IMPORTED, by_user="tester"
    )
    try:
        yield ws
    finally:
        ws.close()
