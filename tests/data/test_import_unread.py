"""The columns a ``--data`` run's workspace does not keep (cosell.data.fast_load.UNREAD_BY_ATTRIBUTION):
read by no statement of the attribution's plan and by no check of the one pass, checked as always,
not stored (each table's rows are in a lean table behind a view of the table's name, which shows
them as NULL); a run's files are those of a workspace that keeps every column."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from import_fixtures import dataset
from test_import_fast import AT, CHANGES, canonical, rows_of

from cosell.attribution import credit
from cosell.attribution.engine import attribute
from cosell.attribution.engine_build import build_plan
from cosell.attribution.engine_export import write_results
from cosell.attribution.engine_params import Params, shape_of
from cosell.attribution.engine_plan_cache import PLANS, input_columns, plan_key
from cosell.data import fast_load
from cosell.data.demo import generate_dataset
from cosell.data.fast_load import LEAN_PREFIX, UNREAD_BY_ATTRIBUTION
from cosell.data.import_warnings import checked_columns
from cosell.data.load import import_time, load_dataset
from cosell.data.read import find_table_files
from cosell.errors import ImportFailed
from cosell.instants import parse_instant
from cosell.policy import Policy
from cosell.store.schema import TABLES, TABLES_BY_NAME
from cosell.store.workspace import as_of_views, open_workspace

AS_OF = parse_instant("2026-11-01T00:00:00Z")


@cache
def plan_sql(model: str) -> str:
    """Every statement of ``model``'s DuckDB plan, as one text (through the plan cache, as a run)."""
    ws = open_workspace(":memory:")
    try:
        as_of_views(ws.con, None)
        inputs = input_columns(ws.con)
    finally:
        ws.close()
    shape = shape_of(Params.from_policy(Policy(), 0))
    plan = PLANS.get(plan_key(shape, model, inputs), lambda: build_plan(inputs, shape, model))
    return "\n".join(op.sql for op in plan.ops)


def test_the_unread_columns_are_read_by_no_check() -> None:
    referenced = {c.references for t in TABLES for c in t.columns if c.references}
    for name, columns in UNREAD_BY_ATTRIBUTION.items():
        table = TABLES_BY_NAME[name]
        for column in columns:
            spec = table.column(column)  # a KeyError for a column the table does not have
            assert column not in checked_columns(table), (name, column)  # keys and warnings
            assert spec.references is None, (name, column)
            assert f"{name}.{column}" not in referenced, (name, column)
    # The close-time check of the one pass reads these; none may be left out.
    assert not {"stage", "close_date", "opportunity_id"} & UNREAD_BY_ATTRIBUTION.get("opportunities", set())


@pytest.mark.parametrize("model", sorted(credit.MODELS))
def test_no_statement_of_the_plan_reads_an_unread_column(model: str) -> None:
    sql = plan_sql(model)
    # The plan reads an input column by its quoted name (Ibis quotes every identifier).
    assert '"kind"' in sql and '"occurred_at"' in sql  # the test sees the columns the plan reads
    for name, columns in UNREAD_BY_ATTRIBUTION.items():
        for column in columns:
            assert not re.search(rf'"{column}"', sql), (model, name, column)


def _files(folder: Path, out: Path, *, attribution_only: bool) -> tuple[bytes, bytes, dict[str, int]]:
    """A --data run's files from a workspace that keeps (or not) the unread columns, and how many
    non-NULL values each unread column holds there."""
    ws = load_dataset(folder, Policy(), now=import_time(AS_OF), attribution_only=attribution_only)
    try:
        kept = {
            f"{name}.{column}": int(ws.con.execute(f"SELECT count({column}) FROM {name}").fetchall()[0][0])
            for name, columns in UNREAD_BY_ATTRIBUTION.items()
            for column in sorted(columns)
        }
        as_of_views(ws.con, None, existing_at=AS_OF, prompts=False)
        run = attribute(ws.con, Policy(), AS_OF, "role_weighted", make_views=False, evidence=False)
        paths = write_results(ws.con, run, out)
        return paths[0].read_bytes(), paths[1].read_bytes(), kept
    finally:
        ws.close()


