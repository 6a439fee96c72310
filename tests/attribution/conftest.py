"""Fixtures shared by the attribution tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cosell.attribution import engine_build
from cosell.attribution.engine_plan import Plan
from cosell.attribution.engine_plan_cache import PLANS
from cosell.cache_folder import CACHE_ENV

sys.path.insert(0, str(Path(__file__).parent))
from plan_support import suite_plan


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """Counts the plans compiled; plans go to an empty folder and none is held in memory. A compile
    gives the suite's plan of the same key (:func:`plan_support.suite_plan`): the cache under test
    is this folder's, not the suite's."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    PLANS.clear()
    made: list[str] = []

    def counting(*args: Any, **kwargs: Any) -> Plan:
        made.append("built")
        return suite_plan(*args, **kwargs)

    monkeypatch.setattr(engine_build, "build_plan", counting)
    yield made
    PLANS.clear()
