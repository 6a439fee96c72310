"""Portable by construction (issue 13, item 8): every SQL statement of the engine's plan, for every
credit model, compiles for PostgreSQL and Spark, parses there, and calls no engine-specific function.

The plan is built from the engine's own rules (``engine_build.build_plan``) for each dialect of
:mod:`cosell.engine`; what differs per engine goes through its :class:`~cosell.engine.Dialect`
(instants as integer microseconds, the cohort median, the evidence list). The checker is shown to
catch what it looks for: a dialect that keeps DuckDB's functions or its windowed median fails it.
"""

from __future__ import annotations

import re
from functools import cache

import pytest
import sqlglot
import sqlglot.expressions as sge

from cosell.attribution import credit
from cosell.attribution.engine_build import build_plan
from cosell.attribution.engine_params import Params, shape_of
from cosell.attribution.engine_plan import Plan
from cosell.attribution.engine_plan_cache import PLANS, input_columns, plan_key
from cosell.engine import POSTGRES, SPARK, Dialect
from cosell.engine.base import PostgresDialect
from cosell.policy import Policy
from cosell.store.workspace import as_of_views, open_workspace

MODELS = tuple(credit.MODELS)
TARGETS = {"postgres": POSTGRES, "spark": SPARK}

# Functions and syntax that only DuckDB has (or whose meaning is DuckDB's own).
DUCKDB_ONLY = {
    "EPOCH_US",
    "EPOCH_MS",
    "MAKE_TIMESTAMPTZ",
    "LIST_FILTER",
    "LIST_SORT",
    "LIST_DISTINCT",
    "LIST_TRANSFORM",
    "LIST_AGGREGATE",
    "LIST_VALUE",
    "LIST_HAS",
    "STRUCT_PACK",
    "REGEXP_FULL_MATCH",
    "STRFTIME",
    "ARG_MIN",
    "ARG_MAX",
}
# What the other engine has and this one does not.
NOT_ON = {
    "postgres": DUCKDB_ONLY
    | {"UNIX_MICROS", "TIMESTAMP_MICROS", "COLLECT_LIST", "ARRAY_SORT", "DATE_FORMAT"},
    "spark": DUCKDB_ONLY | {"TO_JSONB", "JSONB_EXTRACT_PATH", "STRING_TO_ARRAY", "TO_CHAR"},
}
_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")


@cache
def inputs() -> tuple[tuple[str, str, str], ...]:
    """The relations the rules read, as a fresh workspace has them."""
    ws = open_workspace(":memory:")
    try:
        as_of_views(ws.con, None)
        return input_columns(ws.con)
    finally:
        ws.close()


@cache
def plan_for(dialect: Dialect, model: str) -> Plan:
    """The plan of ``model`` for ``dialect``, built once per test process (a second or two each; the
    instants test reads two plans the statement tests read too). A plan is immutable: its ops are a
    tuple of frozen dataclasses.

    The plans of cosell's own dialects go through the engine's plan cache (the tests' cache folder),
    as a run's do: its key holds the engine's source, the dialects' included, so a cached plan is
    what ``build_plan`` gives for this code, and any change to the rules or a dialect compiles it
    again. A dialect defined in a test is not in that source: its plan is always built."""
    shape = shape_of(Params.from_policy(Policy(), 0))

    def build() -> Plan:
        return build_plan(inputs(), shape, model, dialect)

    if dialect not in TARGETS.values():
        return build()
    return PLANS.get(plan_key(shape, model, inputs(), dialect.name), build)


def statements(plan: Plan, dialect: Dialect) -> list[tuple[str, str]]:
    """(operation, SQL) of every statement the plan runs on an engine of ``dialect``."""
    out = []
    for op in plan.ops:
        if op.kind in ("step", "output"):
            out += [(op.name, sql) for sql in dialect.temp_table(op.name, op.sql)]
        elif op.kind in ("check", "fetch"):
            out.append((op.name, op.sql))
    return out


