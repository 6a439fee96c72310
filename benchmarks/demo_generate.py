"""How long ``cosell demo --out`` takes, and its peak memory, for 100,000 and 1,000,000 opportunities.

Peak memory is the child process's maximum resident set size (``ru_maxrss`` from ``os.wait4``), which
counts numpy and Arrow buffers that tracemalloc does not see.

Reproduce: ``.venv/bin/python benchmarks/demo_generate.py [SIZE ...] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _child import COSELL, count_rows, run_child


def run(size: int, out: Path) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in bytes and bytes written by ``cosell demo --out OUT --size SIZE``."""
    seconds, peak = run_child([str(COSELL), "demo", "--out", str(out), "--size", str(size), "--seed", "7"])
    written = sum(p.stat().st_size for p in out.iterdir())
    return seconds, peak, written


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
            touches = count_rows(out / "touches.csv")
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
