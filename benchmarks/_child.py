"""Shared by the benchmark scripts: run a child process and measure its wall time and peak memory.

Peak memory is the child's maximum resident set size (``ru_maxrss`` from ``os.wait4``), which counts
DuckDB, numpy and Arrow buffers that tracemalloc does not see.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COSELL = Path(sys.executable).with_name("cosell")


def run_child(
    args: list[str], env: dict[str, str] | None = None, stdin: str | None = None
) -> tuple[float, int]:
    """Wall seconds and peak RSS in bytes of a child command (fed ``stdin`` if given); exit if it fails."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty child cannot block on it
        start = time.perf_counter()
        child = subprocess.Popen(
            args,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env=env,
        )
        if stdin is not None:
            assert child.stdin is not None
            child.stdin.write(stdin.encode())
            child.stdin.close()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(args)} failed: {errors.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def compile_bytecode() -> None:
    """Compile cosell's modules to bytecode, as installing cosell from a wheel does (pip compiles
    them). An editable install run under ``PYTHONDONTWRITEBYTECODE`` (this repository's development
    setup) otherwise compiles every module it loads from source at every start: about a tenth of a
    second of a 100-deal run that no installed cosell pays. Files already compiled are kept."""
    import compileall

    import cosell

    compileall.compile_dir(str(Path(cosell.__file__).parent), quiet=1)


def demo_dataset(size: int, base: Path, seed: int = 7) -> Path:
    """The demo dataset of ``size`` opportunities under ``base`` (generated once, then reused)."""
    out = base / f"demo-{size}-{seed}"
    if not (out / "demo_manifest.json").exists():
        run_child([str(COSELL), "demo", "--out", str(out), "--size", str(size), "--seed", str(seed)])
    return out


def count_rows(csv_path: Path) -> int:
    """Data rows of a CSV file without quoted line breaks (the demo's files have none)."""
    with csv_path.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b"")) - 1
