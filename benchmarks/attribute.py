"""Benchmark: ``cosell attribute --data DIR --out DIR`` against DuckDB's scan floor.

For each size it generates a demo dataset (``cosell.data.demo.generate_dataset``: about 20
touches per opportunity; cached under ``--work``), then runs, each in its own child process:

- ``cosell attribute --data DIR --out OUT`` (import into memory, attribute, write CSV);
- the import alone (``cosell.data.load.load_dataset``: the unversioned import into ``:memory:``
  that ``--data`` runs do; the import's share of the above);
- the scan floor: DuckDB alone reading the same CSV tables and joining touches to their
  opportunities (by id, and by account within the window) keeping the earliest partner and direct
  touch per deal.

It prints wall time, peak memory (``ru_maxrss`` of that child) and the ratio to the floor, and the
command that reproduces the figures. Targets (SPEC section 10): ratio <= 3 and peak < 4 GiB at 1M.

    .venv/bin/python benchmarks/attribute.py --sizes 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _child import count_rows, demo_dataset, run_child

FLOOR_SQL = """
SET TimeZone = 'UTC';
CREATE TABLE o AS SELECT * FROM read_csv('{d}/opportunities.csv', all_varchar = true);
CREATE TABLE t AS SELECT * FROM read_csv('{d}/touches.csv', all_varchar = true);
CREATE TABLE sh AS SELECT * FROM read_csv('{d}/stage_history.csv', all_varchar = true);
CREATE TABLE a AS SELECT * FROM read_csv('{d}/accounts.csv', all_varchar = true);
CREATE TABLE l AS SELECT * FROM read_csv('{d}/leads.csv', all_varchar = true);
CREATE TABLE r AS SELECT * FROM read_csv('{d}/deal_registrations.csv', all_varchar = true);
CREATE TABLE op AS SELECT * FROM read_csv('{d}/opportunity_partners.csv', all_varchar = true);
CREATE TABLE deals AS
  SELECT o.opportunity_id, o.account_id, epoch_us(o.created_at::TIMESTAMPTZ) AS c,
         coalesce(epoch_us(o.close_date::TIMESTAMPTZ), epoch_us(TIMESTAMPTZ '{as_of}')) AS x
  FROM o;
CREATE TABLE tt AS
  SELECT touch_id, actor, nullif(opportunity_id, '') AS opp, account_id,
         epoch_us(occurred_at::TIMESTAMPTZ) AS ts FROM t;
SELECT count(*), count(first_partner), count(first_direct) FROM (
  SELECT opportunity_id,
         min(ts) FILTER (WHERE actor = 'partner') AS first_partner,
         min(ts) FILTER (WHERE actor = 'direct') AS first_direct
  FROM (
    SELECT d.opportunity_id, tt.actor, tt.ts FROM tt JOIN deals d ON tt.opp = d.opportunity_id
    UNION ALL
    SELECT d.opportunity_id, tt.actor, tt.ts FROM tt JOIN deals d
      ON tt.opp IS NULL AND tt.account_id = d.account_id
     AND tt.ts BETWEEN d.c - {lookback} AND greatest(d.x, d.c)
  ) GROUP BY opportunity_id
);
"""

_FLOOR_CHILD = """
import sys, duckdb
con = duckdb.connect(':memory:')
for statement in sys.stdin.read().split(';'):
    if statement.strip():
        con.execute(statement).fetchall()
"""


_IMPORT_CHILD = """
import sys
from cosell.data.load import load_dataset
load_dataset(sys.argv[1]).close()
"""


def measure(cmd: list[str], stdin: str | None = None) -> tuple[float, float]:
    """Wall seconds and peak resident memory in GiB of a child command."""
    seconds, peak = run_child(cmd, stdin=stdin)
    return seconds, peak / 2**30


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cosell-bench"))
    parser.add_argument("--skip-import-only", action="store_true", help="Do not time the import alone.")
    args = parser.parse_args()

    from cosell.data.demo.clock import AS_OF, instant
    from cosell.instants import format_instant
    from cosell.policy import Policy

    as_of = format_instant(instant(AS_OF))
    cosell = str(Path(sys.executable).parent / "cosell")
    lookback = Policy().lookback_days * 86_400_000_000
    results = []
    for size in args.sizes:
        print(f"{size:,} opportunities", flush=True)
        data = demo_dataset(size, args.work, args.seed)
        touches = count_rows(data / "touches.csv")
        out = args.work / f"out-{size}"
        floor_sql = FLOOR_SQL.format(d=data, as_of=as_of, lookback=lookback)
        floor, floor_mem = measure([sys.executable, "-c", _FLOOR_CHILD], stdin=floor_sql)
        print(f"  scan floor            {floor:8.1f}s  peak {floor_mem:5.2f} GiB", flush=True)
        wall, mem = measure([cosell, "attribute", "--data", str(data), "--out", str(out), "--as-of", as_of])
        print(
            f"  cosell attribute      {wall:8.1f}s  peak {mem:5.2f} GiB  ratio {wall / floor:5.2f}",
            flush=True,
        )
        row = {
            "opportunities": size,
            "touches": touches,
            "floor_s": round(floor, 1),
            "attribute_s": round(wall, 1),
        }
        row |= {"peak_gib": round(mem, 2), "ratio": round(wall / floor, 2)}
        if not args.skip_import_only:
            imp, imp_mem = measure([sys.executable, "-c", _IMPORT_CHILD, str(data)])
            engine = wall - imp
            print(
                f"  of which import       {imp:8.1f}s  peak {imp_mem:5.2f} GiB; "
                f"engine + write {engine:.1f}s, ratio without import {engine / floor:5.2f}",
                flush=True,
            )
            row |= {
                "import_s": round(imp, 1),
                "engine_s": round(engine, 1),
                "ratio_engine": round(engine / floor, 2),
            }
        results.append(row)
    print(json.dumps(results, indent=1))
    sizes = " ".join(str(s) for s in args.sizes)
    print(
        f"reproduce: .venv/bin/python benchmarks/attribute.py --sizes {sizes} --seed {args.seed} --work {args.work}"
    )


if __name__ == "__main__":
    main()
