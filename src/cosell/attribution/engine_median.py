"""Batch engine: the cohort baselines' counts and medians, computed in the client.

For each acceleration candidate, the rule needs the count of the direct-only won deals of a cohort
level's key (segment, band, stage) that closed in ``[X - window, X]``, level after level until one
has enough, and the median of that level's durations (docs/rules.md, Acceleration). An engine's
windowed median evaluates the frame of every row of the partition, the baseline deals' own rows
included (about ten times the candidates), and a RANGE frame is costly to bound: at a million deals
that is most of the engine's time. Here the same numbers come from one range query per candidate
and level, all candidates at once, and only as far as the rule reads (:func:`cohort_stats`: at a
million deals all but a few hundred candidates are served by their first level):

- the baseline rows sorted by (level key, close time) put each candidate's window in one
  contiguous run ``[lo, hi)`` of that order, found by two binary searches (``hi - lo`` is the count);
- a wavelet matrix over the durations answers "the k-th smallest duration in ``[lo, hi)``" for every
  candidate together, one bit of the value per pass over the rows: O((n + q) log n) in numpy.

Everything is an exact integer: twice the median is the sum of the two middle durations (the lower
and the upper middle of an even count), which is what the windowed ``quantile_cont`` gives in a
double for durations below 2^53 microseconds. The plan fetches the rows (``engine_cohort``) and runs
:func:`compute_cohort_medians`; this module does not import Ibis.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from cosell.attribution.engine_plan import STEP_PREFIX, RunContext

# The cohort levels of each kind (as engine_cohort.LEVELS): the stage baseline is also keyed by the
# stage the candidate was in at E, the whole-cycle baseline is not.
STAGE_KEYS = (("segment", "band", "s"), ("segment", "s"), ("s",))
CYCLE_KEYS = (("segment", "band"), ("segment",), ())
STAGE_STATS = STEP_PREFIX + "acc_stage"
CYCLE_STATS = STEP_PREFIX + "acc_cycle"
T = TypeVar("T")
# Below this many rows one search is quicker than two threads' hand-over.
SPLIT_ROWS = 2**16


def stats_columns(kind: str) -> dict[str, str]:
    """The columns of one kind's statistics table: per level, the count and the median."""
    columns = {"opp_id": "string"}
    for level in ("1", "2", "3"):
        columns[f"{kind}_n{level}"] = "int64"
        columns[f"{kind}_m{level}"] = "float64"
    return columns


def compute_cohort_medians(context: RunContext) -> dict[str, pa.Table]:
    """The plan's ``cohort_medians`` step: the stage and whole-cycle statistics of every candidate."""
    fetched = context.fetched
    stage, cycle = cohort_stats(
        fetched["median_stage_base"],
        fetched["median_cycle_base"],
        fetched["median_cand"],
        context.params.baseline_us,
        context.params.min_cohort_size,
    )
    return {STAGE_STATS: stage, CYCLE_STATS: cycle}


def cohort_stats(
    stage_base: pa.Table,
    cycle_base: pa.Table,
    cand: pa.Table,
    window_us: int,
    minimum: int,
    pool: Executor | None = None,
) -> tuple[pa.Table, pa.Table]:
    """Per candidate (``cand``: opp_id, segment, band, s, x), the stage and the whole-cycle
    statistics tables: per level, how many baseline rows (``stage_base``: segment, band, s, x, dur;
    ``cycle_base``: segment, band, x, dur) share its level's key (NULL matching NULL) with x in
    ``[x - window_us, x]``, and the median of their durations.

    Measured as far as the rule reads them, in its order (docs/rules.md, Acceleration: stage levels
    1 to 3, then whole-cycle levels 1 to 3; the narrowest with at least ``minimum`` deals is the
    cohort): a level's count is measured for the candidates no earlier level served, NULL for the
    others; its median only for those it serves, NULL otherwise. Nearly every candidate is served
    by its first level, so the other five measure a few candidates, over the baseline rows of
    their keys alone.

    With ``pool``, the ranks and the key codes of both kinds are made in its threads (numpy and
    Arrow let go of the GIL in their sorts and encodings): the same figures."""
    run = pool.submit if pool is not None else _done
    kinds = (("stage", stage_base, STAGE_KEYS), ("cycle", cycle_base, CYCLE_KEYS))
    prepared = [(kind, _Prepared.later(base, cand, keys, window_us, run), keys) for kind, base, keys in kinds]
    unserved = np.ones(cand.num_rows, bool)
    tables = []
    for kind, later, levels in prepared:
        ready = later()
        measured = []
        for keys in levels:
            measured.append(ready.level(keys, unserved, minimum, run))
            unserved &= ~measured[-1].served
        tables.append(_stats_table(kind, cand, measured))
    return tables[0], tables[1]


