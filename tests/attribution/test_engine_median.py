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
    range_medians,
    window_stats,
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


@pytest.mark.parametrize("threads", [0, 2])
def test_levels_group_by_their_keys_and_null_matches_null(threads: int) -> None:
    """The same figures whether the levels are computed in turn or in a pool's threads (the
    incremental run's cohort step hands them to two)."""
    # Two baseline deals in segment ENT band 1 stage S (durations 10 and 20), one in ENT with no
    # band (30), one in SMB (40), all closed at time 100; the window is 10.
    base = pa.table(
        {
            "segment": ["ENT", "ENT", "ENT", "SMB", "ENT"],
            "band": pa.array([1, 1, None, 1, 1], pa.int64()),
            "s": ["S", "S", "S", "S", "T"],
            "x": pa.array([100, 100, 100, 100, 89], pa.int64()),
            "dur": pa.array([10, 20, 30, 40, 1000], pa.int64()),
        }
    )
    cand = pa.table(
        {
            "opp_id": ["O1", "O2", "O3"],
            "segment": ["ENT", "ENT", "ENT"],
            "band": pa.array([1, None, 1], pa.int64()),
            "s": ["S", "S", "S"],
            "x": pa.array([100, 105, 111], pa.int64()),
        }
    )
    with ThreadPoolExecutor(threads or 1) as executor:
        pool = executor if threads else None
        stage = window_stats("stage", base, cand, STAGE_KEYS, 10, pool).to_pylist()
        cycle = window_stats("cycle", base, cand, CYCLE_KEYS, 11, pool).to_pylist()
    # O1: level 1 is ENT/1/S: 10 and 20 (median 15); level 2 ENT/S: 10, 20, 30; level 3 S: all four.
    assert stage[0] == {
        "opp_id": "O1",
        "stage_n1": 2,
        "stage_m1": 15.0,
        "stage_n2": 3,
        "stage_m2": 20.0,
        "stage_n3": 4,
        "stage_m3": 25.0,
    }
    # O2 has no band: its level 1 is the band-less ENT deal only (NULL matches NULL).
    assert (stage[1]["stage_n1"], stage[1]["stage_m1"]) == (1, 30.0)
    # O3's window [101, 111] holds no deal: count 0, no median.
    assert (stage[2]["stage_n3"], stage[2]["stage_m3"]) == (0, None)
    # The whole-cycle level 3 has no key: every deal closed in [89, 100] for O1 (the stage T one too).
    assert (cycle[0]["cycle_n3"], cycle[0]["cycle_m3"]) == (5, 30.0)
    assert (cycle[0]["cycle_n1"], cycle[0]["cycle_m1"]) == (3, 20.0)


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
from cosell.attribution.engine_median import CYCLE_KEYS, STAGE_KEYS, window_stats

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
stage = window_stats("stage", base, cand, STAGE_KEYS, 10)
cycle = window_stats("cycle", base, cand.slice(0, 0), CYCLE_KEYS, 10)
print(stage.num_rows, stage.column("stage_n3").null_count, stage.column("stage_m3").null_count, cycle.num_rows)
print("pandas" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["2", "0", "1", "0", "False"]
