"""The columns a ``--data`` run's workspace does not keep (cosell.data.fast_load.UNREAD_BY_ATTRIBUTION):
read by no statement of the attribution's plan and by no check of the one pass, checked as always,
stored as NULL; a run's files are those of a workspace that keeps every column."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from cosell.attribution import credit
from cosell.attribution.engine import attribute
from cosell.attribution.engine_build import build_plan
from cosell.attribution.engine_export import write_results
from cosell.attribution.engine_params import shape_of
from cosell.attribution.engine_plan import PLANS, Params, input_columns, plan_key
from cosell.data.demo import generate_dataset
from cosell.data.fast_load import UNREAD_BY_ATTRIBUTION
from cosell.data.load import import_time, load_dataset
from cosell.data.validate import checked_columns
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
