"""How long ``cosell reconcile`` takes, and its peak memory, on an attributed demo workspace.

The workspace is ``attributed_workspace(size)`` (the demo dataset imported and attributed as of its
as-of instant, built once and shared), copied first because reconcile records its findings. Timed
in child processes: the default month (October 2026) the first time (findings recorded) and again
(nothing new), a fiscal quarter, and every closed-won deal of the workspace (``--period all``).
With ``--accept N`` it also times accepting N suggested fixes in one batch (one transaction).

Reproduce: ``.venv/bin/python benchmarks/reconcile.py [SIZE ...] [--accept N]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import duckdb

from cosell.store.users import first_user

sys.path.insert(0, str(Path(__file__).parent))
from _child import COSELL, run_child
from _workspace import as_of_of, attributed_workspace, copy_of


def _findings(ws: str) -> tuple[int, int]:
    """(deals checked, findings shown) of the newest reconciliation recorded in ``ws``."""
    con = duckdb.connect(ws, read_only=True)
    try:
        row = con.execute(
            "SELECT deals, findings FROM reconciliations ORDER BY reconciliation_id DESC LIMIT 1"
        ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])
    finally:
        con.close()


def _open_ids(ws: str, n: int) -> list[str]:
    con = duckdb.connect(ws, read_only=True)
    try:
        rows = con.execute(
            "SELECT finding_id FROM findings WHERE suggested_tier IS NOT NULL ORDER BY finding_id LIMIT ?",
            [n],
        ).fetchall()
        return [r[0] for r in rows]
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000_000])
    parser.add_argument("--accept", type=int, default=0, help="also time accepting N suggested fixes")
    args = parser.parse_args()
    print(f"{'opportunities':>14} {'what':<28} {'deals':>9} {'findings':>9} {'seconds':>8} {'peak MiB':>9}")
    for size in args.sizes:
        shared = attributed_workspace(size)
        as_of = as_of_of(size)
        with tempfile.TemporaryDirectory(prefix="cosell-bench-") as tmp:
            ws = str(copy_of(shared, Path(tmp) / "ws.duckdb"))
            env = {**os.environ, "COSELL_NOW": "2026-11-02T00:00:00Z"}
            base = [str(COSELL), "reconcile", "--workspace", ws, "--known-at", as_of, "--format", "json"]
            for what, extra in (
                ("month 2026-10 (first run)", []),
                ("month 2026-10 (again)", []),
                ("quarter 2026-Q3", ["--period", "2026-Q3"]),
                ("all closed-won deals", ["--period", "all"]),
            ):
                seconds, peak = run_child(base + extra, env)
                deals, findings = _findings(ws)
                print(
                    f"{size:>14,} {what:<28} {deals:>9,} {findings:>9,} {seconds:>8.1f} {peak / 2**20:>9,.0f}"
                )
            if args.accept:
                ids = _open_ids(ws, args.accept)
                command = [str(COSELL), "findings", "accept", *ids, "--workspace", ws, "--by", "bench",
                           "--reason", "benchmark"]  # fmt: skip
                users = duckdb.connect(ws, read_only=True)
                reviewer = first_user(users, "partner_ops")
                users.close()
                if reviewer is not None:
                    command[command.index("bench")] = reviewer
                seconds, peak = run_child(command, env)
                print(f"{size:>14,} {'accept ' + str(len(ids)) + ' fixes (1 batch)':<28} {'':>9} {len(ids):>9,} "
                      f"{seconds:>8.1f} {peak / 2**20:>9,.0f}")  # fmt: skip
    print(
        f"machine: {os.cpu_count()} CPUs; command: .venv/bin/python benchmarks/reconcile.py "
        + " ".join(map(str, args.sizes))
        + (f" --accept {args.accept}" if args.accept else "")
    )


if __name__ == "__main__":
    main()
