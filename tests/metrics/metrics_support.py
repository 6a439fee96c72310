"""Test support for metrics and reports: a small book of deals with chosen tiers, in a workspace.

Canonical rows are inserted as current versions known from ``KNOWN`` (the real import validates;
this only inserts, like tests/attribution/engine_support.py), and each deal's attribution is stored
as a partial run through :func:`cosell.store.versions.save_partial_run`, so the reports read the
same views (``v_*``, ``v_attribution``, ``v_credits``) as in production.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from cosell.instants import format_instant, parse_instant
from cosell.results import AttributionRow, CreditRow
from cosell.store.retests import STORED
from cosell.store.schema import TABLES_BY_NAME
from cosell.store.versions import save_partial_run
from cosell.store.workspace import Workspace, open_workspace

KNOWN = datetime(2020, 1, 1, tzinfo=UTC)  # canonical rows are known from here on
RUN_AT = datetime(2026, 11, 1, tzinfo=UTC)  # when the attribution versions are recorded
AS_OF = RUN_AT


def t(text: str) -> datetime:
    return parse_instant(text)


def insert(
    ws: Workspace, table: str, rows: Sequence[Mapping[str, object]], valid_from: datetime = KNOWN
) -> None:
    """Insert canonical rows (missing columns empty) as versions known from ``valid_from``."""
    if not rows:
        return
    cols = list(TABLES_BY_NAME[table].column_names)
    marks = "(" + ", ".join(["?"] * (len(cols) + 4)) + ")"
    # One INSERT of every row: DuckDB's executemany runs the statement once per row, which was
    # most of saving a small book (the property tests save one per example). The same rows, types
    # and order (checked against executemany on every book the metrics and reports tests save).
    ws.con.execute(
        f"INSERT INTO {table} ({', '.join(cols)}, _row_hash, _valid_from, _valid_to, _import_id) "
        f"VALUES {', '.join([marks] * len(rows))}",
        [
            value
            for row in rows
            for value in (
                *(None if row.get(c) in (None, "") else row[c] for c in cols),
                "h",
                valid_from,
                None,
                1,
            )
        ],
    )


def revise(
    ws: Workspace, table: str, key: dict[str, object], changes: dict[str, object], at: datetime
) -> None:
    """A new version of one canonical row from ``at`` (the old one ends there), as a re-import does."""
    where = " AND ".join(f"{c} = ?" for c in key)
    ws.con.execute(
        f"CREATE OR REPLACE TEMP TABLE _revised AS SELECT * FROM {table} WHERE {where} AND _valid_to IS NULL",
        list(key.values()),
    )
    ws.con.execute(
        f"UPDATE {table} SET _valid_to = ? WHERE {where} AND _valid_to IS NULL", [at, *key.values()]
    )
    sets = ", ".join(f"{c} = ?" for c in changes)
    ws.con.execute(f"UPDATE _revised SET {sets}, _valid_from = ?, _import_id = 2", [*changes.values(), at])
    ws.con.execute(f"INSERT INTO {table} SELECT * FROM _revised")
    ws.con.execute("DROP TABLE _revised")


def reset(ws: Workspace) -> Workspace:
    """Empty every canonical table and the attribution history (to reuse one workspace)."""
    for table in TABLES_BY_NAME:
        ws.con.execute(f"DELETE FROM {table}")
    for table in (STORED["credit_history"], STORED["attribution_history"], "attribution_runs"):
        ws.con.execute(f"DELETE FROM {table}")
    return ws


@dataclass
class Deal:
    opportunity_id: str
    created: str
    amount: str
    tier: str = "none"
    currency: str = "USD"
    stage: str = "Prospecting"
    closed: str | None = None  # instant of the stage_history entry into ``stage`` (won or lost)
    rules: str = ""
    partner_id: str = ""  # CRM partner_id
    partner_source: str = ""
    credits: tuple[tuple[str, str, str, str], ...] = ()  # (partner, role, share, amount)


@dataclass
class Book:
    """Deals, rates and costs; :meth:`save` writes them and their attribution as one partial run."""

    deals: list[Deal] = field(default_factory=list)
    tables: dict[str, list[dict[str, object]]] = field(default_factory=dict)

    def deal(self, *args: object, **kwargs: object) -> Book:
        self.deals.append(Deal(*args, **kwargs))  # type: ignore[arg-type]
        return self

    def won(self, opp: str, created: str, closed: str, amount: str, tier: str = "none", **kw: object) -> Book:
        return self.deal(opp, created, amount, tier=tier, stage="Closed Won", closed=closed, **kw)

    def lost(
        self, opp: str, created: str, closed: str, amount: str, tier: str = "none", **kw: object
    ) -> Book:
        return self.deal(opp, created, amount, tier=tier, stage="Closed Lost", closed=closed, **kw)

    def rows(self, table: str, *rows: dict[str, object]) -> Book:
        self.tables.setdefault(table, []).extend(rows)
        return self

    def fx(self, currency: str, period: str, rate: str) -> Book:
        return self.rows("fx_rates", {"currency": currency, "period": period, "rate": rate})

    def program_cost(self, period: str, category: str, amount: str) -> Book:
        n = len(self.tables.get("program_costs", [])) + 1
        return self.rows(
            "program_costs", {"cost_id": f"PC{n}", "period": period, "category": category, "amount": amount}
        )

    def direct_cost(self, period: str, amount: str) -> Book:
        n = len(self.tables.get("direct_costs", [])) + 1
        return self.rows("direct_costs", {"cost_id": f"DC{n}", "period": period, "amount": amount})

    def save(self, ws: Workspace | None = None, run_at: datetime = RUN_AT) -> Workspace:
        ws = ws or open_workspace(":memory:")
        opps, stages = [], []
        for d in self.deals:
            opps.append(
                {
                    "opportunity_id": d.opportunity_id,
                    "account_id": "A1",
                    "created_at": t(d.created),
                    "amount": Decimal(d.amount),
                    "currency": d.currency,
                    "stage": d.stage,
                    "partner_id": d.partner_id,
                    "partner_source": d.partner_source,
                }
            )
            stages.append(
                {"opportunity_id": d.opportunity_id, "stage": "Prospecting", "entered_at": t(d.created)}
            )
            if d.closed is not None:
                stages.append(
                    {"opportunity_id": d.opportunity_id, "stage": d.stage, "entered_at": t(d.closed)}
                )
        insert(ws, "opportunities", opps)
        insert(ws, "stage_history", stages)
        for table, rows in self.tables.items():
            insert(ws, table, rows)
        if self.deals:
            attribute(ws, self.deals, run_at)
        return ws


def attribute(ws: Workspace, deals: Sequence[Deal], run_at: datetime = RUN_AT, kind: str = "fix") -> None:
    """Store the deals' tiers and credits as one partial run recorded at ``run_at``."""
    rows = [
        AttributionRow(
            d.opportunity_id,
            d.tier,
            d.credits[0][0] if d.credits else "",
            "",
            "",
            "",
            "",
            d.rules or _default_rules(d.tier),
            "",
            format_instant(AS_OF),
            "test@policy",
        )
        for d in deals
    ]
    credits = [
        CreditRow(d.opportunity_id, p, role, share, amount, d.currency)
        for d in deals
        for p, role, share, amount in d.credits
    ]
    save_partial_run(
        ws.con,
        rows,
        credits,
        kind=kind,
        by_user="tester",
        reason="test book",
        policy_version="test@policy",
        model="role_weighted",
        as_of=AS_OF,
        run_at=run_at,
    )


