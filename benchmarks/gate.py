"""Benchmark: the stage gate's per-call latency with the demo workspace loaded (100k deals by default).

On a private copy of ``attributed_workspace(SIZE)`` (the demo dataset imported and attributed as of
its as-of instant) it:

1. applies the auto-tags and issues the influence prompts that the import would have (timed; the
   copy then holds declarations like a workspace imported by ``cosell import canonical``);
2. loads a :class:`cosell.hygiene.gate.GateIndex` once (timed);
3. makes ``--calls`` gate decisions on random deals and random stages (seeded), timing each call
   with ``perf_counter_ns``, and prints p50 / p99 / max per call;
4. for comparison, times ``declared_of`` (one SQL query per call: what ``cosell gate check`` does
   without an index) and the batch ``gate_audit``.

Target (issue 5): p99 under 5 ms per call in-process. Reproduce:

    .venv/bin/python benchmarks/gate.py [--size 100000] [--calls 20000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _workspace import as_of_of, attributed_workspace, copy_of
from cosell.data.demo.names import STAGES
from cosell.hygiene.autotag import apply_auto_tags
from cosell.hygiene.declared import declared_of
from cosell.hygiene.gate import GateIndex, gate_audit
from cosell.hygiene.prompts import refresh_prompts
from cosell.instants import parse_instant
from cosell.policy import Policy
from cosell.store.intake import ensure_intake_schema
from cosell.store.workspace import open_workspace


def percentile(sorted_values: list[int], pct: float) -> int:
    """Nearest-rank percentile of sorted values."""
    rank = max(1, round(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if args.calls < 10_000:
        raise SystemExit("--calls must be at least 10,000")

    policy = Policy()
    shared = attributed_workspace(args.size)
    as_of = parse_instant(as_of_of(args.size))
    with tempfile.TemporaryDirectory(prefix="cosell-gate-") as tmp:
        ws = open_workspace(copy_of(shared, Path(tmp) / "ws.duckdb"))
        # Workspaces built before migration 4 had content recorded it as a no-op.
        ensure_intake_schema(ws.con)

        start = time.perf_counter()
        tags = apply_auto_tags(ws, policy, as_of)
        tag_s = time.perf_counter() - start
        start = time.perf_counter()
        prompts = refresh_prompts(ws, policy, as_of)
        prompt_s = time.perf_counter() - start

        start = time.perf_counter()
        index = GateIndex.load(ws.con, policy)
        load_s = time.perf_counter() - start

        rng = random.Random(args.seed)
        ids = sorted(r[0] for r in ws.con.execute("SELECT opportunity_id FROM cur_opportunities").fetchall())
        moves = [(rng.choice(ids), rng.choice(STAGES)) for _ in range(args.calls)]
        timings: list[int] = []
        refused = 0
        for opportunity_id, stage in moves:
            t0 = time.perf_counter_ns()
            decision = index.check(opportunity_id, stage)
            timings.append(time.perf_counter_ns() - t0)
            refused += not decision.allowed
        timings.sort()

        sample = moves[:50]
        start = time.perf_counter()
        for opportunity_id, _ in sample:
            declared_of(ws.con, opportunity_id)
        query_ms = (time.perf_counter() - start) / len(sample) * 1000

        start = time.perf_counter()
        violations = gate_audit(ws.con, policy)
        audit_s = time.perf_counter() - start
        ws.close()

    print(f"workspace: {args.size:,} deals ({len(index):,} in the index), as of {as_of_of(args.size)}")
    print(f"auto-tag: {len(tags.tags):,} deals tagged in {tag_s:.2f} s (partial run {tags.run_id})")
    print(f"prompts: {len(prompts):,} issued in {prompt_s:.2f} s")
    print(f"GateIndex.load: {load_s:.2f} s")
    print(
        f"gate check: {args.calls:,} calls ({refused:,} refused): "
        f"p50 {percentile(timings, 50) / 1000:.1f} us, p99 {percentile(timings, 99) / 1000:.1f} us, "
        f"max {timings[-1] / 1000:.1f} us, mean {statistics.fmean(timings) / 1000:.1f} us"
    )
    print(f"declared_of (one SQL query per call, no index): {query_ms:.1f} ms per call (50 calls)")
    print(f"gate audit: {len(violations):,} violations in {audit_s:.2f} s")
    print(
        f"machine: {os.cpu_count()} CPUs; command: .venv/bin/python benchmarks/gate.py "
        f"--size {args.size} --calls {args.calls}"
    )


if __name__ == "__main__":
    main()
