"""Per-deal work at size: ``cosell explain`` of one deal, and accepting 100 suggested fixes.

Both read the deal's own rows and its cohort's baseline as the stored run holds it, so they should
cost about the same at 10k or 1M deals (issue 13: explain under 1 s as a whole process, 100 fixes
under 10 s, at 1M). The workspace is ``attributed_workspace(size)`` (the demo dataset imported and
attributed as of its as-of instant, built once and shared); the fixes are accepted on a copy,
after a reconciliation of October 2026 recorded their findings. Each explain is timed in a child
process (Python start, imports, opening the workspace, reading, printing), best of three.

Reproduce: ``.venv/bin/python benchmarks/per_deal.py [SIZE ...] [--fixes N]``
(``COSELL_BENCH_DIR`` chooses where the shared workspaces live, default /tmp/cosell-bench).
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

EXPLAIN_TARGET = 1.0  # seconds, whole process, at 1M deals
FIXES_TARGET = 10.0  # seconds for 100 fixes at 1M deals


def _deals(ws: str) -> dict[str, str]:
    """One deal of each kind worth explaining: accelerated (reads its cohort), sourced, none."""
    con = duckdb.connect(ws, read_only=True)
    try:
        out = {}
        for tier in ("accelerated", "sourced", "none"):
            row = con.execute(
                "SELECT min(opportunity_id) FROM attribution_history WHERE tier = ?", [tier]
            ).fetchone()
            if row and row[0]:
                out[tier] = str(row[0])
        return out
    finally:
        con.close()


def _open_ids(ws: str, n: int) -> tuple[list[str], str]:
    con = duckdb.connect(ws, read_only=True)
    try:
        rows = con.execute(
            "SELECT finding_id FROM findings WHERE suggested_tier IS NOT NULL ORDER BY finding_id LIMIT ?",
            [n],
        ).fetchall()
        return [r[0] for r in rows], first_user(con, "partner_ops") or "bench"
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000_000])
    parser.add_argument("--fixes", type=int, default=100, help="how many suggested fixes to accept")
    args = parser.parse_args()
    print(f"{'opportunities':>14} {'what':<34} {'seconds':>8} {'peak MiB':>9} {'target':>8}")
    for size in args.sizes:
        shared = attributed_workspace(size)
        as_of = as_of_of(size)
        env = {**os.environ, "COSELL_NOW": "2026-11-02T00:00:00Z"}
        for tier, deal in _deals(str(shared)).items():
            best = min(
                run_child([str(COSELL), "explain", deal, "--workspace", str(shared)], env) for _ in range(3)
            )
            target = f"< {EXPLAIN_TARGET:.0f} s" if size >= 1_000_000 else ""
            print(f"{size:>14,} {'explain ' + tier + ' ' + deal:<34} {best[0]:>8.2f} "
                  f"{best[1] / 2**20:>9,.0f} {target:>8}")  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="cosell-bench-") as tmp:
            ws = str(copy_of(shared, Path(tmp) / "ws.duckdb"))
            run_child(
                [str(COSELL), "reconcile", "--workspace", ws, "--known-at", as_of, "--format", "json"], env
            )
            ids, reviewer = _open_ids(ws, args.fixes)
            seconds, peak = run_child(
                [str(COSELL), "findings", "accept", *ids, "--workspace", ws, "--by", reviewer,
                 "--reason", "benchmark"],
                env,
            )  # fmt: skip
            target = f"< {FIXES_TARGET:.0f} s" if size >= 1_000_000 else ""
            print(f"{size:>14,} {'accept ' + str(len(ids)) + ' fixes (1 batch)':<34} {seconds:>8.2f} "
                  f"{peak / 2**20:>9,.0f} {target:>8}")  # fmt: skip
    print(
        f"machine: {os.cpu_count()} CPUs; command: .venv/bin/python benchmarks/per_deal.py "
        + " ".join(map(str, args.sizes))
        + f" --fixes {args.fixes}"
    )


if __name__ == "__main__":
    main()
