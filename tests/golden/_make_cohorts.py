"""Writes the golden cases that need a baseline cohort (>= 10 direct-only won deals).

Run from the repository root: ``.venv/bin/python tests/golden/_make_cohorts.py``. The CSVs it writes
are committed, so the cases are static; this script only saves typing the baseline deals. Every
expected value below is computed by hand (arithmetic in the comments), never by running cosell.

Conventions: baseline deal Bnn sits on its own account BAnn; a deal's stage_history is
(first stage at C, [middle stage], Closed Won at X); the as-of time is 2026-10-01T00:00:00Z.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent
AS_OF = "2026-10-01T00:00:00Z"
POLICY_VERSION = "default@04f5e962523a"  # the default policy's version
ATT_COLS = [
    "opportunity_id",
    "tier",
    "primary_partner_id",
    "engagement_at",
    "cycle_days",
    "baseline_days",
    "cycle_reduction_days",
    "rules",
    "remaining_days",
    "as_of",
    "policy_version",
    "model",
    "cohort",
    "cohort_size",
]
CR_COLS = ["opportunity_id", "partner_id", "role", "share", "amount", "currency"]
COLUMNS = {
    "accounts": ["account_id", "name", "segment"],
    "partners": ["partner_id", "name", "partner_type"],
    "opportunities": ["opportunity_id", "account_id", "created_at", "amount", "currency", "stage"],
    "stage_history": ["opportunity_id", "stage", "entered_at"],
    "touches": ["touch_id", "occurred_at", "account_id", "actor", "kind", "opportunity_id", "partner_id"],
    "fx_rates": ["currency", "period", "rate"],
}
PARTNERS = [
    {"partner_id": "P1", "name": "Contoso Referrals", "partner_type": "referral"},
    {"partner_id": "P2", "name": "Fabrikam Co-Sell", "partner_type": "co_sell"},
    {"partner_id": "P3", "name": "Northwind Services", "partner_type": "services"},
    {"partner_id": "P4", "name": "Tailspin Integrations", "partner_type": "integration"},
]
README: dict[str, str] = {}


def day(text: str, plus_days: int = 0) -> str:
    moment = datetime.fromisoformat(text).replace(tzinfo=UTC) + timedelta(days=plus_days)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write(path: Path, cols: list[str], rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in cols})
    path.write_text(buf.getvalue())


class Case:
    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, str]]] = {name: [] for name in COLUMNS}
        self.tables["partners"] = list(PARTNERS)
        self.expected: list[dict[str, str]] = []

    def deal(
        self,
        oid: str,
        account: str,
        segment: str,
        stages: list[tuple[str, str]],
        amount: str = "10000.00",
        currency: str = "",
    ) -> None:
        """A won deal: ``stages`` is [(stage, entered_at), ...] ending with Closed Won; C = first entry."""
        self.tables["accounts"].append(
            {"account_id": account, "name": f"Account {account}", "segment": segment}
        )
        self.tables["opportunities"].append(
            {
                "opportunity_id": oid,
                "account_id": account,
                "created_at": stages[0][1],
                "amount": amount,
                "currency": currency,
                "stage": stages[-1][0],
            }
        )
        for stage, at in stages:
            self.tables["stage_history"].append({"opportunity_id": oid, "stage": stage, "entered_at": at})

    def pool(
        self,
        first: int,
        durations: list[int],
        segment: str,
        created: str,
        middle: str,
        amount: str = "10000.00",
    ) -> None:
        """Baseline deals created at ``created``, entering ``middle`` 31 days later, won ``duration`` days after that.

        A duration given as a negative number means: no middle stage, won -duration days after C.
        """
        for i, duration in enumerate(durations):
            n = first + i
            if duration < 0:
                stages = [("Prospecting", day(created)), ("Closed Won", day(created, -duration))]
            else:
                stages = [
                    ("Prospecting", day(created)),
                    (middle, day(created, 31)),
                    ("Closed Won", day(created, 31 + duration)),
                ]
            self.deal(f"B{n:02d}", f"BA{n:02d}", segment, stages, amount)
            cycle = 31 + duration if duration >= 0 else -duration
            self.expected.append(
                {"opportunity_id": f"B{n:02d}", "tier": "none", "cycle_days": f"{cycle}.000000"}
            )

    def partner_touch(self, tid: str, at: str, account: str, oid: str, partner: str) -> None:
        self.tables["touches"].append(
            {
                "touch_id": tid,
                "occurred_at": at,
                "account_id": account,
                "actor": "partner",
                "kind": "joint_call",
                "opportunity_id": oid,
                "partner_id": partner,
            }
        )

    def expect(self, **row: str) -> None:
        self.expected.append(row)

    def write(self, name: str, readme: str, credits: list[tuple[str, ...]]) -> None:
        folder = ROOT / name
        folder.mkdir(exist_ok=True)
        for table, rows in self.tables.items():
            if rows:
                write(folder / f"{table}.csv", COLUMNS[table], rows)
        rows = [
            {**r, "as_of": AS_OF, "policy_version": POLICY_VERSION, "model": "role_weighted"}
            for r in sorted(self.expected, key=lambda r: r["opportunity_id"])
        ]
        write(folder / "expected_attribution.csv", ATT_COLS, rows)
        write(folder / "expected_credits.csv", CR_COLS, [dict(zip(CR_COLS, c, strict=True)) for c in credits])
        README[name] = readme


def partner_deal(
    case: Case, oid: str, account: str, segment: str, stages: list[tuple[str, str]], touch_at: str, partner: str,
    amount: str = "10000.00", currency: str = "",
) -> None:  # fmt: skip
    case.deal(oid, account, segment, stages, amount, currency)
    case.partner_touch(f"T{oid}", touch_at, account, oid, partner)


def credit(oid: str, partner: str, amount: str = "10000.00", currency: str = "USD") -> tuple[str, ...]:
    return (oid, partner, "influencer", "1.000000", amount, currency)


# Standard partner deal: C 2026-03-01, Proposal 2026-04-01, partner touch 2026-04-05, won 2026-04-11:
# s = Proposal, S = Apr 1, remaining = 10 days, cycle = 41 days.
STANDARD = [("Prospecting", "2026-03-01T00:00:00Z"), ("Proposal", "2026-04-01T00:00:00Z"), ("Closed Won", "2026-04-11T00:00:00Z")]  # fmt: skip


def acc_stage_baseline() -> None:
    c = Case()
    # B01..B10: MM, 10000 USD, C 2025-12-01, Proposal 2026-01-01, won 26..35 days later (Jan 27..Feb 5).
    # Proposal-to-close median of 26..35 = (30 + 31) / 2 = 30.5 days; created-to-close 57..66, median 61.5.
    c.pool(1, list(range(26, 36)), "MM", "2025-12-01", "Proposal")
    # O1: remaining 10 <= 30.5 * 0.8 = 24.4 and 30.5 - 10 = 20.5 >= 7: ACC.
    partner_deal(c, "O1", "A1", "MM", STANDARD, "2026-04-05T00:00:00Z", "P1")
    c.expect(opportunity_id="O1", tier="accelerated", primary_partner_id="P1", engagement_at="2026-04-05T00:00:00Z",
             cycle_days="41.000000", baseline_days="30.500000", cycle_reduction_days="20.500000", rules="ACC",
             remaining_days="10.000000", cohort="stage:1", cohort_size="10")  # fmt: skip
    # O2: E (Feb 20) <= C, so s = the first stage (Prospecting), S = C: remaining 41 days against the
    # Prospecting-to-close median 61.5: 41 <= 49.2 and 20.5 >= 7: ACC. A direct touch on Feb 10
    # is the earliest engagement in the lookback, so the partner touch is not S3.
    stages = [("Prospecting", "2026-03-01T00:00:00Z"), ("Closed Won", "2026-04-11T00:00:00Z")]
    partner_deal(c, "O2", "A2", "MM", stages, "2026-02-20T00:00:00Z", "P2")
    c.tables["touches"].append(
        {"touch_id": "D2", "occurred_at": "2026-02-10T00:00:00Z", "account_id": "A2", "actor": "direct",
         "kind": "outbound_call"}
    )  # fmt: skip
    c.expect(opportunity_id="O2", tier="accelerated", primary_partner_id="P2", engagement_at="2026-02-20T00:00:00Z",
             cycle_days="41.000000", baseline_days="61.500000", cycle_reduction_days="20.500000", rules="ACC",
             remaining_days="41.000000", cohort="stage:1", cohort_size="10")  # fmt: skip
    # O3: E exactly at the Proposal entry (Apr 1) counts in Proposal; won Apr 16: remaining 15 days,
    # 15 <= 24.4, 30.5 - 15 = 15.5 >= 7: ACC.
    stages = [("Prospecting", "2026-03-01T00:00:00Z"), ("Proposal", "2026-04-01T00:00:00Z"), ("Closed Won", "2026-04-16T00:00:00Z")]  # fmt: skip
    partner_deal(c, "O3", "A3", "MM", stages, "2026-04-01T00:00:00Z", "P3")
    c.expect(opportunity_id="O3", tier="accelerated", primary_partner_id="P3", engagement_at="2026-04-01T00:00:00Z",
             cycle_days="46.000000", baseline_days="30.500000", cycle_reduction_days="15.500000", rules="ACC",
             remaining_days="15.000000", cohort="stage:1", cohort_size="10")  # fmt: skip
    c.write(
        "acc_stage_baseline",
        "ACC by stage baseline (level 1, 10 deals, even-count median 30.5 days); E at or before C uses the first stage; E exactly at a stage entry is in that stage.",
        [credit("O1", "P1"), credit("O2", "P2"), credit("O3", "P3")],
    )


def acc_whole_cycle() -> None:
    c = Case()
    # B01..B09 pass through Proposal; B10 goes straight to won: only 9 deals through Proposal at every
    # level, so the whole-cycle fallback: created-to-close 31 + (29..37) = 60..68 and B10 69,
    # median (64 + 65) / 2 = 64.5 days over 10 deals (cycle:1).
    c.pool(1, [29, 30, 31, 32, 33, 34, 35, 36, 37, -69], "MM", "2025-12-01", "Proposal")
    # O1: remaining = X - C = 41 days; 41 <= 64.5 * 0.8 = 51.6 and 23.5 >= 7: ACC with WHOLE_CYCLE.
    partner_deal(c, "O1", "A1", "MM", STANDARD, "2026-04-05T00:00:00Z", "P1")
    c.expect(opportunity_id="O1", tier="accelerated", primary_partner_id="P1", engagement_at="2026-04-05T00:00:00Z",
             cycle_days="41.000000", baseline_days="64.500000", cycle_reduction_days="23.500000",
             rules="ACC WHOLE_CYCLE", remaining_days="41.000000", cohort="cycle:1", cohort_size="10")  # fmt: skip
    c.write(
        "acc_whole_cycle",
        "ACC by the whole-cycle fallback: only 9 of 10 baseline deals passed through Proposal, so created-to-close (median 64.5 days) against X - C = 41 days.",
        [credit("O1", "P1")],
    )


def acc_near_miss_pct() -> None:
    c = Case()
    # B01..B11: Proposal-to-close 95..105 days, median 100. C 2025-06-01, Proposal 2025-07-02, won Oct 2025.
    c.pool(1, list(range(95, 106)), "MM", "2025-06-01", "Proposal")
    # Threshold by percent: 100 * 0.8 = 80 days; by days: 100 - 7 = 93 (percent binds).
    # O1: won Apr 1 + 80 days + 1 microsecond (2026-06-20T00:00:00.000001Z): fails the percent.
    stages = [("Prospecting", "2026-03-01T00:00:00Z"), ("Proposal", "2026-04-01T00:00:00Z"), ("Closed Won", "2026-06-20T00:00:00.000001Z")]  # fmt: skip
    partner_deal(c, "O1", "A1", "MM", stages, "2026-04-05T00:00:00Z", "P1")
    c.expect(opportunity_id="O1", tier="influenced", primary_partner_id="P1", engagement_at="2026-04-05T00:00:00Z",
             cycle_days="111.000000", baseline_days="100.000000", cycle_reduction_days="20.000000",
             rules="INF NOT_FASTER", remaining_days="80.000000", cohort="stage:1", cohort_size="11")  # fmt: skip
    # O2: won exactly 80 days after Proposal: 80 <= 80 (inclusive): ACC.
    stages = [("Prospecting", "2026-03-01T00:00:00Z"), ("Proposal", "2026-04-01T00:00:00Z"), ("Closed Won", "2026-06-20T00:00:00Z")]  # fmt: skip
    partner_deal(c, "O2", "A2", "MM", stages, "2026-04-05T00:00:00Z", "P2")
    c.expect(opportunity_id="O2", tier="accelerated", primary_partner_id="P2", engagement_at="2026-04-05T00:00:00Z",
             cycle_days="111.000000", baseline_days="100.000000", cycle_reduction_days="20.000000", rules="ACC",
             remaining_days="80.000000", cohort="stage:1", cohort_size="11")  # fmt: skip
    c.write(
        "acc_near_miss_pct",
        "Near miss on the percent: baseline 100 days, remaining 80 days + 1 microsecond is not <= 80 (NOT_FASTER); exactly 80 days fires ACC. Exact microseconds, no float days.",
        [credit("O1", "P1"), credit("O2", "P2")],
    )


def acc_near_miss_days() -> None:
    c = Case()
    # B01..B11: Proposal-to-close 25..35 days, median 30. Thresholds: percent 24 days, days 30 - 7 = 23 (binds).
    c.pool(1, list(range(25, 36)), "MM", "2025-12-01", "Proposal")
    # O1: remaining 23 days + 1 microsecond: 30 - remaining = 6.99999999999 < 7: NOT_FASTER (shown as 7.000000).
    stages = [("Prospecting", "2026-03-01T00:00:00Z"), ("Proposal", "2026-04-01T00:00:00Z"), ("Closed Won", "2026-04-24T00:00:00.000001Z")]  # fmt: skip
    partner_deal(c, "O1", "A1", "MM", stages, "2026-04-05T00:00:00Z", "P1")
    c.expect(opportunity_id="O1", tier="influenced", primary_partner_id="P1", engagement_at="2026-04-05T00:00:00Z",
             cycle_days="54.000000", baseline_days="30.000000", cycle_reduction_days="7.000000",
             rules="INF NOT_FASTER", remaining_days="23.000000", cohort="stage:1", cohort_size="11")  # fmt: skip
    # O2: remaining exactly 23 days: reduction exactly 7 >= 7: ACC.
    stages = [("Prospecting", "2026-03-01T00:00:00Z"), ("Proposal", "2026-04-01T00:00:00Z"), ("Closed Won", "2026-04-24T00:00:00Z")]  # fmt: skip
    partner_deal(c, "O2", "A2", "MM", stages, "2026-04-05T00:00:00Z", "P2")
    c.expect(opportunity_id="O2", tier="accelerated", primary_partner_id="P2", engagement_at="2026-04-05T00:00:00Z",
             cycle_days="54.000000", baseline_days="30.000000", cycle_reduction_days="7.000000", rules="ACC",
             remaining_days="23.000000", cohort="stage:1", cohort_size="11")  # fmt: skip
    c.write(
        "acc_near_miss_days",
        "Near miss on the days: baseline 30 days, remaining 23 days + 1 microsecond saves 6.999... < 7 days (NOT_FASTER, though shown as 7.000000); exactly 23 days fires ACC.",
        [credit("O1", "P1"), credit("O2", "P2")],
    )


def late_engagement_long_stage() -> None:
    c = Case()
    # B01..B11: Negotiation-to-close 25..35 days, median 30.
    c.pool(1, list(range(25, 36)), "MM", "2025-11-01", "Negotiation")
    # O1: Negotiation from 2026-02-01, partner joins 2026-04-25, won 2026-05-01: s = Negotiation,
    # S = Feb 1, remaining = 28 + 31 + 30 = 89 days > 24: NOT_FASTER; reduction 30 - 89 = -59.
    stages = [("Prospecting", "2026-01-01T00:00:00Z"), ("Negotiation", "2026-02-01T00:00:00Z"), ("Closed Won", "2026-05-01T00:00:00Z")]  # fmt: skip
    partner_deal(c, "O1", "A1", "MM", stages, "2026-04-25T00:00:00Z", "P1")
    c.expect(opportunity_id="O1", tier="influenced", primary_partner_id="P1", engagement_at="2026-04-25T00:00:00Z",
             cycle_days="120.000000", baseline_days="30.000000", cycle_reduction_days="-59.000000",
             rules="INF NOT_FASTER", remaining_days="89.000000", cohort="stage:1", cohort_size="11")  # fmt: skip
    c.write(
        "late_engagement_long_stage",
        "A partner joining late in a long stage: remaining runs from the stage entry (Feb 1), not from E (Apr 25): 89 days against 30, NOT_FASTER.",
        [credit("O1", "P1")],
    )


def cohort_levels_and_band_edge() -> None:
    c = Case()
    # B01..B10: ENT, 24,999.99 USD (band 0), Proposal-to-close 26..35 days (median 30.5).
    c.pool(1, list(range(26, 36)), "ENT", "2025-12-01", "Proposal", amount="24999.99")
    # B11..B15: MM, 10,000 USD, 40 days each. All 15: 26..35 and five 40s, median (8th) = 33.
    c.pool(11, [40] * 5, "MM", "2025-12-01", "Proposal")
    common = dict(engagement_at="2026-04-05T00:00:00Z", cycle_days="41.000000", rules="ACC", remaining_days="10.000000")  # fmt: skip
    # O1: ENT, 24,999.99: level 1 (ENT, band 0) has 10: stage:1, 30.5.
    partner_deal(c, "O1", "A1", "ENT", STANDARD, "2026-04-05T00:00:00Z", "P1", amount="24999.99")
    c.expect(opportunity_id="O1", tier="accelerated", primary_partner_id="P1", baseline_days="30.500000",
             cycle_reduction_days="20.500000", cohort="stage:1", cohort_size="10", **common)  # fmt: skip
    # O2: ENT, 25,000.00 is band 1 (lower edge inclusive): level 1 has none, level 2 (ENT) has 10.
    partner_deal(c, "O2", "A2", "ENT", STANDARD, "2026-04-05T00:00:00Z", "P2", amount="25000.00")
    c.expect(opportunity_id="O2", tier="accelerated", primary_partner_id="P2", baseline_days="30.500000",
             cycle_reduction_days="20.500000", cohort="stage:2", cohort_size="10", **common)  # fmt: skip
    # O3: empty segment is a segment of its own (no baseline deal has it): level 3, all 15, median 33;
    # 10 <= 26.4 and 23 >= 7: ACC.
    partner_deal(c, "O3", "A3", "", STANDARD, "2026-04-05T00:00:00Z", "P3")
    c.expect(opportunity_id="O3", tier="accelerated", primary_partner_id="P3", baseline_days="33.000000",
             cycle_reduction_days="23.000000", cohort="stage:3", cohort_size="15", **common)  # fmt: skip
    # O4: ENT, 23,000.00 EUR closed in April 2026: the month's rate 1.1 (not the quarter's 1.0) gives
    # 25,300 USD, band 1: level 2.
    partner_deal(
        c, "O4", "A4", "ENT", STANDARD, "2026-04-05T00:00:00Z", "P4", amount="23000.00", currency="EUR"
    )
    c.tables["fx_rates"] += [
        {"currency": "EUR", "period": "2026-04", "rate": "1.1"},
        {"currency": "EUR", "period": "2026-Q2", "rate": "1.0"},
    ]
    c.expect(opportunity_id="O4", tier="accelerated", primary_partner_id="P4", baseline_days="30.500000",
             cycle_reduction_days="20.500000", cohort="stage:2", cohort_size="10", **common)  # fmt: skip
    c.write(
        "cohort_levels_and_band_edge",
        "Stage cohort widening: level 1 (segment and band), level 2 at the 25,000 band edge (inclusive) and for an EUR deal converted at its close month's rate, level 3 for the empty segment (median 33 over 15).",
        [credit("O1", "P1", "24999.99"), credit("O2", "P2", "25000.00"), credit("O3", "P3"),
         credit("O4", "P4", "23000.00", "EUR")],
    )  # fmt: skip


def cohort_cycle_levels() -> None:
    c = Case()
    # B01..B10: MM, 10,000 USD, Prospecting -> Demo -> won, created-to-close 31 + (29..38) = 60..69,
    # median 64.5. No deal passed through Proposal, so every Proposal deal falls back to whole cycles.
    c.pool(1, list(range(29, 39)), "MM", "2025-12-01", "Demo")
    common = dict(engagement_at="2026-04-05T00:00:00Z", cycle_days="41.000000", baseline_days="64.500000",
                  cycle_reduction_days="23.500000", rules="ACC WHOLE_CYCLE", remaining_days="41.000000",
                  cohort_size="10")  # fmt: skip
    # O1: MM, 50,000 (band 1): cycle level 1 has none, level 2 (MM) has 10.
    partner_deal(c, "O1", "A1", "MM", STANDARD, "2026-04-05T00:00:00Z", "P1", amount="50000.00")
    c.expect(opportunity_id="O1", tier="accelerated", primary_partner_id="P1", cohort="cycle:2", **common)
    # O2: SMB: level 3.
    partner_deal(c, "O2", "A2", "SMB", STANDARD, "2026-04-05T00:00:00Z", "P2")
    c.expect(opportunity_id="O2", tier="accelerated", primary_partner_id="P2", cohort="cycle:3", **common)
    # O3: closed 2026-01-20, before every baseline deal closed (Jan 30 .. Feb 8): no baseline at all.
    stages = [("Prospecting", "2025-12-01T00:00:00Z"), ("Proposal", "2026-01-01T00:00:00Z"), ("Closed Won", "2026-01-20T00:00:00Z")]  # fmt: skip
    partner_deal(c, "O3", "A3", "MM", stages, "2026-01-05T00:00:00Z", "P3")
    c.expect(opportunity_id="O3", tier="influenced", primary_partner_id="P3", engagement_at="2026-01-05T00:00:00Z",
             cycle_days="50.000000", rules="INF NO_BASELINE")  # fmt: skip
    c.write(
        "cohort_cycle_levels",
        "Whole-cycle widening: cycle:2 (band differs), cycle:3 (segment differs), and NO_BASELINE when no baseline deal closed in the window (ACC does not fire, days empty).",
        [credit("O1", "P1", "50000.00"), credit("O2", "P2"), credit("O3", "P3")],
    )


def main() -> None:
    acc_stage_baseline()
    acc_whole_cycle()
    acc_near_miss_pct()
    acc_near_miss_days()
    late_engagement_long_stage()
    cohort_levels_and_band_edge()
    cohort_cycle_levels()
    for name, line in README.items():
        print(f"- `{name}`: {line}")


if __name__ == "__main__":
    main()
