"""A small in-memory workspace for ledger tests: partners, users, won deals and attribution versions.

Rows go straight into the versioned canonical tables (as an import would store them) so that an
example costs milliseconds; attribution versions are stored with the real ``save_partial_run``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from cosell.engine.sql import lit
from cosell.pay.model import DealToPrice, Earning
from cosell.pay.plan_parse import parse_plan
from cosell.pay.plan_versions import add_plan_version
from cosell.pay.pricers import FunctionPricer
from cosell.policy import Policy
from cosell.results import AttributionRow, CreditRow
from cosell.store.versions import save_partial_run
from cosell.store.workspace import Workspace, connect, open_workspace

IMPORTED = datetime(2024, 1, 1, tzinfo=UTC)

Credit = tuple[str, str, str, str]  # partner_id, role, share, amount (deal currency)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass
class PayWorld:
    """A workspace with helpers to add the rows pay reads."""

    ws: Workspace = field(default_factory=lambda: open_workspace(":memory:"))
    policy: Policy = field(default_factory=Policy)
    _import: int = 0

    def _insert(self, table: str, values: dict[str, object], when: datetime = IMPORTED) -> None:
        self._import += 1
        key = {"opportunities": "opportunity_id", "partners": "partner_id", "users": "user_id"}.get(table)
        if key is not None:
            self.ws.con.execute(
                f"UPDATE {table} SET _valid_to = ? WHERE {key} = ? AND _valid_to IS NULL", [when, values[key]]
            )
        cols = list(values)
        self.ws.con.execute(
            f"INSERT INTO {table} ({', '.join(cols)}, _row_hash, _valid_from, _import_id) "
            f"VALUES ({', '.join('?' for _ in cols)}, 'h', ?, ?)",
            [*values.values(), when, self._import],
        )

    def save(self, path: str) -> None:
        """Write every table of this world's workspace into a new database file at ``path``
        (:meth:`copy_of` reads it back)."""
        (database,) = self.ws.con.execute("SELECT current_database()").fetchall()[0]
        self.ws.con.execute(f"ATTACH {lit(path)} AS _saved")
        try:
            self.ws.con.execute(f"COPY FROM DATABASE {database} TO _saved")
        finally:
            self.ws.con.execute("DETACH _saved")

    def copy_of(self, path: str) -> PayWorld:
        """A new world of its own in memory holding what :meth:`save` wrote to ``path``: the same
        rows in the same order, and this world's policy and import count. Copying a prepared
        world costs what opening an empty workspace does, where preparing it runs hundreds of
        statements."""
        con = connect(":memory:")
        (database,) = con.execute("SELECT current_database()").fetchall()[0]
        con.execute(f"ATTACH {lit(path)} AS _saved (READ_ONLY)")
        try:
            con.execute(f"COPY FROM DATABASE _saved TO {database}")
        finally:
            con.execute("DETACH _saved")
        return PayWorld(Workspace(":memory:", con), self.policy, self._import)

    def partner(self, partner_id: str, partner_type: str = "referral", tier: str = "gold") -> None:
        self._insert(
            "partners",
            {
                "partner_id": partner_id,
                "name": partner_id,
                "partner_type": partner_type,
                "program_tier": tier,
            },
        )

    def account(self, account_id: str, name: str, when: datetime = IMPORTED) -> None:
        """An account (a new version of it, e.g. renamed, when it exists)."""
        self.ws.con.execute(
            "UPDATE accounts SET _valid_to = ? WHERE account_id = ? AND _valid_to IS NULL", [when, account_id]
        )
        self._insert("accounts", {"account_id": account_id, "name": name}, when)

    def user(self, user_id: str, role: str = "ae") -> None:
        self._insert("users", {"user_id": user_id, "name": user_id, "role": role})

    def deal(
        self,
        opp: str,
        amount: str,
        closed: str = "2026-09-15T12:00:00Z",
        *,
        stage: str = "Closed Won",
        currency: str = "USD",
        owner: str = "U1",
        opportunity_type: str = "new_business",
        when: datetime = IMPORTED,
        account: str = "A1",
    ) -> None:
        """A deal (a new version of it when it exists) closed at ``closed`` (close_date)."""
        self._insert(
            "opportunities",
            {
                "opportunity_id": opp, "account_id": account, "created_at": at("2026-01-05T00:00:00Z"),
                "amount": Decimal(amount), "currency": currency, "stage": stage, "owner_id": owner,
                "close_date": at(closed), "opportunity_type": opportunity_type,
            },
            when,
        )  # fmt: skip

    def plan(self, rules: str, now: str, plan_id: str = "big") -> None:
        """Load version 1 of a USD plan effective 2026-01-01 whose TOML ``[[rules]]`` are ``rules``,
        recorded by a finance user at ``now``."""
        text = f'plan_id = "{plan_id}"\nversion = 1\neffective_from = 2026-01-01\ncurrency = "USD"\n{rules}'
        add_plan_version(
            self.ws.con, parse_plan(text, f"{plan_id}.toml"), "fin", now=at(now), workspace_currency="USD"
        )

    def fx(self, currency: str, period: str, rate: str) -> None:
        self._insert("fx_rates", {"currency": currency, "period": period, "rate": Decimal(rate)})

    def attribute(
        self,
        decisions: dict[str, tuple[str, Sequence[Credit]]],
        *,
        kind: str = "batch",
        reason: str = "test run",
        run_at: datetime = IMPORTED,
        source: str = "",
    ) -> int:
        """Store a version of each deal in ``decisions``: opp -> (tier, credits); returns the run id.

        ``source`` (``finding:F-1``, ``dispute:D-000001``) marks each deal's change for pay, as an
        accepted fix or a decided dispute does (``attribution_changes``)."""
        rows = []
        credits = []
        for opp, (tier, deal_credits) in sorted(decisions.items()):
            primary = deal_credits[0][0] if deal_credits else ""
            rows.append(
                AttributionRow(
                    opp, tier, primary, "", "1.000000", "", "", "", "", "2026-11-01T00:00:00Z", "p@x"
                )
            )
            # Credits are in the deal's own currency, as attribution splits them.
            found = self.ws.con.execute(
                "SELECT currency FROM opportunities WHERE opportunity_id = ? AND _valid_to IS NULL", [opp]
            ).fetchone()
            currency = found[0] if found and found[0] else "USD"
            for partner, role, share, amount in deal_credits:
                credits.append(CreditRow(opp, partner, role, share, amount, currency))
        record = save_partial_run(
            self.ws.con, rows, credits, kind=kind, by_user="tester", reason=reason, policy_version="p@x",
            model="role_weighted", as_of=run_at, run_at=run_at,
        )  # fmt: skip
        if source:
            from cosell.store.review import ensure_review_schema, mark_change

            ensure_review_schema(self.ws.con)
            for opp in sorted(decisions):
                mark_change(self.ws.con, opp, record.run_id, None, source, "tester", run_at)
        return record.run_id


def simple_price(version: str, deal: DealToPrice) -> list[Earning]:
    """A hand-checkable plan. Partners: sourcer 10% of credit, influencer flat 100.00, anything else
    5%; plan ``plan@2`` pays sourcers 12%. Rep: 5% of the deal on tier none, 2% otherwise, minus the
    partner earnings when the deal is sourced (never below zero). All in USD at the deal's rate."""
    out: list[Earning] = []
    cents = Decimal("0.01")
    partner_total = Decimal(0)
    if deal.tier != "none":
        for c in deal.credits:
            if c.role == "sourcer":
                pct = Decimal("0.12") if version == "plan@2" else Decimal("0.10")
                amount = (c.amount * deal.fx_rate * pct).quantize(cents)
                rule = "sourcer-pct"
            elif c.role == "influencer":
                amount, rule = Decimal("100.00"), "influence-flat"
            else:
                amount, rule = (c.amount * deal.fx_rate * Decimal("0.05")).quantize(cents), "other-pct"
            partner_total += amount
            out.append(
                Earning(deal.opportunity_id, "partner", c.partner_id, "partner_payout", rule, version,
                        deal.attribution_run_id, amount, f"{rule} on {c.amount}")
            )  # fmt: skip
    if deal.rep_id:
        rate = Decimal("0.05") if deal.tier == "none" else Decimal("0.02")
        amount = (deal.amount * deal.fx_rate * rate).quantize(cents)
        if deal.tier == "sourced":
            amount = max(amount - partner_total, Decimal(0))
        out.append(
            Earning(deal.opportunity_id, "rep", deal.rep_id, "rep_commission", f"rep:{deal.tier}", version,
                    deal.attribution_run_id, amount, f"rep {rate} of {deal.amount}")
        )  # fmt: skip
    return [e for e in out if e.amount != 0]


PRICER = FunctionPricer(simple_price)
