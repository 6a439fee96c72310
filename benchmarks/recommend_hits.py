"""Benchmark: would `cosell accounts recommend` have named the right partner when the deal was new?

On a demo workspace (built with ``cosell demo`` unless ``--workspace`` is given), for every deal the
newest attribution run calls partner-sourced or partner-influenced, rank the partners as of the
deal's creation (:func:`cosell.accounts.recommend.recommend` with ``as_of = created_at``: touches,
registrations and closed deals up to that instant only) and check whether the deal's primary partner
(the one that later sourced or influenced it) is in the top 3. Prints the hit rate with counts,
by tier, and beside it:

- the same ranking with the partners' own account lists (partner_accounts carries no date; the demo
  writes a partner's status from how its deals ended, so using it looks into the future);
- a naive ranking for comparison: the 3 partners with the most attributed won deals closed before
  the deal's creation, whatever the account.

Reproduce:

    .venv/bin/python benchmarks/recommend_hits.py [--size 3000] [--seed 7] [--workspace PATH]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path

from cosell.accounts.history import read_history
from cosell.accounts.recommend import History, recommend
from cosell.policy import Policy
from cosell.store.versions import attribution_views, latest_run_id
from cosell.store.workspace import as_of_views, open_workspace

TIERS = ("sourced", "influenced")


def _naive_top3(history: History, created_at: datetime) -> list[str]:
    wins: Counter[str] = Counter()
    for d in history.deals:
        if d.outcome == "won" and d.closed_at is not None and d.closed_at <= created_at:
            wins.update(d.partners)
    return [p for p, _ in sorted(wins.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]


def _read(path: Path) -> tuple[History, list[tuple[str, str, str]], int]:
    """The history the ranking reads, and the partner-sourced or -influenced deals of the newest run
    with their primary partner."""
    ws = open_workspace(str(path), create=False, read_only=True)
    try:
        con = ws.con
        as_of_views(con, None)
        run_id = latest_run_id(con, None)
        if run_id is None:
            raise SystemExit(f"{path}: no attribution run (cosell attribute)")
        attribution_views(con, None)
        history = read_history(con, Policy(), attributed=True)
        deals = [
            (str(o), str(t), str(p))
            for o, t, p in con.execute(
                "SELECT opportunity_id, tier, primary_partner_id FROM v_attribution "
                "WHERE tier IN ('sourced', 'influenced') AND primary_partner_id <> '' ORDER BY opportunity_id"
            ).fetchall()
        ]
    finally:
        ws.close()
    return history, deals, run_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workspace", help="an attributed workspace (default: build the demo)")
    args = parser.parse_args()
    if args.workspace:
        history, deals, run_id = _read(Path(args.workspace))
        where = args.workspace
    else:
        with tempfile.TemporaryDirectory(prefix="cosell-recommend-") as tmp:
            base = Path(tmp) / "demo"
            cosell = Path(sys.executable).with_name("cosell")
            cmd = [
                str(cosell),
                "demo",
                "--dir",
                str(base),
                "--size",
                str(args.size),
                "--seed",
                str(args.seed),
            ]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            history, deals, run_id = _read(base / "cosell.duckdb")
        where = f"the demo (size {args.size:,}, seed {args.seed})"
    policy = Policy()
    undated = history
    strict = History(history.deals, history.touches, history.registrations, {}, history.partner_names)
    counts: dict[str, Counter[str]] = {name: Counter() for name in ("strict", "lists", "naive")}
    total: Counter[str] = Counter()
    for opp, tier, partner in deals:
        deal = history.by_id[str(opp)]
        at = deal.created_at
        total[tier] += 1
        for name, source in (("strict", strict), ("lists", undated)):
            top = [
                r.partner_id
                for r in recommend(source, deal.opportunity_id, at, lookback_days=policy.lookback_days)[:3]
            ]
            counts[name][tier] += partner in top
        counts["naive"][tier] += partner in _naive_top3(history, at)
    n = sum(total.values())
    print(f"{n:,} partner-sourced or -influenced deals in run {run_id} of {where}")
    labels = {
        "strict": "recommend, as of each deal's creation",
        "lists": "  + today's partner account lists (undated: peeks)",
        "naive": "naive: 3 partners with most wins so far",
    }
    for name, label in labels.items():
        hits = sum(counts[name].values())
        by_tier = ", ".join(f"{t} {counts[name][t]:,}/{total[t]:,}" for t in TIERS)
        print(f"{label:<52} top-3 hit rate {hits / n:6.1%} ({hits:,} of {n:,}; {by_tier})")
    again = f"--workspace {args.workspace}" if args.workspace else f"--size {args.size} --seed {args.seed}"
    print(f"\nreproduce: .venv/bin/python benchmarks/recommend_hits.py {again}")


if __name__ == "__main__":
    main()
