"""The portable paths of the rules give exactly the DuckDB path's results, run on DuckDB.

DuckDB computes the cohort medians in the client from the fetched baseline rows
(``Dialect.client_median``); Spark computes them over a RANGE window; PostgreSQL per group, joined
back, and it joins a deal's evidence tokens with an ordered string aggregate
(``Dialect.windowed_median``, ``Dialect.struct_lists``). Those paths run here on DuckDB itself
and must give the same attribution and credits, row for row, as DuckDB's own path, on generated
data with accelerated deals (cohort medians at every level) and on every credit model. On every
golden case the paths run beside the golden parity (tests/attribution/test_engine_parity.py),
on the workspace and the run of the case's own model that the parity has made already.

DuckDB's own plan holds both of its ways to the medians behind a guard (``client_median``: the
client's from ``client_median_min_rows`` candidates up, its windowed median, Spark's way, below):
the client's and the windowed paths are that plan with the guard given either way, as the
incremental run gives it; the grouped path is the plan of a dialect that asks for it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cosell.attribution.engine import attribute
from cosell.data.demo import generate_dataset
from cosell.data.load import import_canonical
from cosell.engine import DUCKDB, Dialect
from cosell.instants import parse_instant
from cosell.policy import Policy
from cosell.store.workspace import Workspace, open_workspace


class _ClientMedian(Dialect):
    """DuckDB's own path at any size: the cohort medians in the client (DuckDB computes them
    there from ``client_median_min_rows`` candidates up, by its windowed median below that)."""

    name = "duckdb-client-median"
    client_median_min_rows = 0


sys.path.insert(0, str(Path(__file__).parents[1] / "attribution"))
from engine_support import CLIENT, GROUPED, WINDOWED, RulePath, run_path, workspace_with  # noqa: E402

PATHS = [CLIENT, WINDOWED, GROUPED]
PATH_IDS = [p.name for p in PATHS]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, object]]:
    folder: Path = tmp_path_factory.mktemp("demo")
    manifest = generate_dataset(folder, size=1200, seed=7)
    ws = open_workspace(":memory:")
    import_canonical(ws, folder, now=manifest.as_of)
    yield ws, manifest.as_of
    ws.close()


@pytest.mark.parametrize("model", ["role_weighted", "time_decay"])
def test_grouped_median_and_ordered_tokens_give_the_same_rows(
    demo: tuple[Workspace, object], model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, as_of = demo
    policy = Policy()
    results = []
    for path in PATHS:
        run = run_path(ws, path, monkeypatch, policy, as_of, model)
        results.append((run.rows(), run.credit_rows(), run.counts, run.evidence_rows()))
    expected = results[0]
    assert results[1] == expected
    assert results[2] == expected
    rows = expected[0]
    # The comparison covers what the paths compute: medians at several cohort levels, evidence.
    assert expected[2]["accelerated"] >= 10
    assert len({r.cohort for r in rows if r.cohort}) >= 3
    assert sum(1 for r in rows if len(r.evidence.split()) >= 3) >= 50


def _won(opp: str, created: str, closed: str) -> dict[str, str]:
    return {
        "opportunity_id": opp,
        "account_id": "A" + opp,
        "created_at": created,
        "amount": "10000.00",
        "stage": "Closed Won",
        "close_date": closed,
    }


# O1 closes 2026-04-11 with P1's joint call on 2026-04-05 (E): a candidate, 41 days created to
# close. Its 365-day window starts 2025-04-11T00:00:00Z: B1 closes exactly then (inside), B2 one
# microsecond before (outside), B3 inside. No deal has a stage history, so each was in its stage from
# creation: with a minimum cohort of 2 the stage baseline is B1 and B3, 100 and 29 days, median 64.5;
# O1's 41 days are 23.5 days faster (ACC by 36%).
EDGE = {
    "accounts": [{"account_id": "A" + o, "name": o, "segment": "MM"} for o in ("O1", "B1", "B2", "B3")],
    "partners": [{"partner_id": "P1", "name": "p1", "partner_type": "referral"}],
    "opportunities": [
        _won("O1", "2026-03-01T00:00:00Z", "2026-04-11T00:00:00Z"),
        _won("B1", "2025-01-01T00:00:00Z", "2025-04-11T00:00:00Z"),
        _won("B2", "2025-01-01T00:00:00Z", "2025-04-10T23:59:59.999999Z"),
        _won("B3", "2026-01-01T00:00:00Z", "2026-01-30T00:00:00Z"),
    ],
    "touches": [
        {
            "touch_id": "T1",
            "occurred_at": "2026-04-05T00:00:00Z",
            "account_id": "AO1",
            "actor": "partner",
            "kind": "joint_call",
            "opportunity_id": "O1",
            "partner_id": "P1",
        }
    ],
}


@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
def test_the_window_starts_exactly_baseline_window_days_before_close(
    path: RulePath, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = Policy().with_values(acceleration__min_cohort_size=2)
    ws = workspace_with(EDGE)
    try:
        run = run_path(ws, path, monkeypatch, policy, parse_instant("2026-10-01"))
        o1 = next(r for r in run.rows() if r.opportunity_id == "O1")
    finally:
        ws.close()
    assert (o1.tier, o1.cohort, o1.cohort_size) == ("accelerated", "stage:1", "2")
    assert (o1.cycle_days, o1.baseline_days, o1.cycle_reduction_days) == (
        "41.000000",
        "64.500000",
        "23.500000",
    )


def test_duckdb_takes_the_client_medians_only_from_enough_candidates(
    demo: tuple[Workspace, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard in the plan: with fewer candidates than ``client_median_min_rows`` DuckDB runs its
    windowed median (no numpy, no Arrow), from that many up the client's; both give the same rows."""
    ws, as_of = demo
    results, branches = [], []
    try:
        for dialect in (DUCKDB, _ClientMedian()):
            log = tmp_path / f"{dialect.name}.tsv"
            monkeypatch.setenv("COSELL_PROFILE", str(log))
            ws.con.dialect = dialect  # type: ignore[misc]
            run = attribute(ws.con, Policy(), as_of)  # type: ignore[arg-type]
            results.append((run.rows(), run.credit_rows(), run.evidence_rows()))
            steps = {line.split("\t")[0] for line in log.read_text().splitlines()}
            branches.append(("engine python cohort_medians" in steps, "engine step acc_stage_rows" in steps))
    finally:
        ws.con.dialect = DUCKDB  # type: ignore[misc]
    candidates = sum(1 for r in results[0][0] if r.baseline_days or r.tier == "accelerated")
    assert 0 < candidates < DUCKDB.client_median_min_rows
    assert branches == [(False, True), (True, False)]
    assert results[0] == results[1]
