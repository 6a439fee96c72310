"""Shared test fixtures."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI runs more examples than a developer's quick loop; both are deterministic per test.
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("dev", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# The engine keeps its compiled plans on disk (cosell.attribution.engine_plan); the tests keep
# theirs in a folder of their own, not in the user's cache. Plans are keyed by the engine's source,
# so a plan compiled by another version of the code is never read.
os.environ.setdefault("COSELL_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"cosell-tests-{os.getuid()}"))


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cosell demo --size 200` built once per test process, for tests that only read it (the
    readers beside another reader, simulate over the demo): its workspace file. Never write to it."""
    from typer.testing import CliRunner

    from cosell.cli.app import app

    base = tmp_path_factory.mktemp("small-demo")
    done = CliRunner().invoke(app, ["demo", "--dir", str(base), "--size", "200"])
    assert done.exit_code == 0, done.output
    return base / "cosell.duckdb"
