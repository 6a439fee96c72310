"""The committed data guide is exactly what the schema generates."""

from __future__ import annotations

from cosell.data.guide import GUIDE_PATH, main, render_guide
from cosell.store.schema import TABLES


def test_committed_guide_matches_the_schema() -> None:
    assert GUIDE_PATH.read_text(encoding="utf-8") == render_guide(), "run: python -m cosell.data.guide"


def test_guide_documents_every_table_and_column() -> None:
    text = render_guide()
    for table in TABLES:
        assert f"## {table.name}\n" in text
        for column in table.columns:
            assert f"| `{column.name}` | {column.kind} |" in text


def test_check_mode() -> None:
    assert main(["--check"]) == 0
