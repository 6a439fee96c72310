"""Benchmark: compute and post a period of partner pay and rep commission, then post it again.

On a private copy of ``attributed_workspace(size)`` (the demo dataset imported and attributed), with
the example plan loaded as in force since 2024-01-01 (so that every won deal is priced, the worst
case), it times ``cosell payouts post --period 2026-10`` (every won deal closed up to the end of
October priced and posted: the first posting of a workspace) and the same command again with
nothing changed (target: a few seconds, nothing added), then again after one accepted fix (every
input is compared, one deal is priced), each in a child process with its peak RSS. Then it proposes
the payout run for the period (one line per party).

    .venv/bin/python benchmarks/pay.py                 # 1,000,000 opportunities
    .venv/bin/python benchmarks/pay.py --size 100000
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from _child import COSELL, run_child
from _workspace import DEFAULT_BASE, as_of_of, attributed_workspace, copy_of
from cosell.instants import parse_instant
from cosell.pay.plan_parse import example_plan_text
from cosell.results import AttributionRow, CreditRow
from cosell.store.ledger import ensure_ledger_schema
from cosell.store.plans import migration_plans
from cosell.store.users import first_user
from cosell.store.versions import save_partial_run

PERIOD = "2026-10"
TARGET_POST = 120.0


def _counts(path: Path) -> tuple[int, int, int, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute(
            "SELECT count(*), count(DISTINCT opportunity_id), count(DISTINCT party_kind || party_id), "
            "coalesce(sum(amount), 0) FROM ledger_entries"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2]), f"{row[3]:,.2f}"


def _accept_a_fix(path: Path, as_of: str) -> str:
    """What an accepted reconciliation fix stores: a partial attribution version of one won deal in
    tier none, now sourced by the first partner. Returns the deal's id."""
    con = duckdb.connect(str(path))
    try:
        row = con.execute(
            "SELECT a.opportunity_id, a.policy_version, a.model, o.amount, coalesce(o.currency, 'USD') "
            "FROM attribution_history a JOIN opportunities o ON o.opportunity_id = a.opportunity_id "
            "AND o._valid_to IS NULL WHERE a.tier = 'none' AND o.stage = 'Closed Won' ORDER BY 1 LIMIT 1"
        ).fetchone()
        partner = con.execute("SELECT min(partner_id) FROM partners").fetchone()
        assert row is not None and partner is not None
        opp, policy_version, model, amount, currency = row
        when = parse_instant(as_of)
        save_partial_run(
            con,
            [AttributionRow(opp, "sourced", partner[0], "", "", "", "", "OVR", "", as_of, policy_version, model)],
            [CreditRow(opp, partner[0], "sourcer", "1.000000", str(amount), currency)],
            kind="fix", by_user="bench", reason="benchmark: a fix accepted", policy_version=policy_version,
            model=model, as_of=when, run_at=when,
        )  # fmt: skip
    finally:
        con.close()
    return str(opp)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    shared = attributed_workspace(args.size, args.seed)
    base = DEFAULT_BASE / f"pay-{args.size}-{args.seed}"
    base.mkdir(parents=True, exist_ok=True)
    work = base / "ws.duckdb"
    work.with_name(work.name + ".wal").unlink(missing_ok=True)
    copy_of(shared, work)
    # The shared workspace may predate schema steps 6 to 8 (recorded while they were still empty):
    # create the plan and ledger tables, as a workspace made by this release has them.
    con = duckdb.connect(str(work))
    try:
        migration_plans(con)
        ensure_ledger_schema(con)
        # Loading plans and posting need a user with a pay role (docs/pay-ledger.md): the first finance user.
        operator = first_user(con, "finance") or "bench"
    finally:
        con.close()
    plan = base / "plan.toml"
    plan.write_text(example_plan_text().replace("effective_from = 2026-01-01", "effective_from = 2024-01-01"))
    as_of = as_of_of(args.size, args.seed)
    env = {**os.environ, "COSELL_NOW": as_of, "COSELL_USER": operator}
    ws = ["--workspace", str(work)]
    run_child([str(COSELL), "plans", "load", str(plan), "--reason", "benchmark", *ws], env=env)

    post = [str(COSELL), "payouts", "post", "--period", PERIOD, "--reason", "benchmark", *ws]
    first_s, first_rss = run_child(post, env=env)
    entries, deals, parties, total = _counts(work)
    again_s, again_rss = run_child(post, env=env)
    entries_again = _counts(work)[0]
    fixed = _accept_a_fix(work, as_of)
    fix_s, fix_rss = run_child(post, env=env)
    entries_fix = _counts(work)[0]
    run_s, run_rss = run_child(
        [str(COSELL), "payouts", "run", "--period", PERIOD, "--reason", "benchmark", "--format", "csv", *ws],
        env=env,
    )

    gib = 1 << 30
    print(f"pay benchmark: {args.size:,} opportunities (seed {args.seed}), period {PERIOD}, as of {as_of}")
    print(f"  ledger after the first posting: {entries:,} entries on {deals:,} deals for {parties:,} parties, "
          f"net {total} USD")  # fmt: skip
    print(f"  post {PERIOD} (first posting):   {first_s:7.1f} s, peak {first_rss / gib:.2f} GiB "
          f"(target < {TARGET_POST:.0f} s)")  # fmt: skip
    print(f"  post {PERIOD} again (no change): {again_s:7.1f} s, peak {again_rss / gib:.2f} GiB, "
          f"{entries_again - entries} entries added (target: a few seconds, none)")  # fmt: skip
    print(f"  post again after one fix:       {fix_s:7.1f} s, peak {fix_rss / gib:.2f} GiB, "
          f"{entries_fix - entries_again} entries added ({fixed}; every input compared, one deal priced)")  # fmt: skip
    print(f"  propose the payout run:         {run_s:7.1f} s, peak {run_rss / gib:.2f} GiB")
    print("  (each a child process, Python start-up and imports included)")
    print(f"reproduce: {sys.executable} benchmarks/pay.py --size {args.size} --seed {args.seed}")
    if entries_again != entries:
        raise SystemExit("the second posting added entries: it must add nothing")


if __name__ == "__main__":
    main()
