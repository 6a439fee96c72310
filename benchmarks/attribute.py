"""Benchmark: the speed targets of issue 13 (item 6), each measured beside its target.

At one size (default 1,000,000 opportunities, about 20 touches each; ``--deals N`` to scale down)
it generates the demo dataset once (``cosell demo``, kept under ``--work``) and measures, each in its
own child process (wall time, and peak memory as the child's ``ru_maxrss``):

- the DuckDB scan floor, best of three: DuckDB alone reading the same CSV tables and joining the
  touches to their opportunities (by id, and by account within the lookback) keeping the earliest
  partner and direct touch per deal;
- ``cosell attribute --data DIR --out DIR``, best of three: target at most 3x the floor, under
  4 GiB (the floors and the runs alternate, so both see the machine alike);
- ``cosell import canonical DIR`` into a new workspace file: target under 60 s;
- a run over 100 deals, the plan cache warm (target well under 1 s, read as at most 0.5 s):
  ``cosell attribute --data`` on a 100-deal demo and ``cosell attribute`` on a workspace holding
  it (each a whole process, best of three), and the engine alone in-process on the same data;
- the incremental re-run after 1% of deals change (target under 15% of a full run): on a workspace
  holding the dataset, a full ``cosell attribute``, an import changing 1% of the deals (amounts,
  stages and closes that move won direct-only deals in and out of the cohort baselines, new
  partner touches on their accounts), then ``cosell attribute --incremental`` against the full run
  of the same data, whose stored rows it must equal, best of three each (``_incremental.py``).

Compiled plans go to ``<work>/plan-cache`` (``COSELL_CACHE_DIR``), warmed once before anything is
timed; cosell's modules are compiled to bytecode first, as an installed cosell has them
(``_child.compile_bytecode``). Each figure is printed with its target and the command that
reproduces it alone (``--only``). The machine's load average is printed before and after: the
figures mean little when other jobs share the cores.

    .venv/bin/python benchmarks/attribute.py --deals 100000 --work /tmp/cosell-bench
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _child import COSELL, compile_bytecode, count_rows, demo_dataset, run_child
from _incremental import measure as measure_incremental

GIB = 2**30
STEPS = ("small", "floor", "attribute", "import", "incremental")
# "Well under a second" (issue 13) read as at most half of one: a figure just below a second is
# under it, not well under it (docs/benchmarks.md).
WELL_UNDER_S = 0.5
WELL_UNDER_TEXT = "well under 1 s (<= 0.5 s)"

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

# The engine alone on a 100-deal dataset, in-process: best of three runs, the plan cache warm.
_ENGINE_CHILD = """
import sys, time
from cosell.attribution.engine import attribute
from cosell.data.load import load_dataset
from cosell.instants import parse_instant
from cosell.store.workspace import as_of_views
ws = load_dataset(sys.argv[1])
as_of = parse_instant(sys.argv[2])
as_of_views(ws.con, None, existing_at=as_of)
best = None
for _ in range(3):
    start = time.perf_counter()
    attribute(ws.con, None, as_of, make_views=False)
    took = time.perf_counter() - start
    best = took if best is None else min(best, took)
