"""How long ``cosell demo --out`` takes, and its peak memory, for 100,000 and 1,000,000 opportunities.

Peak memory is the child process's maximum resident set size (``ru_maxrss`` from ``os.wait4``), which
counts numpy and Arrow buffers that tracemalloc does not see.

Reproduce: ``.venv/bin/python benchmarks/demo_generate.py [SIZE ...] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COSELL = Path(sys.executable).with_name("cosell")


def run(size: int, out: Path) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in bytes and bytes written by ``cosell demo --out OUT --size SIZE``."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [str(COSELL), "demo", "--out", str(out), "--size", str(size), "--seed", "7"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"cosell demo --size {size} failed with status {status}")
    written = sum(p.stat().st_size for p in out.iterdir())
    return seconds, usage.ru_maxrss * 1024, written  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--keep", type=Path, help="write under this folder and keep the files")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="cosell-bench-"))
    print(f"{'opportunities':>14} {'touches':>12} {'wall s':>8} {'peak RSS MiB':>13} {'written MiB':>12}")
    try:
        for size in args.sizes:
            out = base / f"demo-{size}"
            seconds, peak, written = run(size, out)
            with (out / "touches.csv").open("rb") as f:
                touches = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b"")) - 1
            print(
                f"{size:>14,} {touches:>12,} {seconds:>8.1f} {peak / 2**20:>13,.0f} {written / 2**20:>12,.0f}"
            )
            if not args.keep:
                shutil.rmtree(out)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print(
        f"machine: {os.cpu_count()} CPUs; command: .venv/bin/python benchmarks/demo_generate.py {' '.join(map(str, args.sizes))}"
    )


if __name__ == "__main__":
    main()
