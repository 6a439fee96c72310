"""How a plan's statements are compiled: each once per process and target, and the garbage
collector paused while a plan is built (docs/benchmarks.md: a compile, cheaper). That the SQL is
the same as compiling every statement afresh is what the plan tests and the dialect tests check on
whole plans; here, on small expressions, that the memo tells apart what it must."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import ibis
import pytest

from cosell.attribution import engine_build
from cosell.attribution.engine_base import Runner, compiled, us
from cosell.attribution.engine_params import Shape
from cosell.engine import DUCKDB, POSTGRES, Dialect


class _OtherInstants(Dialect):
    """DuckDB's compiler, other SQL for the instant functions."""

    name = "duckdb-other-instants"
    epoch_us = "other_epoch_us({})"
    from_epoch_us = "other_from_epoch_us({})"


def _statement(days: int) -> Any:
    """A small step: the epoch microseconds of an instant column, plus a number of days."""
    t = ibis.table({"opp_id": "string", "at": "timestamp('UTC')"}, name="_cosell_eng_deals")
    return t.select("opp_id", at_us=us(t.at) + days * 86_400_000_000)


def _compile(dialect: Dialect, expr: Any) -> str:
    return Runner((), dialect).compile(expr)


def test_a_statement_built_again_is_not_compiled_again() -> None:
    first = _compile(DUCKDB, _statement(31))
    misses = compiled.cache_info().misses
    # Built anew, the same expression (another object, equal in structure): the SQL remembered.
    again = _compile(DUCKDB, _statement(31))
    assert compiled.cache_info().misses == misses
    assert again == first
    assert first == (
        'SELECT "t0"."opp_id", EPOCH_US("t0"."at") + 2678400000000 AS "at_us" FROM "_cosell_eng_deals" AS "t0"'
    )
    # Another value is another statement.
    other = _compile(DUCKDB, _statement(30))
    assert compiled.cache_info().misses == misses + 1
    assert "2592000000000" in other and other != first


def test_each_target_compiles_its_own_statements() -> None:
    duckdb = _compile(DUCKDB, _statement(7))
    # The same expression for a dialect whose instant functions differ, or another compiler.
    other = _compile(_OtherInstants(), _statement(7))
    postgres = _compile(POSTGRES, _statement(7))
    assert ' EPOCH_US("t0"."at")' in duckdb and "OTHER" not in duckdb
    assert ' OTHER_EPOCH_US("t0"."at")' in other and " EPOCH_US(" not in other
    assert 'CAST(EXTRACT(EPOCH FROM "t0"."at") * 1000000 AS BIGINT)' in postgres
    assert "EPOCH_US" not in postgres
    # Each again: what each target compiled, not another's.
    assert _compile(_OtherInstants(), _statement(7)) == other
    assert _compile(DUCKDB, _statement(7)) == duckdb


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:  # pragma: no cover - pytest runs with the collector on
        gc.disable()


def test_the_collector_is_paused_while_a_plan_is_built_and_runs_again_after(
    collector_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []

    def build(*args: Any) -> Any:
        seen.append(gc.isenabled())
        if len(seen) == 2:
            raise RuntimeError("a failed build")
        return "plan"

    monkeypatch.setattr(engine_build, "_build", build)
    assert engine_build.build_plan((), Shape(0, ()), "even") == "plan"
    assert seen == [False] and gc.isenabled()
    with pytest.raises(RuntimeError, match="a failed build"):
        engine_build.build_plan((), Shape(0, ()), "even")
    assert seen == [False, False] and gc.isenabled()
    # A caller that paused it itself finds it paused after.
    gc.disable()
    try:
        engine_build.build_plan((), Shape(0, ()), "even")
        assert seen == [False, False, False] and not gc.isenabled()
    finally:
        gc.enable()
