"""Complete runs: a full run and the incremental runs stored on top of it.

A *full* run stores a version of every deal. An *incremental* run (``cosell attribute
--incremental``, docs/incremental.md) stores only the deals it decided again: those whose inputs
changed and the candidates re-tested against a moved cohort baseline. Every other deal keeps the
rows it has in an earlier run of the same chain, so an incremental run costs what changed, not a
copy of the workspace. Together, the full run and the incremental runs after it (each evaluated
as of the same instant) make a :class:`RunChain`, read as one complete run: each deal's rows come
from the newest run of the chain that holds its attribution row.

A run that re-tests a deal stores the change of its acceleration columns
(:mod:`cosell.store.retests`), which every history relation reads as the deal's four tables
written again under that run, so that all four tables of a deal come from one run. Partial runs
(fixes, disputes, auto-tags, prompts) are not part of a chain: the readers of the newest version
(:mod:`cosell.store.versions`) put them on top of it. Each full or incremental run records the
full run its chain starts from (``attribution_runs.chain_full``): a full run stored later with an
earlier knowledge instant (``--known-at``) starts a chain of its own and ends none.
"""

from __future__ import annotations

from dataclasses import dataclass

from cosell.engine import Engine

# Scopes of attribution_runs.scope.
FULL, PARTIAL, INCREMENTAL = "full", "partial", "incremental"


@dataclass(frozen=True)
class RunChain:
    """The runs that make one complete run, oldest (the full run) first."""

    runs: tuple[int, ...]

    @property
    def full(self) -> int:
        """The full run the chain starts from."""
        return self.runs[0]

    @property
    def newest(self) -> int:
        """The run the chain ends with (the complete run it stands for)."""
        return self.runs[-1]

    def rows(self, table: str) -> str:
        """A relation of ``table``'s rows (attribution, credit, evidence or claims history) of the
        complete run: each deal's rows from the newest run of the chain that holds it, with every
        column of ``table`` (``run_id`` included: the run that decided the deal)."""
        return self._newest(table, "attribution_history")

    def held_rows(self, table: str) -> str:
        """A relation of ``table``'s rows (the stage entries) of the complete run: each deal's rows
        from the newest run of the chain that holds rows of it in ``table`` itself. For a table a run
        writes only for the deals it computed (a re-tested deal keeps its entries, so its newest
        run holds none of them)."""
        return self._newest(table, table)

    def _newest(self, table: str, holder: str) -> str:
        """``table``'s rows of each deal from the newest run of the chain whose ``holder`` rows
        name the deal."""
        if len(self.runs) == 1:
            return f"SELECT * FROM {table} WHERE run_id = {self.full}"
        runs = ", ".join(str(r) for r in self.runs)
        # Only the incremental runs can supersede a row (never the full run, the oldest): reading
        # just their rows keeps the lookup as small as what changed.
        later = ", ".join(str(r) for r in self.runs[1:])
        return (
            f"SELECT * FROM {table} t WHERE t.run_id IN ({runs}) AND NOT EXISTS ("
            f"SELECT 1 FROM {holder} n WHERE n.run_id IN ({later}) "
            "AND n.opportunity_id = t.opportunity_id AND n.run_id > t.run_id)"
        )


def chain_of(con: Engine, run_id: int) -> RunChain:
    """The chain a stored run reads as: for an incremental run, the full run its chain starts from
    (``chain_full``) and every incremental run of that chain up to it; for a full or partial run,
    that run alone."""
    row = con.execute("SELECT scope, chain_full FROM attribution_runs WHERE run_id = ?", [run_id]).fetchone()
    if row is None or row[0] != INCREMENTAL:
        return RunChain((int(run_id),))
    rows = con.execute(
        f"""SELECT run_id FROM attribution_runs
            WHERE chain_full = ? AND run_id <= ? AND scope IN ('{FULL}', '{INCREMENTAL}')
            ORDER BY run_id""",
        [row[1], run_id],
    ).fetchall()
    return RunChain(tuple(int(r[0]) for r in rows))


__all__ = ["FULL", "INCREMENTAL", "PARTIAL", "RunChain", "chain_of"]
