"""The engine's compiled plan: built once per model, policy shape and inputs, reused for every as-of
instant, kept on disk between processes, and giving exactly what a freshly compiled plan gives.
(That one plan serves every policy of a shape: tests/attribution/test_plan_params.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cosell.attribution import engine_build, engine_execute, engine_params, engine_plan, engine_plan_cache
from cosell.attribution.engine import attribute
from cosell.attribution.engine_params import Shape, shape_of
from cosell.attribution.engine_plan import Plan
from cosell.attribution.engine_plan_cache import PLANS
from cosell.cache_folder import CACHE_ENV
from cosell.instants import parse_instant
from cosell.policy import Policy
from cosell.store.workspace import Workspace

sys.path.insert(0, str(Path(__file__).parent))
from engine_support import workspace_with
from plan_support import BUILD

# O1 is open: its close time X is the as-of instant, so its cycle days move with it, and P1's
# touch (after O1's creation, before O2's close) is in O1's window only when the as-of instant is
# after the touch. O2, created in May, exists only at a later as-of instant; it is won and
# influenced by the touch.
TABLES = {
    "accounts": [{"account_id": "A1", "name": "a", "segment": "ENT"}],
    "partners": [{"partner_id": "P1", "name": "p1", "partner_type": "referral"}],
    "opportunities": [
        {
            "opportunity_id": "O1",
            "account_id": "A1",
            "created_at": "2026-01-10",
            "amount": "1000.00",
            "stage": "Prospecting",
        },
        {
            "opportunity_id": "O2",
            "account_id": "A1",
            "created_at": "2026-05-01",
            "amount": "500.00",
            "stage": "Closed Won",
            "close_date": "2026-06-01",
        },
    ],
    "touches": [
        {
            "touch_id": "T1",
            "occurred_at": "2026-05-10",
            "account_id": "A1",
            "actor": "partner",
            "kind": "joint_call",
            "partner_id": "P1",
        }
    ],
}


@pytest.fixture
def ws() -> Any:
    workspace = workspace_with(TABLES)
    yield workspace
    workspace.close()


def rows(ws: Workspace, as_of: str, policy: Policy | None = None, model: str | None = None) -> Any:
    run = attribute(ws.con, policy, parse_instant(as_of), model)
    return run.counts, run.rows(), run.credit_rows()


def test_one_plan_serves_every_as_of_instant(ws: Workspace, builds: list[str]) -> None:
    early = rows(ws, "2026-04-01")
    late = rows(ws, "2026-09-01")
    assert len(builds) == 1
    # The as-of instant reaches the results: O1's cycle runs to it, and it is written in each row.
    assert early[1][0].cycle_days == "81.000000" and late[1][0].cycle_days == "234.000000"
    assert {r.as_of for r in early[1]} == {"2026-04-01T00:00:00Z"}
    assert {r.as_of for r in late[1]} == {"2026-09-01T00:00:00Z"}
    # O2 was created after the early instant: it did not exist then (docs/as-of.md).
    assert [(r.opportunity_id, r.tier) for r in early[1]] == [("O1", "none")]
    assert [r.tier for r in late[1]] == ["influenced", "influenced"]
    assert early[0] == {"sourced": 0, "accelerated": 0, "influenced": 0, "none": 1}
    assert late[0] == {"sourced": 0, "accelerated": 0, "influenced": 2, "none": 0}


def test_a_cached_plan_gives_what_a_fresh_one_gives(
    ws: Workspace, builds: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = [rows(ws, when) for when in ("2026-04-01", "2026-09-01")]
    assert len(builds) == 1
    monkeypatch.setenv(CACHE_ENV, "off")

    def fresh(*args: Any, **kwargs: Any) -> Plan:  # compiled here, not the suite's plan
        builds.append("built")
        return BUILD(*args, **kwargs)

    monkeypatch.setattr(engine_build, "build_plan", fresh)
    for when, expected in zip(("2026-04-01", "2026-09-01"), cached, strict=True):
        PLANS.clear()
        assert rows(ws, when) == expected
    assert len(builds) == 3


def test_a_model_or_policy_shape_change_is_another_plan(ws: Workspace, builds: list[str]) -> None:
    rows(ws, "2026-09-01")
    rows(ws, "2026-09-01", model="even")
    assert len(builds) == 2
    shorter = Policy().with_values(windows__sourcing_lookback_days=30)
    rows(ws, "2026-09-01", policy=shorter)  # another value: the same plan
    assert len(builds) == 2
    more_bands = Policy().with_values(amount_bands__edges=[Decimal(1000), Decimal(5000), Decimal(9000)])
    rows(ws, "2026-09-01", policy=more_bands)  # another band edge: one more comparison
    rows(ws, "2026-09-01", policy=more_bands)
    assert len(builds) == 3


def test_the_plan_is_kept_on_disk_and_read_back(ws: Workspace, builds: list[str], tmp_path: Path) -> None:
    first = rows(ws, "2026-09-01")
    files = list((tmp_path / "engine-plans").glob("*.json"))
    assert len(files) == 1
    PLANS.clear()  # a new process: nothing in memory
    assert rows(ws, "2026-09-01") == first
    assert len(builds) == 1
    # A damaged file is compiled again (and replaced), never an error.
    files[0].write_text("{not json", encoding="utf-8")
    PLANS.clear()
    assert rows(ws, "2026-09-01") == first
    assert len(builds) == 2
    assert Plan.from_json(files[0].read_text(encoding="utf-8"), files[0].stem).ops


def test_a_plan_with_another_input_schema_is_not_reused(ws: Workspace, builds: list[str]) -> None:
    rows(ws, "2026-09-01")
    ws.con.execute("ALTER TABLE accounts ADD COLUMN region VARCHAR")
    ws.con.execute("CREATE OR REPLACE TEMP VIEW v_accounts AS SELECT *, 'x' AS region2 FROM accounts")
    attribute(ws.con, None, parse_instant("2026-09-01"), make_views=False)
    assert len(builds) == 2


def test_the_key_is_the_shape_not_the_values() -> None:
    p = engine_params.Params.from_policy(Policy(), 1)
    shape = shape_of(p)
    columns = (("v_touches", "touch_id", "VARCHAR"),)
    key = engine_plan_cache.plan_key(shape, "even", columns)
    weights = tuple((role, w + 1) for role, w in p.role_weights)
    assert shape_of(replace(p, as_of_us=2, lookback_us=3, won_stages=("Won",), role_weights=weights)) == shape
    assert key != engine_plan_cache.plan_key(Shape(shape.bands + 1, shape.roles), "even", columns)
    assert key != engine_plan_cache.plan_key(Shape(shape.bands, shape.roles[:-1]), "even", columns)
    assert key != engine_plan_cache.plan_key(shape, "role_weighted", columns)
    assert key != engine_plan_cache.plan_key(shape, "even", (*columns, ("v_x", "y", "INT")))


def test_a_run_with_a_cached_plan_does_not_load_ibis(tmp_path: Path) -> None:
    """What makes a small run fast as a whole process: no Ibis, no compiling."""
    (tmp_path / "tables.json").write_text(json.dumps(TABLES), encoding="utf-8")
    script = """
