"""Every reconciliation finding kind on purpose-built deals: a positive and a negative case each.

The dataset (one deal per account, so no deal's activity leaks into another's) is written to CSV,
imported as known at ``IMPORT_AT``, attributed as of ``AS_OF`` and reconciled for October 2026.
The other test modules of this package build their workspaces with :func:`build_workspace` too.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
from import_fixtures import write_dataset

from cosell.attribution.engine import attribute
from cosell.data.load import import_canonical
from cosell.hygiene.reconcile import ReconcileResult
from cosell.instants import parse_instant
from cosell.policy import Policy
from cosell.service.reconcile import reconcile_known as reconcile  # with the account overlap matched
from cosell.store.attribution_store import save_run
from cosell.store.review import Finding
from cosell.store.workspace import Workspace, open_workspace

IMPORT_AT = parse_instant("2026-10-31T23:00:00Z")
AS_OF = parse_instant("2026-11-01T00:00:00Z")
POLICY = Policy()
C = "2026-09-01T10:00:00Z"  # most deals are created here ...
X = "2026-10-15T10:00:00Z"  # ... and won here (October 2026)
USERS = [
    {"user_id": "U-AE", "name": "Ada", "role": "ae"},
    {"user_id": "U-AE2", "name": "Abe", "role": "ae"},
    {"user_id": "U-OPS", "name": "Olu", "role": "partner_ops"},
    {"user_id": "U-PM", "name": "Pia", "role": "partner_manager"},
    {"user_id": "U-ADMIN", "name": "Ari", "role": "admin"},
    {"user_id": "U-FIN", "name": "Fay", "role": "finance"},
    {"user_id": "U-P1", "name": "Pat", "role": "partner", "partner_id": "P1"},
    {"user_id": "U-P3", "name": "Per", "role": "partner", "partner_id": "P3"},
]


class Data:
    """A dataset under construction: rows per canonical table."""

    def __init__(self) -> None:
        self.t: dict[str, list[dict[str, str]]] = {
            "accounts": [],
            "partners": [
                {"partner_id": p, "name": f"Partner {p}", "partner_type": "co_sell"}
                for p in ("P1", "P2", "P3")
            ],
            "users": [dict(u) for u in USERS],
            "opportunities": [],
            "stage_history": [],
            "touches": [],
            "leads": [],
            "deal_registrations": [],
            "opportunity_partners": [],
            "field_history": [],
            "partner_accounts": [],
            "fx_rates": [{"currency": "EUR", "period": "2026-10", "rate": "1.0875"}],
        }

    def account(self, account_id: str, domain: str = "") -> None:
        if all(a["account_id"] != account_id for a in self.t["accounts"]):
            self.t["accounts"].append(
                {"account_id": account_id, "name": f"Account {account_id}", "domain": domain or
                 f"{account_id.lower()}.example.com", "segment": "MM"}
            )  # fmt: skip

    def won(
        self,
        opp: str,
        account: str,
        created: str = C,
        closed: str = X,
        *,
        amount: str = "10000.00",
        currency: str = "USD",
        source: str = "",
        partner: str = "",
        log: str = "",
        ped: str = "",
        stage: str = "Closed Won",
    ) -> None:
        """A won deal: Prospecting at ``created``, the won stage at ``closed``."""
        self.account(account)
        self.t["opportunities"].append(
            {
                "opportunity_id": opp, "account_id": account, "created_at": created, "amount": amount,
                "currency": currency, "stage": stage, "owner_id": "U-AE", "close_date": closed[:10],
                "partner_source": source, "partner_id": partner, "partner_activity_log": log,
                "partner_engagement_date": ped,
            }
        )  # fmt: skip
        self.t["stage_history"] += [
            {"opportunity_id": opp, "stage": "Prospecting", "entered_at": created},
            {"opportunity_id": opp, "stage": stage, "entered_at": closed},
        ]

    def touch(
        self, touch_id: str, at: str, account: str, actor: str, kind: str, opp: str = "", partner: str = ""
    ) -> None:
        self.t["touches"].append(
            {"touch_id": touch_id, "occurred_at": at, "account_id": account, "actor": actor, "kind": kind,
             "opportunity_id": opp, "partner_id": partner}
        )  # fmt: skip

    def registration(self, reg: str, partner: str, account: str, at: str, opp: str) -> None:
        self.t["deal_registrations"].append(
            {"registration_id": reg, "partner_id": partner, "account_id": account, "registered_at": at,
             "status": "approved", "approved_at": at, "opportunity_id": opp}
        )  # fmt: skip


def kinds_data() -> Data:
    """One or more deals per finding kind; see the module docstring of each test for the story."""
    d = Data()
    # untagged_partner_involvement: declared none, a partner lead sources the deal.
    d.won("O-UPI", "A01", source="none")
    d.t["leads"].append(
        {"lead_id": "L1", "created_at": "2026-08-20T00:00:00Z", "company": "A01", "account_id": "A01",
         "source": "partner_referral", "partner_id": "P1", "converted_opportunity_id": "O-UPI",
         "converted_at": C}
    )  # fmt: skip
    d.won("O-NONE", "A02", source="none")  # declared none, no partner anywhere: nothing to find
    # missing_attribution_at_close: empty; confirmed only after the close; confirmed before it.
    d.won("O-MAC-EMPTY", "A03")
    d.won("O-MAC-LATE", "A04", source="none")
    d.won("O-MAC-OK", "A05", source="none")
    for opp, at in (("O-MAC-LATE", "2026-10-20T09:00:00Z"), ("O-MAC-OK", "2026-10-01T09:00:00Z")):
        d.t["field_history"].append(
            {"opportunity_id": opp, "field": "partner_source", "old_value": "", "new_value": "none",
             "changed_at": at, "changed_by": "U-AE"}
        )  # fmt: skip
    # over_credited: declared sourced, a direct call came first; the negative has the partner first.
    d.won("O-OVC", "A06", source="sourced", partner="P1", ped="2026-08-25")
    d.touch("T-D6", "2026-08-10T12:00:00Z", "A06", "direct", "outbound_call")
    d.touch("T-P6", "2026-09-10T12:00:00Z", "A06", "partner", "joint_call", "O-OVC", "P1")
    d.won("O-OVC-NEG", "A07", source="sourced", partner="P1")
    d.touch("T-P7", "2026-08-05T12:00:00Z", "A07", "partner", "referral", "O-OVC-NEG", "P1")
    d.touch("T-D7", "2026-08-10T12:00:00Z", "A07", "direct", "outbound_call")
    # double_sourced: two partners' registrations; two declared sourcers (both blocked); one partner.
    d.won("O-DBS", "A08", source="sourced", partner="P1")
    d.registration("R1", "P1", "A08", "2026-08-01T00:00:00Z", "O-DBS")
    d.registration("R2", "P2", "A08", "2026-08-05T00:00:00Z", "O-DBS")
    d.won("O-DBS-CLAIMS", "A09", source="sourced", partner="P1", ped="2026-08-20")
    d.t["opportunity_partners"].append(
        {
            "opportunity_id": "O-DBS-CLAIMS",
            "partner_id": "P2",
            "role": "sourcer",
            "added_at": "2026-08-25T00:00:00Z",
        }
    )
    d.touch("T-D9", "2026-08-01T12:00:00Z", "A09", "direct", "outbound_call")
    d.won("O-DBS-NEG", "A10", source="sourced", partner="P1")
    d.registration("R3", "P1", "A10", "2026-08-01T00:00:00Z", "O-DBS-NEG")
    # influence_without_activity: no log and no touch (in EUR); a log; a touch.
    d.won("O-IWA", "A11", source="influenced", partner="P2", amount="1000.00", currency="EUR")
    d.won("O-IWA-LOG", "A12", source="influenced", partner="P2", log="2026-09-10: joint call with Beta")
    d.won("O-IWA-TOUCH", "A13", source="influenced", partner="P2")
    d.touch("T-P13", "2026-09-10T12:00:00Z", "A13", "partner", "joint_call", "O-IWA-TOUCH", "P2")
    # acceleration_unproven: ten direct deals of 100 days make the baseline; one deal is slower, one faster.
    for i in range(10):
        d.won(f"O-BASE-{i}", f"B{i:02d}", "2026-03-01T10:00:00Z", "2026-06-09T10:00:00Z", source="none")
    d.won("O-ACU", "A14", "2026-06-07T10:00:00Z", source="accelerated", partner="P1")
    d.touch("T-P14", "2026-06-08T12:00:00Z", "A14", "partner", "joint_call", "O-ACU", "P1")
    d.won("O-ACC", "A15", "2026-09-15T10:00:00Z", source="accelerated", partner="P1")
    d.touch("T-P15", "2026-09-16T12:00:00Z", "A15", "partner", "joint_call", "O-ACC", "P1")
    # account_mismatch: the deal's registration sits on another account.
    d.won("O-ACM", "A16", source="sourced", partner="P1")
    d.account("A17")
    d.registration("R4", "P1", "A17", "2026-08-01T00:00:00Z", "O-ACM")
    # declared_mismatch: declared influenced, the partner's referral before creation sources it.
    d.won("O-DMM", "A18", source="influenced", partner="P1")
    d.touch("T-P18", "2026-08-20T12:00:00Z", "A18", "partner", "referral", "O-DMM", "P1")
    d.t["partner_accounts"].append(
        {
            "partner_id": "P3",
            "name": "acct 18",
            "domain": "https://www.A18.example.com/",
            "status": "customer",
        }
    )
    # Outside the period: won in September.
    d.won("O-SEPT", "A19", "2026-08-01T10:00:00Z", "2026-09-20T10:00:00Z")
    return d


def build_workspace(path: Path, data: Data, *, attributed: bool = True) -> Workspace:
    """Write ``data`` as CSV next to ``path``, import it as known at IMPORT_AT and store one
    attribution run as of (and recorded at) AS_OF."""
    folder = write_dataset(path.parent / f"{path.stem}-data", {t: rows for t, rows in data.t.items() if rows})
    ws = open_workspace(path)
    import_canonical(ws, folder, policy=POLICY, now=IMPORT_AT, by_user="test")
    if attributed:
        run = attribute(ws.con, POLICY, AS_OF, POLICY.credit_model)
        save_run(ws.con, run, "test", "batch", run_at=AS_OF)
    return ws


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kinds") / "ws.duckdb"
    build_workspace(path, kinds_data()).close()
    return path


@pytest.fixture()
def october(ws: Workspace) -> ReconcileResult:
    return reconcile(ws, POLICY, period="2026-10", as_of=AS_OF, by_user="U-OPS")


def find(result: ReconcileResult, kind: str, opp: str) -> Finding | None:
    hits = [f for f in result.findings if f.kind == kind and f.opportunity_id == opp]
    assert len(hits) <= 1
    return hits[0] if hits else None


def kinds_of(result: ReconcileResult, opp: str) -> set[str]:
    return {f.kind for f in result.findings if f.opportunity_id == opp}


def test_untagged_partner_involvement(october: ReconcileResult) -> None:
    f = find(october, "untagged_partner_involvement", "O-UPI")
    assert f is not None
    assert f.finding_id == "UPI-O-UPI"
    assert (f.declared, f.computed) == ("none", "sourced/P1")
    assert (f.suggested_tier, f.suggested_partner_id) == ("sourced", "P1")
    assert f.suggested_fix == "override to sourced with partner P1"
    assert "lead:L1@2026-08-20T00:00:00Z" in f.evidence
    assert (f.at_stake, f.at_stake_currency) == (Decimal("10000.00"), "USD")
    assert kinds_of(october, "O-NONE") == set()


def test_missing_attribution_at_close_reads_field_history(october: ReconcileResult) -> None:
    empty = find(october, "missing_attribution_at_close", "O-MAC-EMPTY")
    assert empty is not None
    assert empty.declared == "(empty)"
    assert "partner_source_at_close:empty" in empty.evidence
    assert empty.suggested_fix == "confirm partner_source=none in the CRM"
    assert (empty.suggested_tier, empty.suggested_partner_id) == ("", "")
    late = find(october, "missing_attribution_at_close", "O-MAC-LATE")
    assert late is not None
    assert "confirmed_after_close:none/U-AE@2026-10-20T09:00:00Z" in late.evidence
    assert find(october, "missing_attribution_at_close", "O-MAC-OK") is None
    assert find(october, "missing_attribution_at_close", "O-NONE") is None  # no history: the CRM value


def test_over_credited(october: ReconcileResult) -> None:
    f = find(october, "over_credited", "O-OVC")
    assert f is not None
    # Not sourced; the partner joined after creation and the deal closed in 44 days against the
    # 100-day baseline of the O-BASE deals: accelerated.
    assert (f.declared, f.computed) == ("sourced/P1", "accelerated/P1")
    assert "direct_touch:T-D6@2026-08-10T12:00:00Z" in f.evidence
    assert "guard:DIRECT_FIRST" in f.evidence
    assert f.suggested_fix == "override to accelerated with partner P1"
    # The negative has a blocked declaration too, but the partner's referral came first: sourced by P1.
    assert kinds_of(october, "O-OVC-NEG") == set()


def test_double_sourced_by_guard_and_by_claims(october: ReconcileResult) -> None:
    f = find(october, "double_sourced", "O-DBS")
    assert f is not None
    assert f.computed == "sourced/P1"
    assert "guard:DOUBLE_SOURCED" in f.evidence
    assert "claim:registration:R2/P2@2026-08-05T00:00:00Z" in f.evidence
    assert "claim:crm/P1" in f.evidence
    claims = find(october, "double_sourced", "O-DBS-CLAIMS")
    assert claims is not None
    assert "guard:DOUBLE_SOURCED" not in claims.evidence
    assert {"claim:crm/P1", "claim:opportunity_partners/P2@2026-08-25T00:00:00Z"} <= set(claims.evidence)
    assert kinds_of(october, "O-DBS-NEG") == set()


def test_influence_without_activity_with_money_in_workspace_currency(october: ReconcileResult) -> None:
    f = find(october, "influence_without_activity", "O-IWA")
    assert f is not None
    assert (f.declared, f.computed) == ("influenced/P2", "none")
    assert {"activity_log:empty", "partner_touches_by_close:0", "guard:NO_ACTIVITY"} <= set(f.evidence)
    # 1,000.00 EUR at October's rate 1.0875.
    assert (f.amount, f.currency, f.at_stake, f.at_stake_currency) == (
        Decimal("1000.00"),
        "EUR",
        Decimal("1087.50"),
        "USD",
    )
    assert find(october, "influence_without_activity", "O-IWA-LOG") is None
    assert find(october, "influence_without_activity", "O-IWA-TOUCH") is None


def test_acceleration_unproven_and_the_mismatch_it_explains(october: ReconcileResult) -> None:
    f = find(october, "acceleration_unproven", "O-ACU")
    assert f is not None
    assert (f.declared, f.computed) == ("accelerated/P1", "influenced/P1")
    assert "guard:NOT_FASTER" in f.evidence
    # remaining = X - C = 130 days; the cohort: the ten 100-day O-BASE deals and five direct-only
    # deals of 44 or 50 days (O-NONE, the three O-MAC deals, O-SEPT): the median is 100 days.
    assert {"remaining_days:130.000000", "baseline_days:100.000000", "cohort:stage:1/15"} <= set(f.evidence)
    assert find(october, "declared_mismatch", "O-ACU") is None  # explained by acceleration_unproven
    assert kinds_of(october, "O-ACC") == set()  # 30 days against 100: accelerated, as declared


def test_account_mismatch(october: ReconcileResult) -> None:
    f = find(october, "account_mismatch", "O-ACM")
    assert f is not None
    assert {"deal_account:A16", "registration:R4/A17@2026-08-01T00:00:00Z"} <= set(f.evidence)
    assert f.suggested_fix == "check the opportunity's account in the CRM: its evidence is on A17"
    assert f.suggested_tier == ""
    assert find(october, "account_mismatch", "O-DBS-NEG") is None  # its registration is on its account


def test_account_mismatch_where_nothing_would_move_has_nothing_at_stake(tmp_path: Path) -> None:
    d = Data()
    # Declared none, computed none: a direct call on another account is linked to the deal. Fixing
    # the account moves no partner credit, so nothing is at stake.
    d.won("O-ACM-NONE", "A30", source="none", amount="7000.00")
    d.touch("T-D30", "2026-09-10T12:00:00Z", "A31", "direct", "outbound_call", "O-ACM-NONE")
    # Declared empty (also missing_attribution_at_close, 5,000 at stake), computed none: the account
    # mismatch moves nothing, and the deal still counts its 5,000 once in the totals.
    d.won("O-ACM-EMPTY", "A32", amount="5000.00")
    d.touch("T-D32", "2026-09-10T12:00:00Z", "A33", "direct", "outbound_call", "O-ACM-EMPTY")
    # Declared sourced by P1 on a registration that sits on another account: the credit would move.
    d.won("O-ACM-SRC", "A34", source="sourced", partner="P1", amount="3000.00")
    d.registration("R34", "P1", "A35", "2026-08-01T00:00:00Z", "O-ACM-SRC")
    for account in ("A31", "A33", "A35"):
        d.account(account)
    ws = build_workspace(tmp_path / "acm.duckdb", d)
    try:
        result = reconcile(ws, POLICY, period="2026-10", as_of=AS_OF, by_user="U-OPS")
    finally:
        ws.close()
    none, empty, sourced = (
        find(result, "account_mismatch", o) for o in ("O-ACM-NONE", "O-ACM-EMPTY", "O-ACM-SRC")
    )
    assert none is not None and empty is not None and sourced is not None
    assert (none.declared, none.computed, none.at_stake) == ("none", "none", Decimal("0.00"))
    assert (empty.computed, empty.at_stake) == ("none", Decimal("0.00"))
    assert sourced.at_stake == Decimal("3000.00")
    missing = find(result, "missing_attribution_at_close", "O-ACM-EMPTY")
    assert missing is not None and missing.at_stake == Decimal("5000.00")
    by_kind = {k.kind: (k.deals, k.at_stake) for k in result.by_kind}
    assert by_kind["account_mismatch"] == (3, Decimal("3000.00"))
    assert result.at_stake == Decimal("8000.00")  # 5,000 + 3,000: each deal once, at its largest stake


def test_declared_mismatch_with_account_overlap(october: ReconcileResult) -> None:
    f = find(october, "declared_mismatch", "O-DMM")
    assert f is not None
    assert (f.declared, f.computed) == ("influenced/P1", "sourced/P1")
    assert "touch:T-P18@2026-08-20T12:00:00Z" in f.evidence
    assert "overlap:P3/customer" in f.evidence  # "https://www.A18.example.com/" matches a18.example.com
    assert find(october, "declared_mismatch", "O-OVC-NEG") is None
    # Declared influenced, but the partner joined a 44-day deal (baseline 100 days): accelerated.
    other = find(october, "declared_mismatch", "O-IWA-TOUCH")
    assert other is not None
    assert (other.declared, other.computed) == ("influenced/P2", "accelerated/P2")


def test_the_period_and_its_totals(october: ReconcileResult) -> None:
    assert october.period == "2026-10"
    assert all(f.opportunity_id != "O-SEPT" for f in october.findings)
    assert october.deals_checked == 17  # every deal above but the ten baseline deals and O-SEPT
    expected = {
        "untagged_partner_involvement": 1, "missing_attribution_at_close": 2, "over_credited": 2,
        "double_sourced": 2, "influence_without_activity": 1, "acceleration_unproven": 1,
        "account_mismatch": 1, "declared_mismatch": 2,
    }  # fmt: skip
    assert {k.kind: k.findings for k in october.by_kind} == expected
    # Each deal counts once in the total: O-DBS-CLAIMS is both over_credited and double_sourced.
    stakes = {f.opportunity_id: f.at_stake for f in october.findings}
    assert october.at_stake == sum(stakes.values()) == Decimal("101087.50")


def test_default_period_is_the_last_complete_month(ws: Workspace) -> None:
    result = reconcile(ws, POLICY, as_of=datetime(2026, 11, 20, tzinfo=UTC))
    assert (result.period, result.start, result.end) == (
        "2026-10",
        datetime(2026, 10, 1, tzinfo=UTC),
        datetime(2026, 11, 1, tzinfo=UTC),
    )
    september = reconcile(ws, POLICY, period="2026-09", as_of=AS_OF)
    assert {f.opportunity_id for f in september.findings} == {"O-SEPT"}
    assert [f.kind for f in september.findings] == ["missing_attribution_at_close"]
