"""How long ``cosell report cfo`` and ``cosell report qbr`` take, and their peak memory.

On a private copy of ``attributed_workspace(size)`` (the demo dataset imported and attributed as of
its as-of instant; 1,000,000 deals by default), each report runs in a child process as a user would
run it, in json and in html, as of the dataset's as-of instant (default period: 2026-Q3; the CFO
dashboard also computes the eight quarters of its trend). Every figure is computed in the database:
one deal table per report, then GROUP BY queries; no deal is read into Python.

Target (issue 7): under 15 s each on this 2-core machine. Reproduce:

    .venv/bin/python benchmarks/reports.py [SIZE ...] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _child import COSELL, run_child
from _workspace import as_of_of, attributed_workspace, copy_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000_000])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command (the best is printed)")
    args = parser.parse_args()
    print(f"{'opportunities':>14} {'command':<32} {'seconds':>8} {'peak MiB':>9} {'output KiB':>10}")
    for size in args.sizes:
        shared = attributed_workspace(size)
        as_of = as_of_of(size)
        with tempfile.TemporaryDirectory(prefix="cosell-bench-") as tmp:
            # A copy: the shared workspace may be open in another benchmark, and DuckDB lets one
            # process at a time open a file for writing.
            ws = str(copy_of(shared, Path(tmp) / "ws.duckdb"))
            env = {**os.environ, "COSELL_NOW": as_of}
            for report in ("cfo", "qbr"):
                for fmt in ("json", "html"):
                    out = Path(tmp) / f"{report}.{fmt}"
                    command = [str(COSELL), "report", report, "--workspace", ws, "--known-at", as_of,
                               "--format", fmt, "--out", str(out)]  # fmt: skip
                    best = min((run_child(command, env) for _ in range(args.repeat)), key=lambda r: r[0])
                    seconds, peak = best
                    print(
                        f"{size:>14,} {'report ' + report + ' --format ' + fmt:<32} {seconds:>8.1f} "
                        f"{peak / 2**20:>9,.0f} {out.stat().st_size / 1024:>10,.0f}",
                        flush=True,
                    )
    print(f"reproduce: {Path(sys.executable).name} benchmarks/reports.py {' '.join(map(str, args.sizes))}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other processes share the 2 cores)")


if __name__ == "__main__":
    main()