def _default_rules(tier: str) -> str:
    """The rule a computed tier writes (docs/rules.md): S3 for sourced, ACC, INF, none for none."""
    return {"sourced": "S3", "accelerated": "ACC", "influenced": "INF"}.get(tier, "")


def one_sourced_win() -> Book:
    """A book of one deal: S1, 1,000.00 USD sourced by P1 alone, won on 2026-07-31 after 30 days."""
    return Book().won(
        "S1",
        "2026-07-01",
        "2026-07-31",
        "1000.00",
        "sourced",
        credits=(("P1", "sourcer", "1.000000", "1000.00"),),
    )


def quarter_book() -> Book:
    """The hand-computed book of tests/metrics/test_figures.py (its docstring lists every deal)."""
    b = Book()
    b.won(
        "S1",
        "2026-07-05",
        "2026-08-04",
        "10000.00",
        "sourced",
        credits=(("P1", "sourcer", "1.000000", "10000.00"),),
    )
    b.deal("S2", "2026-08-10", "5000.00", tier="sourced", currency="EUR")
    b.won("A1", "2026-07-15", "2026-09-14", "3000.00", "accelerated", currency="EUR")
    b.lost("I1", "2026-07-20", "2026-08-19", "2000.00", "influenced")
    b.won("I2", "2026-08-01", "2026-09-10", "100001", "influenced", currency="JPY")
    b.won("N1", "2026-07-01", "2026-09-09", "4000.00")
    b.lost("N2", "2026-07-02", "2026-08-01", "1000.00")
    b.lost("N5", "2026-07-03", "2026-09-01", "100.00")
    b.won("N3", "2026-07-10", "2026-09-30T23:59:59Z", "500.00", partner_id="P2", rules="NO_ACTIVITY")
    b.won("N4", "2026-09-15", "2026-10-01T00:00:00Z", "700.00")
    b.won("S0", "2026-06-15", "2026-07-15", "8000.00", "sourced", currency="EUR")
    b.won("N0", "2026-06-01", "2026-07-01", "2000.00")
    b.fx("EUR", "2026-07", "1.10").fx("EUR", "2026-Q3", "1.20").fx("EUR", "2026-Q2", "1.05")
    b.fx("JPY", "2026-08", "0.0067").fx("JPY", "2026-09", "0.0067")
    b.program_cost("2026-Q3", "headcount", "3000").program_cost("2026-08", "tech", "500")
    b.program_cost("2026-09", "incentives", "700").program_cost("2026-Q2", "headcount", "9999")
    b.direct_cost("2026-Q3", "5000").direct_cost("2026-07", "1000")
    return b