import json, sys
from cosell.attribution.engine import attribute
from cosell.instants import parse_instant
from engine_support import workspace_with
ws = workspace_with(json.loads(open("tables.json").read()))
run = attribute(ws.con, None, parse_instant("2026-09-01"))
print(run.counts["influenced"], "ibis" in sys.modules)
"""
    env = {"COSELL_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(Path(__file__).parent)}
    outputs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True, cwd=tmp_path
        )
        outputs.append(done.stdout.split())
    assert outputs == [["2", "True"], ["2", "False"]]


def test_cosell_profile_logs_each_operation_with_its_rows(
    ws: Workspace, builds: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rows(ws, "2026-09-01")  # compiled and cached: the profiled run below times the plan only
    monkeypatch.delenv("COSELL_PROFILE", raising=False)
    rows(ws, "2026-09-01")
    log = tmp_path / "profile.tsv"
    assert not log.exists()
    monkeypatch.setenv("COSELL_PROFILE", str(log))
    rows(ws, "2026-09-01")
    lines = [line.split("\t") for line in log.read_text(encoding="utf-8").splitlines()]
    by_name = {name: (seconds, count) for name, seconds, count, _, _ in lines}
    assert all(float(seconds) >= 0 and float(cpu) >= 0 for _, seconds, _, cpu, _ in lines)
    # Each step's start, on the process's time line: the plan's steps (run in order here) start
    # one after another.
    starts = [float(line[4]) for line in lines]
    assert starts == sorted(starts) and starts[0] >= 0
    # Every step and output of the plan is there, with the rows it made: two deals.
    assert by_name["engine step deals"][1] == "2"
    assert by_name["engine output cosell_attribution"][1] == "2"
    assert by_name["engine check check"][1] == ""
    ops = engine_plan_cache.PLANS._plans.popitem()[1].ops
    # Guards are not timed; with two deals, the client's cohort medians are not run.
    ran = [op for op in ops if op.kind not in ("tick", "guard") and op.when != "client_median"]
    assert len(lines) == len(ran)
    assert any(op.when == "client_median" for op in ops)


@pytest.mark.parametrize("value", [True, False])
def test_a_guard_runs_the_operations_of_its_value_only(ws: Workspace, value: bool) -> None:
    plan = Plan(
        (
            engine_plan.Op("guard", "big", f"SELECT {str(value).upper()} AS big"),
            engine_plan.Op("step", "_t_yes", "SELECT 1 AS x", when="big"),
            engine_plan.Op("step", "_t_no", "SELECT 2 AS x", when="!big"),
            engine_plan.Op("step", "_t_always", "SELECT 3 AS x"),
        )
    )
    back = Plan.from_json(plan.to_json("k"), "k")
    assert back == plan
    context = engine_plan.RunContext(Policy(), "role_weighted", engine_params.Params.from_policy(Policy(), 0))
    made = engine_execute.execute(ws.con, back, context, {})
    try:
        assert made == (["_t_yes", "_t_always"] if value else ["_t_no", "_t_always"])
    finally:
        engine_execute.drop(ws.con, made)


def test_a_run_without_evidence_decides_the_same_and_leaves_no_evidence_table(ws: Workspace) -> None:
    def tables() -> set[str]:
        return {
            str(r[0])
            for r in ws.con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name IN (current_database(), 'temp')"
            ).fetchall()
        }

    full = attribute(ws.con, as_of=parse_instant("2026-09-01"))
    evidence, claims = full.evidence_rows()
    kept = {"cosell_evidence", "cosell_claims", "cosell_stage_entries"}
    assert evidence and kept <= tables()
    decided = (full.counts, full.rows(), full.credit_rows())
    bare = attribute(ws.con, as_of=parse_instant("2026-09-01"), evidence=False)
    assert (bare.counts, bare.rows(), bare.credit_rows()) == decided
    # Not made (nor the stage entries stored beside them), and the earlier run's are gone: nothing
    # reads them as this run's.
    assert not kept & tables()
    assert attribute(ws.con, as_of=parse_instant("2026-09-01")).evidence_rows() == (evidence, claims)


def _run_context() -> engine_plan.RunContext:
    return engine_plan.RunContext(Policy(), "role_weighted", engine_params.Params.from_policy(Policy(), 0))


def test_a_python_step_runs_beside_the_sql_steps_that_do_not_read_its_tables(ws: Workspace) -> None:
    """The Python step waits until a later SQL step that does not read its table has run: it can
    only see that when the step ran beside it, ahead of the step that reads its table."""
    import threading

    import pyarrow as pa

    ran_ahead = threading.Event()

    def mark() -> int:
        ran_ahead.set()
        return 1

    ws.con.con.create_function("_t_mark", mark, [], "BIGINT", side_effects=True)

    def step(context: engine_plan.RunContext) -> dict[str, Any]:
        saw = ran_ahead.wait(timeout=10)
        return {"_t_py": pa.table({"saw": [saw], "n": [context.fetched["_t_f"].num_rows]})}

    plan = Plan(
        (
            engine_plan.Op("step", "_t_a", "SELECT 1 AS x UNION ALL SELECT 2"),
            engine_plan.Op("fetch", "_t_f", 'SELECT x FROM "_t_a"'),
            engine_plan.Op("python", "_t_step", outputs=("_t_py",)),
            engine_plan.Op("step", "_t_reads", 'SELECT saw, n FROM "_t_py"'),
            engine_plan.Op("step", "_t_free", 'SELECT x, _t_mark() AS m FROM "_t_a"'),
            engine_plan.Op("step", "_t_after", 'SELECT sum(x) AS s FROM "_t_free"'),
        )
    )
    made = engine_execute.execute(ws.con, plan, _run_context(), {"_t_step": step})
    try:
        assert sorted(made) == ["_t_a", "_t_after", "_t_free", "_t_py", "_t_reads"]
        assert ws.con.execute('SELECT saw, n FROM "_t_reads"').fetchall() == [(True, 2)]
        assert ws.con.execute('SELECT s FROM "_t_after"').fetchall() == [(3,)]
    finally:
        engine_execute.drop(ws.con, made)


def test_nothing_runs_ahead_past_a_check_or_what_it_depends_on() -> None:
    op = engine_plan.Op
    ops = (
        op("python", "p", outputs=("_t_py",)),
        op("step", "_t_wait", 'SELECT * FROM "_t_py"'),
        op("tick", "tick"),
        op("step", "_t_free", "SELECT 1 AS x"),
        op("step", "_t_waits_too", 'SELECT * FROM "_t_wait"'),
        op("step", "_t_free_after", 'SELECT * FROM "_t_free"'),
        op("output", "_t_out", "SELECT 2 AS x"),
        op("step", "_t_reads_the_python_table", 'SELECT * FROM "_t_py"'),
        op("step", "_t_replaces_what_a_waiting_step_reads", "SELECT 3 AS x"),
        op("step", "_t_reads_the_replaced", 'SELECT * FROM "_t_replaces_what_a_waiting_step_reads"'),
        op("step", "_t_skipped", "SELECT 4 AS x", when="!big"),
        op("check", "_t_check", "SELECT 1 WHERE FALSE"),
        op("step", "_t_past_the_check", "SELECT 5 AS x"),
    )
    runs = lambda o: o.when == ""  # noqa: E731 - the guard "big" was true
    chosen = [ops[j].name for j in engine_execute._ahead(ops, 1, set(), ("_t_py",), runs)]
    assert chosen == [
        "_t_free",
        "_t_free_after",
        "_t_out",
        "_t_replaces_what_a_waiting_step_reads",
        "_t_reads_the_replaced",
    ]
    # A step that makes a table a waiting step reads stays behind it.
    reader = op("step", "_t_reader", 'SELECT * FROM "_t_later"')
    later = op("step", "_t_later", "SELECT 1 AS x")
    assert engine_execute._ahead((ops[0], reader, later), 1, set(), ("_t_py",), runs) == []


def test_a_failing_python_step_fails_the_run_and_leaves_no_table(ws: Workspace) -> None:
    def tables() -> set[str]:
        return {
            str(r[0])
            for r in ws.con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name IN (current_database(), 'temp')"
            ).fetchall()
        }

    def step(context: engine_plan.RunContext) -> dict[str, Any]:
        raise ValueError("the step failed")

    before = tables()
    plan = Plan(
        (
            engine_plan.Op("step", "_t_a", "SELECT 1 AS x"),
            engine_plan.Op("python", "_t_step", outputs=("_t_py",)),
            engine_plan.Op("step", "_t_free", 'SELECT * FROM "_t_a"'),
            engine_plan.Op("step", "_t_reads", 'SELECT * FROM "_t_py"'),
        )
    )
    with pytest.raises(ValueError, match="the step failed"):
        engine_execute.execute(ws.con, plan, _run_context(), {"_t_step": step})
    assert tables() == before
