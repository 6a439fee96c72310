"""The money at stake of a reconciliation adds up exactly, however large: each deal's stake is its
amount converted at up to an 8-digit FX rate (up to 10^22), in a four-decimal workspace currency."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Context, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cosell.hygiene.finding_checks import Window
from cosell.hygiene.reconcile import _result
from cosell.policy import Policy
from cosell.store.review import Finding

CLF = Policy().with_values(workspace_currency="CLF")
WIDE = Context(prec=80)
AT = datetime(2026, 10, 1, tzinfo=UTC)


def finding(i: int, kind: str, stake: Decimal) -> Finding:
    return Finding(
        f"F{i}-{kind}", kind, f"O{i:05d}", AT, "", "", "none", "", 1, stake, "CLF", stake, "CLF", "", "", "",
        (), AT,
    )  # fmt: skip


@settings(max_examples=20, deadline=None)
@given(
    # at least 120 stakes of 9 * 10^21 or more: the total has 29 digits or more
    st.lists(st.integers(9 * 10**25, 10**26 - 1), min_size=120, max_size=300),
    st.sampled_from(["overlap_unattributed", "missing_attribution_at_close"]),
)
def test_the_stakes_add_up_exactly_past_28_digits(units: list[int], kind: str) -> None:
    """Each deal counted once: its stake in ten-thousandths of a CLF. Python's default context (28
    digits) rounded a total of many such stakes (found by fuzzing huge amounts through reconcile)."""
    stakes = [Decimal(u).scaleb(-4) for u in units]
    findings = [finding(i, kind, s) for i, s in enumerate(stakes)]
    window = Window("2026-Q3", None, None, AT)
    result = _result(window, 1, len(findings), 0, CLF, findings, 0)
    exact = Decimal(sum(units)).scaleb(-4, WIDE)
    assert result.at_stake == exact
    assert [(k.kind, k.at_stake) for k in result.by_kind] == [(kind, exact)]


def test_a_thousand_stakes_of_ten_to_the_22() -> None:
    stake = Decimal("9999999912345677601200.0114")
    findings = [finding(i, "overlap_unattributed", stake) for i in range(1000)]
    result = _result(Window("2026-Q3", None, None, AT), 1, 1000, 0, CLF, findings, 0)
    assert str(result.at_stake) == "9999999912345677601200011.4000"


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=30),
    st.lists(st.booleans(), min_size=30, max_size=30),
)
def test_a_credit_notes_negative_stake_counts(cents: list[int], zero_too: list[bool]) -> None:
    """A credit note booked as a won deal has a negative stake; the totals add it like its row says
    (the per-deal maximum used to start from 0, so a negative stake vanished from every total and
    a kind's total was not the sum of its rows; found by fuzzing negative amounts through
    reconcile). A zero-stake finding on the same deal (account_mismatch) hides nothing."""
    usd = Policy()
    stakes = [Decimal(c).scaleb(-2) for c in cents]
    findings = [finding(i, "untagged_partner_involvement", s) for i, s in enumerate(stakes)]
    findings += [finding(i, "account_mismatch", Decimal("0.00")) for i in range(len(stakes)) if zero_too[i]]
    result = _result(Window("2026-Q3", None, None, AT), 1, len(stakes), 0, usd, findings, 0)
    exact = sum(stakes, Decimal("0.00"))
    assert result.at_stake == exact
    assert result.by_kind[0].kind == "untagged_partner_involvement"
    assert result.by_kind[0].at_stake == exact
