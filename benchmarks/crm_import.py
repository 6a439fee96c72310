"""How long ``cosell import salesforce`` takes next to ``cosell import canonical`` on the same deals.

The demo dataset of each size is written twice (``cosell demo --out``: canonical CSV, and with
``--crm salesforce``: a Data Loader export with its mapping), each imported into a fresh workspace
in a child process. Target (issue 14): the Salesforce import within 1.5x of the canonical one at
1M opportunities.

Reproduce: ``.venv/bin/python benchmarks/crm_import.py [SIZE ...] [--data-dir DIR]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _child import COSELL, count_rows, demo_dataset, run_child

TARGET = 1.5


def salesforce_export(size: int, data_dir: Path) -> Path:
    """The demo of ``size`` as a Salesforce export, written once under ``data_dir``."""
    folder = data_dir / f"salesforce-{size}"
    if not (folder / "salesforce-mapping.toml").exists():
        subprocess.run(
            [str(COSELL), "demo", "--out", str(folder), "--size", str(size), "--crm", "salesforce"],
            check=True,
            capture_output=True,
        )
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000])
    parser.add_argument("--data-dir", type=Path, default=Path("bench-data"), help="where datasets are kept")
    args = parser.parse_args()
    print(
        f"{'opportunities':>14} {'touches':>11} {'canonical s':>12} {'salesforce s':>13} {'ratio':>6} {'target':>7}"
    )
    for size in args.sizes:
        canonical = demo_dataset(size, args.data_dir)
        export = salesforce_export(size, args.data_dir)
        env = {**os.environ, "COSELL_NOW": "2026-11-01T00:00:00Z"}
        with tempfile.TemporaryDirectory(prefix="cosell-bench-") as tmp:
            base, _ = run_child(
                [
                    str(COSELL),
                    "import",
                    "canonical",
                    str(canonical),
                    "--workspace",
                    str(Path(tmp) / "a.duckdb"),
                ],
                env,
            )
            crm, _ = run_child(
                [
                    str(COSELL),
                    "import",
                    "salesforce",
                    str(export),
                    "--mapping",
                    str(export / "salesforce-mapping.toml"),
                    "--workspace",
                    str(Path(tmp) / "b.duckdb"),
                ],
                env,
            )
        touches = count_rows(canonical / "touches.csv")
        ratio = crm / base
        print(f"{size:>14,} {touches:>11,} {base:>12.1f} {crm:>13.1f} {ratio:>6.2f} {'<= ' + str(TARGET):>7}")
    print(
        f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; command: "
        ".venv/bin/python benchmarks/crm_import.py " + " ".join(map(str, args.sizes))
    )


if __name__ == "__main__":
    main()
