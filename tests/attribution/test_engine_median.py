"""The cohort counts and medians computed in the client (cosell.attribution.engine_median) against
the rule written out: for each candidate, the baseline rows of its group closed in
[x - window, x], sorted, and the two middle durations added (twice the median)."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosell.attribution.engine_median import (
    CYCLE_KEYS,
    STAGE_KEYS,
    TimeRanks,
    _group_codes,
    _middles,
    cohort_stats,
    range_medians,
)

GROUPS = st.integers(0, 3)
TIMES = st.integers(-50, 50)
# Durations from tiny to large (negative ones too: the rule subtracts instants), with repeats.
DURATIONS = st.sampled_from([-7, 0, 1, 2, 5, 10**9, 3 * 10**14, 3 * 10**14 + 1])


def expected(
    base: list[tuple[int, int, int]], queries: list[tuple[int, int]], window: int
) -> list[tuple[int, int]]:
    out = []
    for g, x in queries:
        inside = sorted(d for bg, bx, d in base if bg == g and x - window <= bx <= x)
        n = len(inside)
        out.append((n, inside[(n - 1) // 2] + inside[n // 2] if n else 0))
    return out


@settings(max_examples=300, deadline=None)
@given(
    base=st.lists(st.tuples(GROUPS, TIMES, DURATIONS), max_size=40),
    queries=st.lists(st.tuples(GROUPS, TIMES), max_size=15),
    window=st.integers(0, 40),
)
def test_counts_and_medians_are_the_rule_written_out(
    base: list[tuple[int, int, int]], queries: list[tuple[int, int]], window: int
) -> None:
    g_base = np.array([b[0] for b in base], np.int64)
    x_base = np.array([b[1] for b in base], np.int64)
    durations, ranks = np.unique(np.array([b[2] for b in base], np.int64), return_inverse=True)
    g_query = np.array([q[0] for q in queries], np.int64)
    x_query = np.array([q[1] for q in queries], np.int64)
    times = TimeRanks.of(x_base, x_query, window)
    count, twice = range_medians(g_base, ranks, durations, g_query, times)
    assert list(zip(count.tolist(), twice.tolist(), strict=True)) == expected(base, queries, window)


@settings(max_examples=300, deadline=None)
@given(
    ranks=st.lists(st.integers(0, 7), min_size=1, max_size=40),
    spans=st.lists(st.tuples(st.integers(0, 40), st.integers(1, 12), st.integers(0, 11)), max_size=10),
    threads=st.booleans(),
)
def test_the_middles_are_the_kth_of_each_range_whatever_rows_are_left_out_or_split(
    ranks: list[int], spans: list[tuple[int, int, int]], threads: bool
) -> None:
    """Rows no range holds are left out, and the rows are cut in two where no range crosses (at
    any size here): each answer is still the k-th smallest of its own range."""
    n = len(ranks)
    ranges = [(min(lo, n - 1), min(lo + width, n), k) for lo, width, k in spans]
    ranges = [(lo, hi, k % (hi - lo)) for lo, hi, k in ranges]
    lo = np.array([r[0] for r in ranges], np.int64)
    hi = np.array([r[1] for r in ranges], np.int64)
    k = np.array([r[2] for r in ranges], np.int64)
    with ThreadPoolExecutor(2) as pool:
        found = _middles(np.array(ranks, np.int64), 8, lo, hi, k, pool.submit if threads else None, 0)
    assert found.tolist() == [sorted(ranks[a:b])[c] for a, b, c in ranges]


def test_two_groups_of_windows_are_searched_apart_by_hand() -> None:
    """Rows 0-3 hold two windows, rows 6-10 two more, rows 4-5 none: the search is cut at row 5,
    each part in a thread, and each window's k-th smallest is its own."""
    ranks = np.array([5, 1, 4, 7, 7, 0, 2, 6, 3, 1, 5], np.int64)
    lo, hi = np.array([0, 1, 6, 7]), np.array([3, 4, 9, 11])
    # sorted: [1 4 5], [1 4 7], [2 3 6], [1 3 5 6]
    k = np.array([1, 0, 2, 3])
    with ThreadPoolExecutor(2) as pool:
        assert _middles(ranks, 8, lo, hi, k, pool.submit, 0).tolist() == [4, 1, 6, 6]