def _done(work: Callable[..., T], *args: Any) -> Future[T]:
    """``work(*args)`` done now, as a finished future (the path without a pool)."""
    future: Future[T] = Future()
    future.set_result(work(*args))
    return future


@dataclass(frozen=True)
class _Prepared:
    """One kind's base rows and the candidates, ready for its levels: the durations in order
    (``durations``) and each base row's place in it (``ranks``), the close times' ranks
    (``times``), each key column's codes over the base rows and the candidates together."""

    durations: np.ndarray
    ranks: np.ndarray
    times: TimeRanks
    codes: dict[str, tuple[np.ndarray, int]]
    n_base: int
    n_cand: int

    @classmethod
    def later(
        cls,
        base: pa.Table,
        cand: pa.Table,
        levels: tuple[tuple[str, ...], ...],
        window_us: int,
        run: Callable[..., Future[Any]],
    ) -> Callable[[], _Prepared]:
        """Hand the work to ``run`` (a pool's ``submit``, or done now); call the result to wait."""
        ranked = run(_duration_ranks, _ints(base["dur"]))
        timed = run(TimeRanks.of, _ints(base["x"]), _ints(cand["x"]), window_us)
        coded = {
            key: run(_key_codes, base, cand, key) for key in sorted({k for keys in levels for k in keys})
        }

        def ready() -> _Prepared:
            durations, ranks = ranked.result()
            codes = {key: future.result() for key, future in coded.items()}
            return cls(durations, ranks, timed.result(), codes, base.num_rows, cand.num_rows)

        return ready

    def level(
        self,
        keys: tuple[str, ...],
        asked: np.ndarray,
        minimum: int,
        run: Callable[..., Future[Any]] | None = None,
    ) -> _Level:
        """The level of ``keys`` for the candidates ``asked`` (a mask): their counts, and twice the
        median of those it serves (a count of at least ``minimum``); ``run`` as for
        :func:`range_medians`."""
        level = _Level(
            np.zeros(self.n_cand, np.int64),
            asked.copy(),
            np.zeros(self.n_cand, np.int64),
            np.zeros(self.n_cand, bool),
        )
        queries = np.flatnonzero(asked)
        if len(queries) == 0:
            return level
        g_base, g_cand = _group_codes(
            {key: self.codes[key] for key in keys}, keys, self.n_base, self.n_cand, self.times.span
        )
        g_query = g_cand[queries]
        # Only the rows of the asked candidates' groups can fall in their windows.
        wanted = np.zeros(int(max(g_base.max(initial=0), g_query.max())) + 1, bool)
        wanted[g_query] = True
        rows = wanted[g_base]
        if rows.all():
            times, ranks, g_rows = self.times.subset(None, queries), self.ranks, g_base
        else:
            times, ranks, g_rows = self.times.subset(rows, queries), self.ranks[rows], g_base[rows]
        count, twice = range_medians(g_rows, ranks, self.durations, g_query, times, minimum, run)
        level.count[queries] = count
        level.twice[queries] = twice
        level.served[queries] = count >= minimum
        return level


@dataclass(frozen=True)
class _Level:
    """One level's figures per candidate: ``count`` where ``counted``, ``twice`` the median where
    ``served`` (NULL elsewhere in the statistics table)."""

    count: np.ndarray
    counted: np.ndarray
    twice: np.ndarray
    served: np.ndarray