ws.close()
print(best)
"""


@dataclass(frozen=True)
class Figure:
    """One measured figure beside its target."""

    what: str
    figure: str
    target: str
    met: bool | None  # None: no target, or not measured

    def lines(self) -> list[str]:
        """What was measured, then its figure beside its target and verdict: lines of at most 80
        columns (a figure is never split)."""
        indent = "  " + " " * (len(self.what) - len(self.what.lstrip()))
        out = textwrap.wrap(self.what.strip(), WIDTH, initial_indent=indent, subsequent_indent=indent + "    ",
                            break_long_words=False, break_on_hyphens=False)  # fmt: skip
        if self.figure:
            value = f"{indent}    {self.figure}"
            if self.target:
                value += f"; target {self.target}"
            if self.met is not None:
                value += ": met" if self.met else ": NOT MET"
            out.append(value)
        return out


WIDTH = 80


def command_lines(command: str, lead: str = "      reproduce: ") -> list[str]:
    """``command`` as shell lines of at most 80 columns, continued with a backslash."""
    words = textwrap.wrap(command, WIDTH - 2, initial_indent=lead, subsequent_indent=" " * (len(lead) - 6),
                          break_long_words=False, break_on_hyphens=False)  # fmt: skip
    return [w + " \\" for w in words[:-1]] + words[-1:]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deals", type=int, default=1_000_000, help="opportunities (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--work", type=Path, default=Path(os.environ.get("COSELL_BENCH_DIR", "/tmp/cosell-bench"))
    )
    parser.add_argument(
        "--floors",
        type=int,
        default=3,
        help="scan floors and attribution runs measured, alternately (the best of each is kept)",
    )
    parser.add_argument("--only", choices=STEPS, nargs="+", default=list(STEPS), help="measure only these")
    args = parser.parse_args()

    from cosell.data.demo.clock import AS_OF, instant
    from cosell.instants import format_instant
    from cosell.policy import Policy

    as_of = format_instant(instant(AS_OF))
    args.work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "COSELL_CACHE_DIR": str(args.work / "plan-cache"), "COSELL_NOW": as_of}
    again = (
        f".venv/bin/python benchmarks/attribute.py --deals {args.deals} --seed {args.seed} --work {args.work}"
    )
    print(f"load average before: {_load()}; {os.cpu_count()} CPUs", flush=True)
    compile_bytecode()
    small = demo_dataset(100, args.work, args.seed)
    data = demo_dataset(args.deals, args.work, args.seed)
    touches = count_rows(data / "touches.csv")
    print(f"{args.deals:,} opportunities, {touches:,} touches ({data})", flush=True)

    def attribute_cmd(folder: Path, out: Path) -> list[str]:
        return [str(COSELL), "attribute", "--data", str(folder), "--out", str(out), "--as-of", as_of]

    figures: list[tuple[Figure, str]] = []
    with tempfile.TemporaryDirectory(prefix="cosell-bench-", dir=args.work) as tmp:
        out = Path(tmp)
        run_child(attribute_cmd(small, out / "warm"), env=env)  # the plan cache warm
        if "small" in args.only:
            best = min(run_child(attribute_cmd(small, out / f"small-{i}"), env=env)[0] for i in range(3))
            figures.append(
                (
                    Figure(
                        "100 deals: cosell attribute --data (process)",
                        f"{best:.2f} s",
                        WELL_UNDER_TEXT,
                        best <= WELL_UNDER_S,
                    ),
                    f"{again} --only small",
                )
            )
            workspace = out / "small.duckdb"
            run_child(
                [str(COSELL), "import", "canonical", str(small), "--workspace", str(workspace)], env=env
            )
            stored = [str(COSELL), "attribute", "--workspace", str(workspace), "--as-of", as_of]
            best = min(run_child(stored, env=env)[0] for _ in range(3))
            figures.append(
                (
                    Figure(
                        "100 deals: cosell attribute -w (process)",
                        f"{best:.2f} s",
                        WELL_UNDER_TEXT,
                        best <= WELL_UNDER_S,
                    ),
                    "",
                )
            )
            engine = _engine_alone(small, as_of, env)
            figures.append(
                (Figure("100 deals: the engine alone (in-process)", f"{engine:.3f} s", "", None), "")
            )
        floor = None
        if {"floor", "attribute"} & set(args.only):
            # Floors and runs alternate, so that both see the machine (its file cache, other work)
            # alike; the best of each is kept (issue 13: "at 1M, on this machine, best of three").
            lookback = Policy().lookback_days * 86_400_000_000
            sql = FLOOR_SQL.format(d=data, as_of=as_of, lookback=lookback)
            floors: list[tuple[float, int]] = []
            runs: list[tuple[float, int]] = []
            for i in range(args.floors):
                floors.append(run_child([sys.executable, "-c", _FLOOR_CHILD], env=env, stdin=sql))
                if "attribute" in args.only:
                    runs.append(run_child(attribute_cmd(data, out / f"big-{i}"), env=env))
            floor = min(s for s, _ in floors)
            each = ", ".join(f"{s:.1f}" for s, _ in floors)
            peak = max(p for _, p in floors) / GIB
            figures.append(
                (
                    Figure(
                        f"scan floor, best of {args.floors} ({each})",
                        f"{floor:.1f} s {peak:.2f} GiB",
                        "",
                        None,
                    ),
                    f"{again} --only floor",
                )
            )
        if "attribute" in args.only and floor is not None:
            wall = min(s for s, _ in runs)
            peak = max(p for _, p in runs) / GIB
            ratio = wall / floor
            each = ", ".join(f"{s:.1f}" for s, _ in runs)
            figures.append(
                (
                    Figure(
                        f"cosell attribute --data --out, best of {len(runs)} ({each})",
                        f"{wall:.1f} s = {ratio:.2f}x floor",
                        "<= 3x floor",
                        ratio <= 3,
                    ),
                    f"{again} --only attribute",
                )
            )
            figures.append(
                (
                    Figure(
                        "  its peak memory (the most of the runs)", f"{peak:.2f} GiB", "< 4 GiB", peak < 4
                    ),
                    "",
                )
            )
        if "import" in args.only:
            workspace = out / "import.duckdb"
            wall, peak_bytes = run_child(
                [str(COSELL), "import", "canonical", str(data), "--workspace", str(workspace)], env=env
            )
            figures.append(
                (
                    Figure(
                        "cosell import canonical (new workspace)",
                        f"{wall:.1f} s {peak_bytes / GIB:.2f} GiB",
                        "< 60 s",
                        wall < 60,
                    ),
                    f"{again} --only import",
                )
            )
    if "incremental" in args.only:
        m = measure_incremental(data, args.work, as_of, args.deals, env)
        figures.append(
            (
                Figure(
                    "re-run after 1% of deals change",
                    f"{m.incremental:.1f} s = {100 * m.share:.1f}%",
                    "< 15% of a full run",
                    m.share < 0.15 and m.differ == 0,
                ),
                f"{again} --only incremental",
            )
        )
        figures.append((Figure("  the full run of the same data", f"{m.full:.1f} s", "", None), ""))
        tries = ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(m.incremental_all, m.full_all, strict=True))
        figures.append((Figure(f"  best of three each (re-run/full: {tries} s)", "", "", None), ""))
        figures.append(
            (Figure("  the base full run (before the change)", f"{m.base_full:.1f} s", "", None), "")
        )
        same = "identical" if m.differ == 0 else f"{m.differ:,} rows differ"
        figures.append((Figure("  stored rows vs the full run", same, "identical", m.differ == 0), ""))
        figures.append((Figure(f"    compared: {m.rows}", "", "", None), ""))
        figures.append((Figure(f"    {m.summary}", "", "", None), ""))
    print(f"load average after: {_load()}")
    print(f"\nissue 13 speed targets at {args.deals:,} deals / {touches:,} touches:")
    for figure, command in figures:
        print("\n".join(figure.lines()))
        if command:
            print("\n".join(command_lines(command)))
    print(
        json.dumps(
            {"deals": args.deals, "touches": touches, **{f.what: f.figure for f, _ in figures}}, indent=1
        )
    )


def _engine_alone(folder: Path, as_of: str, env: dict[str, str]) -> float:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _ENGINE_CHILD, str(folder), as_of],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