def _table(rows: list[dict[str, object]], columns: dict[str, pa.DataType]) -> pa.Table:
    return pa.table({c: pa.array([r[c] for r in rows], t) for c, t in columns.items()})


STAGE_COLUMNS = {
    "segment": pa.string(),
    "band": pa.int64(),
    "s": pa.string(),
    "x": pa.int64(),
    "dur": pa.int64(),
}
CYCLE_COLUMNS = {"segment": pa.string(), "band": pa.int64(), "x": pa.int64(), "dur": pa.int64()}
CAND_COLUMNS = {
    "opp_id": pa.string(),
    "segment": pa.string(),
    "band": pa.int64(),
    "s": pa.string(),
    "x": pa.int64(),
}
LEVELS = [("stage", keys) for keys in STAGE_KEYS] + [("cycle", keys) for keys in CYCLE_KEYS]


@pytest.mark.parametrize("threads", [0, 2])
def test_levels_group_by_their_keys_and_null_matches_null(threads: int) -> None:
    """Each level is measured for the candidates no narrower level served, its median only for
    those it serves; the same figures whether the ranks and codes are made in turn or in a pool's
    threads (the incremental run's cohort step hands them to two)."""
    # Stage rows: ENT band 1 stage S (durations 10 and 20), ENT with no band (30), SMB (40), all
    # closed at time 100; an ENT band 1 deal in stage T (1000) closed at 89. The whole-cycle rows
    # are the same deals. The window is 10, a level needs 3 deals.
    rows: list[dict[str, object]] = [
        {"segment": "ENT", "band": 1, "s": "S", "x": 100, "dur": 10},
        {"segment": "ENT", "band": 1, "s": "S", "x": 100, "dur": 20},
        {"segment": "ENT", "band": None, "s": "S", "x": 100, "dur": 30},
        {"segment": "SMB", "band": 1, "s": "S", "x": 100, "dur": 40},
        {"segment": "ENT", "band": 1, "s": "T", "x": 89, "dur": 1000},
    ]
    cand = _table(
        [
            {"opp_id": "O1", "segment": "ENT", "band": 1, "s": "S", "x": 100},
            {"opp_id": "O2", "segment": "SMB", "band": None, "s": "S", "x": 105},
            {"opp_id": "O3", "segment": "ENT", "band": 1, "s": "T", "x": 99},
            {"opp_id": "O4", "segment": "ENT", "band": 1, "s": "S", "x": 111},
        ],
        CAND_COLUMNS,
    )
    with ThreadPoolExecutor(threads or 1) as executor:
        pool = executor if threads else None
        stage, cycle = cohort_stats(
            _table(rows, STAGE_COLUMNS), _table(rows, CYCLE_COLUMNS), cand, 10, 3, pool
        )
    st_rows, cy_rows = stage.to_pylist(), cycle.to_pylist()
    # O1: level 1 (ENT/1/S) has 10 and 20, too few; level 2 (ENT/S) 10, 20, 30 (NULL band
    # included): served, median 20. Nothing after it is measured.
    assert st_rows[0] == {
        "opp_id": "O1",
        "stage_n1": 2,
        "stage_m1": None,
        "stage_n2": 3,
        "stage_m2": 20.0,
        "stage_n3": None,
        "stage_m3": None,
    }
    assert all(cy_rows[0][c] is None for c in cy_rows[0] if c != "opp_id")
    # O2 has no band: level 1 is SMB with NULL band (none), level 2 SMB/S (one), level 3 S in [95,
    # 105] (four: 10, 20, 30, 40, median 25).
    assert [st_rows[1][f"stage_n{lvl}"] for lvl in "123"] == [0, 1, 4]
    assert st_rows[1]["stage_m3"] == 25.0
    # O3 (stage T, window [89, 99]): one stage row at every level; the whole cycle of ENT/1 in
    # [89, 99] holds one, ENT one, every deal one: no baseline at all.
    assert [st_rows[2][f"stage_n{lvl}"] for lvl in "123"] == [1, 1, 1]
    assert [cy_rows[2][f"cycle_n{lvl}"] for lvl in "123"] == [1, 1, 1]
    assert all(cy_rows[2][f"cycle_m{lvl}"] is None for lvl in "123")
    # O4's window [101, 111] holds no deal: every level counted, none served.
    assert [st_rows[3][f"stage_n{lvl}"] for lvl in "123"] == [0, 0, 0]
    assert [cy_rows[3][f"cycle_n{lvl}"] for lvl in "123"] == [0, 0, 0]