def _duration_ranks(durations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The durations in ascending order, and each row's place in that order (equal durations take
    any of their places: a k-th smallest is the same value whichever)."""
    order = np.argsort(durations)
    ranks = np.empty(len(durations), np.int64)
    ranks[order] = np.arange(len(durations), dtype=np.int64)
    return durations[order], ranks


def _stats_table(kind: str, cand: pa.Table, levels: list[_Level]) -> pa.Table:
    """One kind's statistics table from each level's counts and twice medians."""
    columns: dict[str, Any] = {"opp_id": cand["opp_id"]}
    for name, level in zip(("1", "2", "3"), levels, strict=True):
        columns[f"{kind}_n{name}"] = _arrow(level.count, pa.int64(), missing=~level.counted)
        # Twice the median is an integer below 2^54: half of it is exact in a double.
        columns[f"{kind}_m{name}"] = _arrow(level.twice / 2.0, pa.float64(), missing=~level.served)
    types = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64()}
    schema = pa.schema([(name, types[t]) for name, t in stats_columns(kind).items()])
    return pa.table(columns, schema=schema)


@dataclass(frozen=True)
class TimeRanks:
    """Close times as ranks among every instant a window search needs (the base rows' close
    times, and each query's window start and end), so that (group, time) is one integer that
    sorts like the pair: ``base`` per base row, ``start`` and ``end`` per query, ``span`` of them;
    ``base_order``: the base rows in the order of their close times."""

    base: np.ndarray
    start: np.ndarray
    end: np.ndarray
    span: int
    base_order: np.ndarray

    @classmethod
    def of(cls, x_base: np.ndarray, x_query: np.ndarray, window: int) -> TimeRanks:
        """The ranks for windows ``[x - window, x]`` of the queries ``x_query``: one sort of every
        instant, each ranked by how many distinct instants sort before it."""
        instants = np.concatenate((x_base, x_query - window, x_query))
        order = np.argsort(instants)
        ordered = instants[order]
        new = np.empty(len(ordered), bool)
        new[:1] = True
        np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
        distinct = np.cumsum(new)
        ranks = np.empty(len(ordered), np.int64)
        ranks[order] = distinct - 1
        n_base, n_query = len(x_base), len(x_query)
        return cls(
            ranks[:n_base],
            ranks[n_base : n_base + n_query],
            ranks[n_base + n_query :],
            int(distinct[-1]) if len(ordered) else 0,
            order[order < n_base],
        )

    def subset(self, rows: np.ndarray | None, queries: np.ndarray) -> TimeRanks:
        """The ranks of the base rows ``rows`` (a mask; None: every row) and of the queries
        ``queries`` (their indices), in the same ranks: a level's search over part of the rows."""
        start, end = self.start[queries], self.end[queries]
        if rows is None:
            return TimeRanks(self.base, start, end, self.span, self.base_order)
        place = np.cumsum(rows) - 1
        return TimeRanks(
            self.base[rows], start, end, self.span, place[self.base_order[rows[self.base_order]]]
        )


def range_medians(
    g_base: np.ndarray,
    ranks: np.ndarray,
    durations: np.ndarray,
    g_query: np.ndarray,
    times: TimeRanks,
    minimum: int = 1,
    run: Callable[..., Future[Any]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """For each query (group, window): the number of base rows of its group closed inside its
    window and twice their median duration (the sum of the two middle ones), for the queries with
    at least ``minimum`` rows (0 for the others). A base row's duration is ``durations[ranks[i]]``
    (``durations`` ascending). With ``run`` (a pool's ``submit``), the middles are found in two
    parts of the rows at once, split where no window crosses (:func:`_middles`)."""
    queries = len(g_query)
    if queries == 0 or len(ranks) == 0:
        return np.zeros(queries, np.int64), np.zeros(queries, np.int64)
    span = times.span
    # Sorted by (group, close time): the rows in time order, stably sorted by their group (a
    # radix sort when the groups fit 16 bits). Rows of the same group and time may come in any
    # order: no window separates them.
    groups = g_base[times.base_order]
    if int(groups.max()) < 2**16:
        groups = groups.astype(np.uint16)
    order = times.base_order[np.argsort(groups, kind="stable")]
    key_base = (g_base * span + times.base)[order]
    lo = np.searchsorted(key_base, g_query * span + times.start, "left")
    hi = np.searchsorted(key_base, g_query * span + times.end, "right")
    count = hi - lo
    twice = np.zeros(queries, np.int64)
    some = count >= max(minimum, 1)
    if some.any():
        lo_s, hi_s, n_s = lo[some], hi[some], count[some]
        # The lower and the upper middle of each window (the same one for an odd count).
        middle = _middles(
            ranks[order],
            len(durations),
            np.concatenate((lo_s, lo_s)),
            np.concatenate((hi_s, hi_s)),
            np.concatenate(((n_s - 1) // 2, n_s // 2)),
            run,
        )
        values = durations[middle]
        twice[some] = values[: len(n_s)] + values[len(n_s) :]
    return count.astype(np.int64), twice


def _middles(
    ranks: np.ndarray,
    distinct: int,
    lo: np.ndarray,
    hi: np.ndarray,
    k: np.ndarray,
    run: Callable[..., Future[Any]] | None,
    split_rows: int = SPLIT_ROWS,
) -> np.ndarray:
    """:func:`kth_in_ranges` over only the rows some range holds, and with ``run`` in two parts
    (from ``split_rows`` rows on).

    A level after the first asks for a few hundred windows, over the rows of whole groups: the
    rows no window holds are left out first (the wavelet's passes cost by the row). With ``run``,
    the rows are cut in two at the place nearest their middle that no range crosses (ranges lie
    inside one group, so a group's end always is one), and each part is searched in a thread of
    its own: numpy lets go of the interpreter in its passes."""
    n = len(ranks)
    # ends[p]: how many ranges start at p minus how many end there; its running sum counts the
    # ranges holding each row.
    ends = np.zeros(n + 1, np.int64)
    np.add.at(ends, lo, 1)
    np.add.at(ends, hi, -1)
    held = np.cumsum(ends[:n]) > 0
    kept = int(np.count_nonzero(held))
    if kept < n - n // 4:
        before = np.zeros(n + 1, np.int64)
        np.cumsum(held, out=before[1:])
        ranks, lo, hi, n = ranks[held], before[lo], before[hi], kept
    if run is None or len(k) < 2 or n < split_rows:
        return kth_in_ranges(ranks, distinct, lo, hi, k)
    # crossing[p]: the ranges with lo < p < hi.
    crossing = np.zeros(n + 1, np.int64)
    np.add.at(crossing, lo + 1, 1)
    np.add.at(crossing, hi, -1)
    free = np.flatnonzero(np.cumsum(crossing) == 0)
    cut = int(free[np.abs(free - n // 2).argmin()])
    first = hi <= cut
    if first.all() or not first.any():
        return kth_in_ranges(ranks, distinct, lo, hi, k)
    second = ~first
    one = run(kth_in_ranges, ranks[:cut], distinct, lo[first], hi[first], k[first])
    two = run(kth_in_ranges, ranks[cut:], distinct, lo[second] - cut, hi[second] - cut, k[second])
    found = np.empty(len(k), np.int64)
    found[first], found[second] = one.result(), two.result()
    return found


def kth_in_ranges(
    ranks: np.ndarray, distinct: int, lo: np.ndarray, hi: np.ndarray, k: np.ndarray
) -> np.ndarray:
    """The k-th smallest (0-based) of ``ranks[lo:hi]`` for each (lo, hi, k), all at once (``ranks``
    are integers in ``[0, distinct)``): a wavelet matrix over them, built and descended one bit at
    a time (the queries follow their range into the zeros or the ones of each bit, which are
    stably partitioned, zeros first, for the next bit)."""
    # 32-bit positions and ranks while they fit: every pass reads and writes all the rows.
    index = np.int32 if len(ranks) < 2**31 - 1 else np.int64
    current, following = ranks.astype(index), np.empty(len(ranks), index)
    lo, hi, k = lo.astype(index), hi.astype(index), k.astype(index)
    found = np.zeros(len(k), np.int64)
    zeros_before = np.zeros(len(current) + 1, index)
    for bit in range(max(int(distinct - 1).bit_length(), 1) - 1, -1, -1):
        zero = np.right_shift(current, bit) & 1 == 0
        np.cumsum(zero, out=zeros_before[1:])
        total_zeros = int(zeros_before[-1])
        z_lo, z_hi = zeros_before[lo], zeros_before[hi]
        zeros_in = z_hi - z_lo
        left = k < zeros_in
        lo = np.where(left, z_lo, total_zeros + lo - z_lo)
        hi = np.where(left, z_hi, total_zeros + hi - z_hi)
        k = np.where(left, k, k - zeros_in)
        found |= (~left).astype(np.int64) << bit
        np.compress(zero, current, out=following[:total_zeros])
        np.compress(~zero, current, out=following[total_zeros:])
        current, following = following, current
    return found


# Arrow's own conversions to and from numpy (``to_numpy``, ``pa.array``) import pandas, a quarter
# of a CPU second in a command that needs nothing else of it: the arrays cross by their buffers.


def _ints(column: Any) -> np.ndarray:
    """An integer column without nulls (an Arrow array or chunked array) as int64."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = [np.from_dlpack(chunk.cast(pa.int64())) for chunk in chunks if len(chunk)]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def _arrow(values: np.ndarray, kind: pa.DataType, *, missing: np.ndarray | None = None) -> pa.Array:
    """``values`` (int64 or float64, as ``kind``) as an Arrow array, null where ``missing``."""
    data = np.ascontiguousarray(values, dtype=np.int64 if kind == pa.int64() else np.float64)
    if missing is None or not missing.any():
        return pa.Array.from_buffers(kind, len(data), [None, pa.py_buffer(data)])
    valid = pa.py_buffer(np.packbits(~missing, bitorder="little"))
    return pa.Array.from_buffers(kind, len(data), [valid, pa.py_buffer(data)], int(missing.sum()))


def _key_codes(base: pa.Table, cand: pa.Table, key: str) -> tuple[np.ndarray, int]:
    """Integer codes of one key column over the base rows and the candidates together, equal
    exactly where the values are equal (NULL is a value of its own, as a window's partition groups
    it: an entry of the dictionary), and how many codes there can be."""
    kind = base[key].type
    both = pa.chunked_array(base[key].chunks + cand[key].cast(kind).chunks, kind)
    if len(both) == 0:  # (encoding an empty column imports pandas)
        return np.zeros(0, np.int64), 1
    column = both.dictionary_encode(null_encoding="encode").combine_chunks()
    return _ints(column.indices), len(column.dictionary)


def _group_codes(
    codes: dict[str, tuple[np.ndarray, int]], keys: tuple[str, ...], n_base: int, n_cand: int, span: int
) -> tuple[np.ndarray, np.ndarray]:
    """One integer per row for a level's key columns (their codes in mixed radix), equal exactly
    where all the keys are equal, split into the base rows' and the candidates'. A code times
    ``span`` (:func:`range_medians`) must stay within 64 bits: where the next key would pass 2^62,
    the codes so far are made dense first (sorting them: the usual sizes never need it), so codes
    stay below the rows times a key's values, times ``span`` far below 2^62 at any size."""
    combined = np.zeros(n_base + n_cand, np.int64)  # no key: one group
    size = 1
    for key in keys:
        column, radix = codes[key]
        if size * radix * span >= 2**62:
            _, dense = np.unique(combined, return_inverse=True)
            combined, size = dense.astype(np.int64), int(dense.max()) + 1
        combined, size = combined * radix + column, size * radix
    return combined[:n_base], combined[n_base:]
