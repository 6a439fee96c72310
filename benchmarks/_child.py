"""Shared by the benchmark scripts: run a child process and measure its wall time and peak memory.

Peak memory is the child's maximum resident set size (``ru_maxrss`` from ``os.wait4``), which counts
DuckDB, numpy and Arrow buffers that tracemalloc does not see.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

COSELL = Path(sys.executable).with_name("cosell")


def run_child(args: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS in bytes of a child command; exit if it fails."""
    start = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert child.stderr is not None
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed: {child.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def demo_dataset(size: int, base: Path) -> Path:
    """The demo dataset of ``size`` opportunities under ``base`` (generated once, then reused)."""
    out = base / f"demo-{size}"
    if not (out / "demo_manifest.json").exists():
        run_child([str(COSELL), "demo", "--out", str(out), "--size", str(size), "--seed", "7"])
    return out


def count_rows(csv_path: Path) -> int:
    """Data rows of a CSV file without quoted line breaks (the demo's files have none)."""
    with csv_path.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b"")) - 1