def problems(sql: str, target: str) -> list[str]:
    """What in ``sql`` an engine of ``target`` would refuse (or read otherwise)."""
    found = []
    try:
        tree = sqlglot.parse_one(sql, read=TARGETS[target].sqlglot_name, error_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.ParseError as exc:
        return [f"does not parse: {str(exc)[:200]}"]
    calls = {name.upper() for name in _CALL.findall(sql)}
    calls |= {str(node.name).upper() for node in tree.find_all(sge.Anonymous)}
    found += [f"calls {name}" for name in sorted(calls & NOT_ON[target])]
    if tree.find(sge.Qualify) is not None or re.search(r"\bQUALIFY\b", sql, re.IGNORECASE):
        found.append("QUALIFY")
    if re.search(r"\bGROUP\s+BY\s+ALL\b", sql, re.IGNORECASE):
        found.append("GROUP BY ALL")
    if re.search(r"\*\s+(EXCLUDE|REPLACE)\s*\(", sql, re.IGNORECASE):
        found.append("SELECT * EXCLUDE/REPLACE")
    if target == "postgres":
        for window in tree.find_all(sge.Window):
            if window.find(sge.PercentileCont, sge.PercentileDisc, sge.Median, sge.Quantile) is not None:
                found.append("a median over a window (PostgreSQL has it only as an ordered-set aggregate)")
    return found


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("model", MODELS)
def test_every_statement_of_the_plan_is_portable(target: str, model: str) -> None:
    dialect = TARGETS[target]
    plan = plan_for(dialect, model)
    found = {name: bad for name, sql in statements(plan, dialect) if (bad := problems(sql, target))}
    assert found == {}
    # The whole engine: every step through to every output (the rows, and the evidence stored with them).
    assert len([op for op in plan.ops if op.kind == "step"]) >= 25
    outputs = [op.name for op in plan.ops if op.kind == "output"]
    assert outputs == [
        "cosell_stage_entries",
        "cosell_credits",
        "cosell_attribution",
        "cosell_evidence",
        "cosell_claims",
    ]


def test_the_instants_are_the_dialects_integer_microseconds() -> None:
    sql = {
        name: "\n".join(s for _, s in statements(plan_for(d, "role_weighted"), d))
        for name, d in TARGETS.items()
    }
    assert "EXTRACT(EPOCH FROM" in sql["postgres"] and "INTERVAL '1 MICROSECOND'" in sql["postgres"]
    assert "UNIX_MICROS(" in sql["spark"] and "TIMESTAMP_MICROS(" in sql["spark"]
    assert "cosell_epoch_us" not in (sql["postgres"] + sql["spark"]).lower()
    # PostgreSQL's cohort median is a grouped median joined back; Spark keeps the windowed one.
    assert "PERCENTILE_CONT(0.5) WITHIN GROUP" in sql["postgres"]
    assert re.search(r"PERCENTILE\(.*?\) OVER \(PARTITION BY", sql["spark"])


class _DuckDBFunctions(PostgresDialect):
    """PostgreSQL but with DuckDB's instant functions and windowed median: the checker must fail."""

    name = "postgres-with-duckdb-functions"
    epoch_us = "epoch_us({})"
    from_epoch_us = "make_timestamptz({})"
    windowed_median = True


def test_the_checker_fails_on_duckdb_functions_and_a_windowed_median() -> None:
    plan = plan_for(_DuckDBFunctions(), "role_weighted")
    found: set[str] = set()
    for _, sql in statements(plan, POSTGRES):
        found.update(problems(sql, "postgres"))
    assert {"calls EPOCH_US", "calls MAKE_TIMESTAMPTZ"} <= found
    assert any(p.startswith("a median over a window") for p in found)
    assert problems("SELECT a FROM t QUALIFY row_number() OVER (ORDER BY a) = 1", "postgres") != []
    assert problems("SELECT list_filter(l, x -> x > 1) FROM t", "spark") == ["calls LIST_FILTER"]
    assert problems("SELECT a, count(*) FROM t GROUP BY ALL", "postgres") == ["GROUP BY ALL"]
