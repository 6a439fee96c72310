"""How long ``cosell import canonical`` takes, and its peak memory, for the demo dataset at 100k and 1M.

Each size is generated once (``cosell demo --out``, kept under ``--data-dir``) and imported into a
fresh workspace file in a child process; then imported again unchanged (which must add nothing).

Reproduce: ``.venv/bin/python benchmarks/import_canonical.py [SIZE ...] [--data-dir DIR]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _child import COSELL, count_rows, demo_dataset, run_child


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--data-dir", type=Path, default=Path("bench-data"), help="where datasets are kept")
    args = parser.parse_args()
    print(f"{'opportunities':>14} {'touches':>12} {'import s':>9} {'peak MiB':>9} {'re-import s':>12}")
    for size in args.sizes:
        data = demo_dataset(size, args.data_dir)
        with tempfile.TemporaryDirectory(prefix="cosell-bench-") as tmp:
            ws = str(Path(tmp) / "ws.duckdb")
            command = [str(COSELL), "import", "canonical", str(data), "--workspace", ws]
            env = {**os.environ, "COSELL_NOW": "2026-11-01T00:00:00Z"}
            seconds, peak = run_child(command, env)
            env["COSELL_NOW"] = "2026-11-02T00:00:00Z"
            again, _ = run_child(command, env)
        touches = count_rows(data / "touches.csv")
        print(f"{size:>14,} {touches:>12,} {seconds:>9.1f} {peak / 2**20:>9,.0f} {again:>12.1f}")
    print(
        f"machine: {os.cpu_count()} CPUs; command: .venv/bin/python benchmarks/import_canonical.py "
        + " ".join(map(str, args.sizes))
    )


if __name__ == "__main__":
    main()