SEGMENTS = st.sampled_from(["ENT", "SMB", None])
BANDS = st.sampled_from([0, 1, None])
STAGES = st.sampled_from(["S", "T", None])
StageRow = tuple[str | None, int | None, str | None, int, int]  # segment, band, s, x, dur
CycleRow = tuple[str | None, int | None, int, int]  # segment, band, x, dur
Candidate = tuple[str | None, int | None, str | None, int]  # segment, band, s, x


@settings(max_examples=200, deadline=None)
@given(
    stage_rows=st.lists(st.tuples(SEGMENTS, BANDS, STAGES, TIMES, DURATIONS), max_size=40),
    cycle_rows=st.lists(st.tuples(SEGMENTS, BANDS, TIMES, DURATIONS), max_size=20),
    cands=st.lists(st.tuples(SEGMENTS, BANDS, STAGES, TIMES), max_size=12),
    window=st.integers(0, 40),
    minimum=st.integers(1, 4),
)
def test_the_cohort_each_candidate_gets_is_the_rule_written_out(
    stage_rows: list[StageRow],
    cycle_rows: list[CycleRow],
    cands: list[Candidate],
    window: int,
    minimum: int,
) -> None:
    """Per candidate: every level up to the narrowest with at least ``minimum`` deals is counted
    as the rule counts it, that level's median is the rule's, and nothing after it is measured."""
    stage = _table([dict(zip(STAGE_COLUMNS, r, strict=True)) for r in stage_rows], STAGE_COLUMNS)
    cycle = _table([dict(zip(CYCLE_COLUMNS, r, strict=True)) for r in cycle_rows], CYCLE_COLUMNS)
    cand = _table(
        [dict(zip(CAND_COLUMNS, (f"O{i}", *c), strict=True)) for i, c in enumerate(cands)], CAND_COLUMNS
    )
    stage_stats, cycle_stats = cohort_stats(stage, cycle, cand, window, minimum)
    found = {"stage": stage_stats.to_pylist(), "cycle": cycle_stats.to_pylist()}
    index = {"segment": 0, "band": 1, "s": 2}
    for i, (segment, band, s, x) in enumerate(cands):
        mine: dict[str, object] = {"segment": segment, "band": band, "s": s}
        served = False
        for (kind, keys), level in zip(LEVELS, "123123", strict=True):
            row = found[kind][i]
            n, m = row[f"{kind}_n{level}"], row[f"{kind}_m{level}"]
            if served:
                assert (n, m) == (None, None)
                continue
            pool: list[StageRow] = (
                stage_rows if kind == "stage" else [(g, b, None, t, d) for g, b, t, d in cycle_rows]
            )
            inside = sorted(
                r[4] for r in pool if all(r[index[k]] == mine[k] for k in keys) and x - window <= r[3] <= x
            )
            assert n == len(inside)
            served = n >= minimum
            twice = inside[(n - 1) // 2] + inside[n // 2] if served else None
            assert (None if m is None else round(m * 2)) == twice


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(*[st.sampled_from([0, 1, 2, 40])] * 3), min_size=1, max_size=30),
    n_base=st.integers(0, 30),
    # 41**3 * 2**51 passes 2**62, 30 rows * 41 * 2**51 does not: the dense path is taken.
    span=st.sampled_from([1, 50, 2**51]),
)
def test_group_codes_are_equal_exactly_where_the_keys_are(
    rows: list[tuple[int, int, int]], n_base: int, span: int
) -> None:
    """A level's code is equal for two rows exactly when all its keys are, and stays small enough
    to be multiplied by ``span`` (large spans take the dense path)."""
    n_base = min(n_base, len(rows))
    codes = {
        key: (np.array([r[i] for r in rows], np.int64), max(r[i] for r in rows) + 1)
        for i, key in enumerate(("a", "b", "c"))
    }
    for keys in (("a", "b", "c"), ("a", "b"), ("c",), ()):
        g_base, g_cand = _group_codes(codes, keys, n_base, len(rows) - n_base, span)
        code = [int(c) for c in np.concatenate((g_base, g_cand))]
        assert len(g_base) == n_base and len(code) == len(rows)
        assert max(code) * span < 2**63
        index = {"a": 0, "b": 1, "c": 2}
        for i in range(len(rows)):
            for j in range(len(rows)):
                same = all(rows[i][index[k]] == rows[j][index[k]] for k in keys)
                assert (code[i] == code[j]) == same