def test_a_run_without_the_unread_columns_writes_the_same_files(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    generate_dataset(folder, size=300, seed=11)
    full = _files(folder, tmp_path / "full", attribution_only=False)
    lean = _files(folder, tmp_path / "lean", attribution_only=True)
    assert lean[0] == full[0] and lean[1] == full[1]
    # The path ran: the demo has values in every unread column, and the lean workspace keeps none.
    assert all(full[2].values()), full[2]
    assert not any(lean[2].values()), lean[2]


def test_a_bad_cell_of_an_unread_column_still_stops_the_run(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    generate_dataset(folder, size=60, seed=5)
    accounts = folder / "accounts.csv"
    lines = accounts.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("name")] = "  "  # a required name left empty
    lines[1] = ",".join(cells)
    accounts.write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportFailed, match=r"accounts\.csv row 2.*name"):
        load_dataset(folder, Policy(), now=import_time(AS_OF), attribution_only=True).close()


def _kinds(con: Any) -> dict[str, str]:
    """Each relation of the workspace's main schema and its kind (BASE TABLE or VIEW)."""
    rows = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_catalog = current_database()"
    ).fetchall()
    return {str(name): str(kind) for name, kind in rows}


@pytest.mark.parametrize("change", [None, *CHANGES])
def test_a_lean_import_keeps_the_canonical_rows_but_the_unread_columns(
    tmp_path: Path, change: str | None
) -> None:
    """Through each table's view, a lean import's rows are the canonical import's with the unread
    columns and ``extra`` NULL, and its report has no warnings; a lean table holds only the columns
    read. A refused pass leaves
    every table as it was (a table, empty; no lean table) for the canonical import."""
    folder = dataset(tmp_path, **(CHANGES[change]() if change else {}))
    expected, expected_rows = canonical(folder)
    ws = fast_load.temporary_workspace()
    try:
        files, problems = find_table_files(folder)
        assert not problems
        report = fast_load.import_fast(ws, files, Policy(), AT, by_user="t", unread=UNREAD_BY_ATTRIBUTION)
        rows, kinds = rows_of(ws.con), _kinds(ws.con)
        lean_columns = {
            name: [str(r[0]) for r in ws.con.execute(f"DESCRIBE {name}").fetchall()]
            for name in kinds
            if name.startswith(LEAN_PREFIX)
        }
    finally:
        ws.close()
    if report is None:
        assert all(not r for r in rows.values())
        assert all(kinds[t.name] == "BASE TABLE" for t in TABLES) and not lean_columns
        return
    assert not isinstance(expected, str)
    # A lean import collects no warnings (nothing shows them), where the canonical import has some.
    assert report.warning_count == 0 and not report.warnings
    assert report.tables == expected.tables  # each file's rows, counted as the lean tables were made
    if change in (
        "unknown touch kind (a warning)",
        "flag disagreeing with the stage (a warning quoting the raw cell)",
    ):
        assert expected.warning_count > 0
    for table in TABLES:
        unread = UNREAD_BY_ATTRIBUTION.get(table.name, frozenset())
        blank = [i for i, c in enumerate([*table.column_names, "extra"]) if c in unread or c == "extra"]
        want = sorted(
            tuple(None if i in blank else v for i, v in enumerate(row)) for row in expected_rows[table.name]
        )
        assert sorted(rows[table.name]) == want, table.name
        if table.name in files:
            assert kinds[table.name] == "VIEW", table.name
            assert lean_columns[LEAN_PREFIX + table.name] == [
                c for c in table.column_names if c not in unread
            ]


def test_a_lean_workspace_gives_the_plan_the_same_inputs(tmp_path: Path) -> None:
    """The views over the lean tables have the columns and types of the tables': the same plan."""
    folder = tmp_path / "demo"
    generate_dataset(folder, size=80, seed=2)
    inputs = []
    for lean in (False, True):
        ws = load_dataset(folder, Policy(), now=import_time(AS_OF), attribution_only=lean)
        try:
            as_of_views(ws.con, None, existing_at=AS_OF, prompts=False)
            inputs.append(input_columns(ws.con))
            assert (_kinds(ws.con)["touches"] == "VIEW") == lean
        finally:
            ws.close()
    assert inputs[0] == inputs[1]
