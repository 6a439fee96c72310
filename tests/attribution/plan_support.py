"""The plans the suite compiles, at most once each, for the tests of a plan cache.

Those tests count the compiles of a cache of their own (a folder of their own, nothing in memory):
a damaged file, a cleared cache, another key each ask for the plan again. Each such request goes
through the cache's real path (``PlanCache.get``, its files, the key) and ends in
:func:`suite_plan`, which gives what ``engine_build.build_plan`` gives for the same arguments
without a second Ibis compile of a plan the suite already has. The tests that need a fresh compile
call the builder itself (``BUILD``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cosell.attribution import engine_build
from cosell.attribution.engine_params import Shape
from cosell.attribution.engine_plan import Plan
from cosell.attribution.engine_plan_cache import PlanCache, plan_key
from cosell.cache_folder import cache_folder
from cosell.engine import DUCKDB, Dialect, engine_version

# The builder itself, as it is before a test replaces ``engine_build.build_plan`` with a counter.
BUILD = engine_build.build_plan


class _SuitePlans(PlanCache):
    """The suite's own plan cache: the folder every engine run in the tests reads and writes,
    wherever a test points ``$COSELL_CACHE_DIR`` afterwards."""

    def __init__(self, folder: Path | None) -> None:
        super().__init__()
        self._folder = folder

    def folder(self) -> Path | None:
        return self._folder


# Fixed when the tests are collected, before any test points the cache elsewhere.
_SUITE_PLANS = _SuitePlans(cache_folder("engine-plans"))


def suite_plan(
    inputs: Iterable[tuple[str, str, str]], shape: Shape, model: str, dialect: Dialect = DUCKDB
) -> Plan:
    """What ``BUILD(inputs, shape, model, dialect)`` gives, compiled at most once for the suite:
    the plan the suite's engine runs use (the same key), from the tests' plan cache, else
    compiled and kept there."""
    columns = tuple(inputs)
    key = plan_key(shape, model, columns, dialect.name, engine_version())
    return _SUITE_PLANS.get(key, lambda: BUILD(columns, shape, model, dialect))