def test_the_cohort_step_does_not_import_pandas() -> None:
    # Arrow's numpy conversions import pandas (a quarter of a CPU second); a command that needs
    # nothing else of it should not pay that. Inputs read as a command's are (Arrow's JSON reader).
    script = """
import sys
import pyarrow as pa, pyarrow.json as pj
from cosell.attribution.engine_median import cohort_stats

def table(text, schema):
    return pj.read_json(pa.BufferReader(text.encode()), parse_options=pj.ParseOptions(explicit_schema=schema))

base = table(
    '{"segment": "ENT", "band": 1, "s": "S", "x": 100, "dur": 10}\\n'
    '{"segment": null, "band": null, "s": "S", "x": 95, "dur": 20}',
    pa.schema([("segment", pa.string()), ("band", pa.int64()), ("s", pa.string()), ("x", pa.int64()), ("dur", pa.int64())]),
)
cand = table(
    '{"opp_id": "O1", "segment": "ENT", "band": 1, "s": "S", "x": 100}\\n'
    '{"opp_id": "O2", "segment": "ENT", "band": 1, "s": "S", "x": 300}',
    pa.schema([("opp_id", pa.string()), ("segment", pa.string()), ("band", pa.int64()), ("s", pa.string()), ("x", pa.int64())]),
)
cycle_base = base.select(["segment", "band", "x", "dur"])
stage, cycle = cohort_stats(base, cycle_base, cand, 10, 1)
empty = cohort_stats(base, cycle_base, cand.slice(0, 0), 10, 1)[1]
print(stage.num_rows, stage.column("stage_n1").to_pylist(), stage.column("stage_m1").null_count, empty.num_rows)
print("pandas" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["2", "[1,", "0]", "1", "0", "False"]


def test_the_incremental_run_imports_numpy_and_arrow_beside_its_statements() -> None:
    # Importing the incremental run brings neither library: it imports them in a thread while its
    # first statements run (cosell.imports), and its cohort step finds them imported.
    script = """
import sys
import cosell.attribution.incremental
print(*(name in sys.modules for name in ("numpy", "pyarrow")))
from cosell.imports import import_beside
import_beside("numpy", "pyarrow", "pyarrow.compute").join()
print(*(name in sys.modules for name in ("numpy", "pyarrow", "pyarrow.compute")))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False", "True", "True", "True"]
