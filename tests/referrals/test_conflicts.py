"""Channel conflicts: each of the three kinds, the edges of the lookback and the window, ties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cosell.policy import Policy
from cosell.referrals.conflicts import DealRow, RegistrationRow, TouchRow, channel_conflicts, expiry_of

T = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # the claim's instant
POLICY = Policy()  # lookback 180 days, protection window 90 days
US = timedelta(microseconds=1)


def kinds(found: tuple[object, ...]) -> list[tuple[str, str]]:
    return [(c.kind, c.ref_id) for c in found]  # type: ignore[attr-defined]


def test_an_open_deal_created_at_or_before_the_claim_conflicts() -> None:
    deals = [
        DealRow("O-open", T - timedelta(days=400), "Discovery"),
        DealRow("O-tie", T, "Proposal"),  # created at the claim's instant: a tie goes to direct
        DealRow("O-later", T + US, "Discovery"),  # created after: the partner was first
    ]
    assert kinds(channel_conflicts(T, "P1", deals, [], [], POLICY)) == [
        ("open_opportunity", "O-open"), ("open_opportunity", "O-tie"),
    ]  # fmt: skip


def test_a_deal_closed_before_the_claim_does_not_conflict_but_one_closed_after_it_does() -> None:
    closed_before = DealRow("O1", T - timedelta(days=50), "Closed Lost", history=(("Closed Lost", T - US),))
    closed_at = DealRow("O2", T - timedelta(days=50), "Closed Won", history=(("Closed Won", T),))
    closed_after = DealRow("O3", T - timedelta(days=50), "Closed Won", close_date=T + timedelta(days=3))
    found = channel_conflicts(T, "P1", [closed_before, closed_at, closed_after], [], [], POLICY)
    assert kinds(found) == [("open_opportunity", "O3")]
    assert found[0].detail.endswith("was open until 2026-06-04T12:00:00Z")


def test_direct_engagement_touches_inside_the_lookback_conflict_both_ends_included() -> None:
    start = T - timedelta(days=180)
    touches = [
        TouchRow("D-start", start, "direct", "outbound_call"),  # exactly the lookback's start: in
        TouchRow("D-before", start - US, "direct", "outbound_call"),  # a microsecond older: out
        TouchRow("D-tie", T, "direct", "demo_request"),  # the claim's instant: in (tie to direct)
        TouchRow("D-after", T + US, "direct", "demo_request"),  # after the claim: out
        TouchRow("D-note", T - US, "direct", "internal_note"),  # not engagement
        TouchRow("D-unknown", T - US, "direct", "coffee"),  # unknown kind: not engagement
        TouchRow("D-partnerkind", T - 2 * US, "direct", "intro"),  # a partner kind by the direct side: direct
        TouchRow("P-touch", T - US, "partner", "outbound_call", partner_id="P2"),  # the partner side
    ]
    assert kinds(channel_conflicts(T, "P1", [], touches, [], POLICY)) == [
        ("direct_touch", "D-start"), ("direct_touch", "D-partnerkind"), ("direct_touch", "D-tie"),
    ]  # fmt: skip


def test_the_lookback_follows_the_policy() -> None:
    touch = TouchRow("D1", T - timedelta(days=31), "direct", "outbound_call")
    assert kinds(channel_conflicts(T, "P1", [], [touch], [], POLICY)) == [("direct_touch", "D1")]
    short = POLICY.with_values(windows__sourcing_lookback_days=30)
    assert channel_conflicts(T, "P1", [], [touch], [], short) == ()


def reg(
    rid: str, partner: str, at: datetime, status: str = "approved", expires: datetime | None = None
) -> RegistrationRow:
    return RegistrationRow(rid, partner, "A1", at, status, expires_at=expires)


def test_another_partners_registration_inside_its_protection_window_conflicts() -> None:
    regs = [
        reg("R-in", "P2", T - timedelta(days=89)),
        reg("R-edge", "P2", T - timedelta(days=90)),  # expires exactly at T: no longer protects
        reg("R-ext", "P3", T - timedelta(days=100), expires=T + US),  # extended past T
        reg("R-pending", "P3", T - timedelta(days=1), status="pending"),
        reg("R-rejected", "P3", T - timedelta(days=1), status="rejected"),
        reg("R-own", "P1", T - timedelta(days=1)),  # the claimant's own registration
        reg("R-tie", "P4", T, status="pending"),  # the same instant: neither was first
        reg("R-later", "P4", T + US, status="pending"),  # after the claim: the claimant was first
    ]
    assert kinds(channel_conflicts(T, "P1", [], [], regs, POLICY)) == [
        ("registration", "R-ext"), ("registration", "R-in"), ("registration", "R-pending"),
        ("registration", "R-tie"),
    ]  # fmt: skip
    assert expiry_of(regs[1], POLICY) == T


def test_a_registration_never_conflicts_with_itself() -> None:
    regs = [reg("R1", "P2", T, status="pending")]
    assert channel_conflicts(T, "P9", [], [], regs, POLICY, exclude_registration="R1") == ()


def test_first_in_first_win_on_instants_a_tie_flags_both() -> None:
    a, b = reg("RA", "PA", T, "pending"), reg("RB", "PB", T + US, "pending")
    # RA came a microsecond first: RB conflicts with RA, RA with nothing.
    assert (
        kinds(channel_conflicts(a.registered_at, "PA", [], [], [a, b], POLICY, exclude_registration="RA"))
        == []
    )
    assert kinds(
        channel_conflicts(b.registered_at, "PB", [], [], [a, b], POLICY, exclude_registration="RB")
    ) == [("registration", "RA")]
    tie = reg("RC", "PC", T, "pending")
    assert kinds(channel_conflicts(T, "PA", [], [], [a, tie], POLICY, exclude_registration="RA")) == [
        ("registration", "RC")
    ]
    assert kinds(channel_conflicts(T, "PC", [], [], [a, tie], POLICY, exclude_registration="RC")) == [
        ("registration", "RA")
    ]


_instants = st.integers(min_value=-200, max_value=200).map(lambda d: T + timedelta(hours=d * 12))


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["P1", "P2", "P3"]),
            _instants,
            st.sampled_from(["pending", "approved", "rejected"]),
        ),
        max_size=8,
    ),
    st.lists(st.tuples(_instants, st.sampled_from(["outbound_call", "internal_note", "intro"])), max_size=6),
    st.randoms(use_true_random=False),
)
def test_the_conflicts_do_not_depend_on_row_order(
    regs: list[tuple[str, datetime, str]], touch_rows: list[tuple[datetime, str]], rnd: object
) -> None:
    registrations = [reg(f"R{i}", p, at, status) for i, (p, at, status) in enumerate(regs)]
    touches = [TouchRow(f"T{i}", at, "direct", kind) for i, (at, kind) in enumerate(touch_rows)]
    deals = [DealRow("O1", T - timedelta(days=3), "Discovery"), DealRow("O2", T + US, "Discovery")]
    first = channel_conflicts(T, "P1", deals, touches, registrations, POLICY)
    for rows in (registrations, touches, deals):
        rnd.shuffle(rows)  # type: ignore[attr-defined]
    assert channel_conflicts(T, "P1", deals, touches, registrations, POLICY) == first
    # And each registration conflict is another partner's, registered at or before T, protecting at T.
    for c in first:
        if c.kind == "registration":
            r = next(r for r in registrations if r.registration_id == c.ref_id)
            assert (
                r.partner_id != "P1"
                and r.status != "rejected"
                and r.registered_at <= T < expiry_of(r, POLICY)
            )


@given(
    st.lists(st.integers(min_value=0, max_value=80 * 24), min_size=1, max_size=6, unique=True),
    st.randoms(use_true_random=False),
)
def test_first_in_first_win_only_the_earliest_registration_is_clear(hours: list[int], rnd: object) -> None:
    # Registrations of distinct partners on one account, all inside one protection window: the
    # first (by instant) has no registration conflict, every later one conflicts with all before it.
    regs = [reg(f"R{i}", f"P{i}", T + timedelta(hours=h), "pending") for i, h in enumerate(hours)]
    shuffled = list(regs)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    for r in regs:
        found = channel_conflicts(r.registered_at, r.partner_id, [], [], shuffled, POLICY,
                                  exclude_registration=r.registration_id)  # fmt: skip
        earlier = sorted(
            (o.registered_at, o.registration_id) for o in regs if o.registered_at < r.registered_at
        )
        assert [(c.at, c.ref_id) for c in found] == earlier
