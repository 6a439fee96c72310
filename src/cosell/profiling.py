"""An opt-in timing log for the heavy paths (the engine's plan, the ``--data`` import).

Set ``COSELL_PROFILE`` to a file path and each timed step appends one tab-separated line to it:
what ran, its wall seconds (three decimals), the rows it made (empty when it made no table), the
CPU seconds the process spent meanwhile (user and system, every thread: against the wall, how many
cores the step kept busy) and when it started, in seconds since this module was loaded (early in
the command: the steps on one time line, nested and threaded ones included).
Unset (the default), nothing is timed and nothing is written. The log is for whoever makes cosell
faster (docs/benchmarks.md); it never feeds any output, so the elapsed seconds are read from the
process's monotonic counter, not from :mod:`cosell.clock`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

PROFILE_ENV = "COSELL_PROFILE"
_LOADED = time.perf_counter()


def enabled() -> bool:
    """Whether ``COSELL_PROFILE`` names a log file."""
    return bool((os.environ.get(PROFILE_ENV) or "").strip())


@contextmanager
def timed(what: str, rows: Callable[[], int | None] | None = None) -> Iterator[None]:
    """Time the block and log ``what`` with its seconds and ``rows()`` (called after the block,
    only when profiling). Without ``COSELL_PROFILE`` it only runs the block."""
    path = (os.environ.get(PROFILE_ENV) or "").strip()
    if not path:
        yield
        return
    start, cpu = time.perf_counter(), _cpu_seconds()
    yield
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    count = rows() if rows is not None else None
    try:
        with open(path, "a", encoding="utf-8") as log:
            log.write(
                f"{what}\t{seconds:.3f}\t{'' if count is None else count}\t{cpu:.3f}\t{start - _LOADED:.3f}\n"
            )
    except OSError:  # a profile that cannot be written never fails the run
        pass


def _cpu_seconds() -> float:
    """The CPU seconds this process has used so far (user and system, all its threads)."""
    used = os.times()
    return used.user + used.system
