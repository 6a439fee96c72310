"""A demo workspace with one stored attribution run, built once per size and seed and then reused.

Benchmarks of what reads attribution (gate, reconcile, reports, pay) start from the same workspace:
``attributed_workspace(1_000_000)`` generates the demo dataset, imports it as known at its as-of
instant and stores an attribution run, under a file lock so that two benchmarks running at once
build it only once. Callers that write to the workspace should work on a copy (:func:`copy_of`).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path

from _child import COSELL, demo_dataset, run_child

DEFAULT_BASE = Path(os.environ.get("COSELL_BENCH_DIR", "/tmp/cosell-bench"))


def attributed_workspace(size: int, seed: int = 7, base: Path = DEFAULT_BASE) -> Path:
    """Path of ``ws-<size>-<seed>.duckdb``: the demo dataset imported and attributed (as of its as-of)."""
    base.mkdir(parents=True, exist_ok=True)
    target = base / f"ws-{size}-{seed}.duckdb"
    with (base / f".ws-{size}-{seed}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        data = demo_dataset(size, base, seed)
        as_of = json.loads((data / "demo_manifest.json").read_text())["as_of"]
        building = target.with_suffix(".building")
        building.unlink(missing_ok=True)
        env = {**os.environ, "COSELL_NOW": as_of}
        run_child([str(COSELL), "import", "canonical", str(data), "--workspace", str(building)], env=env)
        run_child([str(COSELL), "attribute", "--workspace", str(building), "--as-of", as_of], env=env)
        building.rename(target)
    return target


def copy_of(workspace: Path, to: Path) -> Path:
    """A private copy of a workspace file (benchmarks that write must not change the shared one)."""
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(workspace, to)
    return to


def as_of_of(size: int, seed: int = 7, base: Path = DEFAULT_BASE) -> str:
    """The as-of instant (ISO 8601) of the demo dataset behind ``attributed_workspace(size, seed)``."""
    return str(json.loads((base / f"demo-{size}-{seed}" / "demo_manifest.json").read_text())["as_of"])
