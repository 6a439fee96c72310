"""Parity: the batch engine and the per-deal reference give identical rows (tiers, partners, rule
ids, E, days, evidence, credits to the cent) on every golden case and on generated datasets. On a
golden case the engine runs each model whose result (rows and credits) differs from the others',
and once for a result several models share.

The same engine run is also held to the reference's stored evidence and claims (X, E, guards,
cohort, band: docs/evidence.md), with the case's own model on the golden cases and with every
generated example: one engine run per case and example checks both (tests/attribution/
test_evidence_parity.py has the evidence's other tests).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosell.attribution.engine import MODELS, attribute
from cosell.attribution.facts_read import load_facts
from cosell.attribution.reference import attribute_reference
from cosell.engine import DUCKDB, Engine
from cosell.errors import InputError
from cosell.instants import format_instant, parse_instant
from cosell.policy import Policy
from cosell.results import AttributionRow, CreditRow
from cosell.store.workspace import as_of_views

sys.path.insert(0, str(Path(__file__).parent))
from engine_support import CLIENT, GROUPED, run_path

import golden


def run_engine(
    con: Engine, policy: Policy, as_of: datetime, model: str
) -> tuple[list[AttributionRow], list[CreditRow]]:
    """The batch engine on the current rows of a workspace, evaluated at ``as_of``."""
    as_of_views(con, None)
    run = attribute(con, policy, as_of, model, make_views=False)
    return run.rows(), run.credit_rows()


Result = tuple[list[AttributionRow], list[CreditRow]]


def assert_same(
    expected: tuple[list[AttributionRow], list[CreditRow]],
    actual: tuple[list[AttributionRow], list[CreditRow]],
) -> None:
    ref_rows, ref_credits = expected
    eng_rows, eng_credits = actual
    by_id = {r.opportunity_id: r for r in eng_rows}
    assert sorted(by_id) == [r.opportunity_id for r in ref_rows]
    for ref in ref_rows:
        assert by_id[ref.opportunity_id] == ref, ref.opportunity_id
    key = lambda c: (c.opportunity_id, c.partner_id)  # noqa: E731
    assert sorted(eng_credits, key=key) == sorted(ref_credits, key=key)


# A moved or emptied golden folder fails here, loudly: never an empty parametrisation (one green skip).
CASES = golden.case_names()


def test_the_golden_cases_are_there() -> None:
    assert len(CASES) >= 30, f"{len(CASES)} golden cases under {golden.GOLDEN_DIR}"


@pytest.mark.parametrize("name", CASES)
def test_golden_case_parity(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The case's own model (rows, credits and evidence), then the engine once for each other
    result the reference gives on the same inputs (:func:`engine_models`). With the case's own
    model, the other engines' ways through the rules, run on DuckDB, give that run's rows,
    credits and evidence exactly (tests/engine/test_dialect_paths.py has their other tests)."""
    case = golden.load_case(name)
    ws = golden.case_workspace(case)
    try:
        # The current rows' views, and the facts the reference reads from them, are the same for
        # every model (nothing here writes to the workspace): made once, and read once.
        as_of_views(ws.con, None)
        facts = load_facts(ws.con, case.policy, make_views=False)
        references = {
            model: attribute_reference(facts, case.policy, case.as_of, model)
            for model in (case.model, *(m for m in MODELS if m != case.model))
        }
        own: tuple[list[AttributionRow], list[CreditRow], golden.Evidence] | None = None
        for model in engine_models(case.model, references, CASES.index(name)):
            # The evidence and claims are held to the reference's with the case's own model; the
            # other models' runs leave them out (outputs no step reads: the same rows and credits).
            run = attribute(
                ws.con, case.policy, case.as_of, model, make_views=False, evidence=model == case.model
            )
            assert_same(references[model], (run.rows(), run.credit_rows()))
            if model == case.model:
                expected = golden.evidence_of(facts, case.policy, case.as_of, model)
                own = (run.rows(), run.credit_rows(), run.evidence_rows())
                golden.assert_same_evidence(expected, own[2])
        # That run took DuckDB's windowed median (Spark's way): its candidates are among fewer
        # deals than the client's medians start at. The client's medians (DuckDB's from that many
        # candidates up) and the grouped median with the ordered tokens (PostgreSQL's) give the same.
        assert own is not None and 0 < len(own[0]) < DUCKDB.client_median_min_rows
        for path in (CLIENT, GROUPED):
            run = run_path(ws, path, monkeypatch, case.policy, case.as_of, case.model, make_views=False)
            assert (run.rows(), run.credit_rows(), run.evidence_rows()) == own, path.name
    finally:
        ws.close()


def _weighted_as_the_reference(deal: dict[str, str] | None = None, **weights: Decimal) -> list[CreditRow]:
    """Golden case ``credit_role_weighted`` under ``weights`` (role -> weight), its deal's cells
    changed by ``deal`` (imported through the canonical importer): the batch engine's rows and
    credits, asserted equal to the reference's; returns the engine's credits."""
    case = golden.load_case("credit_role_weighted")
    policy = case.policy.with_values(**{f"credit__role_weights__{role}": w for role, w in weights.items()})
    if deal is None:
        ws = golden.case_workspace(case)
    else:
        tables = golden.read_tables(case.path)
        (opportunity,) = tables["opportunities"]
        opportunity.update(deal)
        ws = golden.workspace_with(tables, policy)
    try:
        as_of_views(ws.con, None)
        facts = load_facts(ws.con, policy, make_views=False)
        reference = attribute_reference(facts, policy, case.as_of, case.model)
        rows, credits = run_engine(ws.con, policy, case.as_of, case.model)
    finally:
        ws.close()
    assert_same(reference, (rows, credits))
    return credits


def test_role_weights_at_the_policy_bound_split_as_the_reference() -> None:
    """The largest role weights a policy accepts (1,000,000 beside 0.000001 would be refused; 1,000,000
    beside 1 is the bound) run on the batch engine, without an overflow, as the reference splits."""
    _weighted_as_the_reference(sourcer=Decimal(1_000_000), influencer=Decimal(1), co_seller=Decimal(999_999))


def test_role_weights_of_any_size_split_as_the_reference() -> None:
    """Role weights of thousands, or with two decimals (scaled to integers by 100), split like
    50/15/30: 5000.25, 1500 and 3000 of 10,000.00 are 526328.25, 157890.58 and 315781.16 cents,
    floors 526328 + 157890 + 315781, the left cent to P2 (.58). The engine wrote a small integer
    weight in as a 32-bit literal and its share in millionths (500025 x 1,000,000) overflowed."""
    credits = _weighted_as_the_reference(
        sourcer=Decimal("5000.25"), influencer=Decimal(1500), co_seller=Decimal(3000)
    )
    assert [
        (c.partner_id, c.role, c.share, c.amount) for c in sorted(credits, key=lambda c: c.partner_id)
    ] == [
        ("P1", "sourcer", "0.526328", "5263.28"),
        ("P2", "influencer", "0.157891", "1578.91"),
        ("P3", "co_seller", "0.315781", "3157.81"),
    ]


@pytest.mark.parametrize("amount", ["99999999999999.9999", "-99999999999999.9999", "12345678901234.5678"])
def test_an_amount_at_the_import_limit_in_a_four_decimal_currency_splits_as_the_reference(
    amount: str,
) -> None:
    """CLF has 4 decimals: the largest amount the import takes is 999,999,999,999,999,999 units,
    which fits 64 bits, but times a role weight (50, or 1,000,000 at the policy's bound) it does
    not: the engine stopped with an INT64 overflow (exit 70). The split is now exact, as the
    reference's Decimal split, to the last unit, and its parts add up to the amount."""
    for weights in (
        {},
        {"sourcer": Decimal(1_000_000), "influencer": Decimal(1), "co_seller": Decimal(999_999)},
    ):
        credits = _weighted_as_the_reference({"amount": amount, "currency": "CLF"}, **weights)
        assert len(credits) == 3 and {c.currency for c in credits} == {"CLF"}
        assert sum(Decimal(c.amount) for c in credits) == Decimal(amount)


def engine_models(case_model: str, references: dict[str, Result], turn: int) -> list[str]:
    """The models the engine runs on a golden case: the case's own, and one of each set of models
    whose reference rows and credits (the model's name aside) are the same on the case, so every
    model whose result differs from the others' is run, and a result several models share is run
    once. Which of those runs turns with the case (``turn``, its place among the cases), so each
    model is run on a dozen cases or more (docs/benchmarks.md counts them)."""
    key = lambda c: (c.opportunity_id, c.partner_id)  # noqa: E731
    groups: dict[tuple[object, ...], list[str]] = {}
    for model, (rows, credits) in references.items():
        result = (tuple(replace(r, model="") for r in rows), tuple(sorted(credits, key=key)))
        groups.setdefault(result, []).append(model)
    return [case_model if case_model in models else models[turn % len(models)] for models in groups.values()]


def test_engine_models_runs_each_result_once() -> None:
    """The case's model is always run, a model alone with its result is always run, and a result
    several models share is run once, by one of them in turn."""

    def row(opp: str, model: str, tier: str) -> AttributionRow:
        return AttributionRow(opp, tier, "P1", "", "", "", "", "", "", "", "v1", model=model)

    def credit(share: str) -> CreditRow:
        return CreditRow("O1", "P1", "sourcer", share, "1.00", "USD")

    references: dict[str, Result] = {
        "even": ([row("O1", "even", "sourced")], [credit("1.000000")]),
        "role_weighted": ([row("O1", "role_weighted", "sourced")], [credit("1.000000")]),
        "first_touch": ([row("O1", "first_touch", "sourced")], [credit("0.500000")]),
        "last_touch": ([row("O1", "last_touch", "sourced")], [credit("0.250000")]),
        "time_decay": ([row("O1", "time_decay", "sourced")], [credit("0.250000")]),
        "position_based": ([row("O1", "position_based", "influenced")], [credit("0.250000")]),
    }
    assert engine_models("even", references, 0) == ["even", "first_touch", "last_touch", "position_based"]
    assert engine_models("even", references, 1) == ["even", "first_touch", "time_decay", "position_based"]
    assert engine_models("role_weighted", references, 7) == [
        "role_weighted", "first_touch", "time_decay", "position_based"
    ]  # fmt: skip


# --- generated datasets -------------------------------------------------------------------------

BASE = parse_instant("2026-01-01")
AS_OF = parse_instant("2026-09-01")
ACCOUNTS = ("A1", "A2", "A3")
PARTNERS = ("P1", "P2", "P3", "P4")
STAGES = ("Prospecting", "Discovery", "Negotiation", "Closed Won", "Closed Lost")
KINDS = (
    "referral", "intro", "joint_call", "implementation",  # partner engagement
    "outbound_call", "demo_request", "inbound_form",  # direct engagement
    "marketing_email_sent", "internal_note", "carrier_pigeon",  # ignored
)  # fmt: skip


def when(day: int, hour: int = 0) -> str:
    return format_instant(BASE + timedelta(days=day, hours=hour))


days = st.integers(-260, 200)
hours = st.sampled_from([0, 0, 0, 7, 13])
maybe = st.booleans()


@st.composite
def instants(draw: Any, lo: int = -260, hi: int = 200) -> str:
    return when(draw(st.integers(lo, hi)), draw(hours))


@st.composite
def datasets(draw: Any) -> dict[str, list[dict[str, str]]]:
    n_opps = draw(st.integers(1, 14))
    opp_ids = [f"O{i:02d}" for i in range(1, n_opps + 1)]
    lead_ids = [f"L{i}" for i in range(1, 5)]
    tables: dict[str, list[dict[str, str]]] = {
        "accounts": [
            {"account_id": a, "name": a, "segment": draw(st.sampled_from(["", "ENT", "SMB"]))}
            for a in ACCOUNTS
        ],
        "partners": [{"partner_id": p, "name": p, "partner_type": "co_sell"} for p in PARTNERS],
        "partner_contacts": [
            {"contact_id": "C1", "partner_id": "P1"},
            {"contact_id": "C3", "partner_id": "P3"},
        ],
        "fx_rates": [
            {"currency": "EUR", "period": f"{y}-Q{q}", "rate": r}
            for y in (2025, 2026, 2027)
            for q, r in zip((1, 2, 3, 4), ("1.1", "1.2", "0.9", "1.05"), strict=True)
        ]
        + [{"currency": "EUR", "period": "2026-03", "rate": "2"}],
    }
    opps, history = [], []
    for oid in opp_ids:
        created = draw(st.integers(-120, 120))
        stage = draw(st.sampled_from(STAGES))
        opp = {
            "opportunity_id": oid,
            "account_id": draw(st.sampled_from(ACCOUNTS)),
            "created_at": when(created, draw(hours)),
            "amount": draw(
                st.sampled_from(["1000.00", "24999.99", "25000", "99999.99", "150000", "0.05", "7"])
            ),
            "currency": draw(st.sampled_from(["", "USD", "EUR", "JPY"])),
            "stage": stage,
            "close_date": when(created + draw(st.integers(0, 120)))
            if draw(maybe) or stage.startswith("Closed")
            else "",
            "source_lead_id": draw(st.sampled_from(["", "", *lead_ids])),
            "partner_source": draw(st.sampled_from(["", "", "none", "sourced", "influenced", "accelerated"])),
            "partner_id": draw(st.sampled_from(["", "", *PARTNERS])),
            "partner_engagement_date": draw(st.sampled_from(["", when(created - 5), when(created + 3)])),
            "partner_activity_log": draw(st.sampled_from(["", "", "joint call", "  "])),
        }
        if opp["currency"] == "JPY":
            opp["amount"] = "12345"
        opps.append(opp)
        t = created + draw(st.integers(-10, 5))
        for _ in range(draw(st.integers(0, 4))):
            history.append(
                {"opportunity_id": oid, "stage": draw(st.sampled_from(STAGES)), "entered_at": when(t)}
            )
            t += draw(st.integers(0, 40))
    tables["opportunities"] = opps
    seen: set[tuple[str, str, str]] = set()
    tables["stage_history"] = [
        h
        for h in history
        if (k := (h["opportunity_id"], h["stage"], h["entered_at"])) not in seen and not seen.add(k)
    ]
    touches = []
    for i in range(draw(st.integers(0, 24))):
        actor = draw(st.sampled_from(["partner", "direct"]))
        partner, contact = "", ""
        if actor == "partner":
            choice = draw(st.integers(0, 5))
            if choice == 0:
                contact = draw(st.sampled_from(["C1", "C3", "C9"]))
            elif choice < 5:
                partner = draw(st.sampled_from(PARTNERS))
        touches.append(
            {
                "touch_id": f"T{i:02d}",
                "occurred_at": draw(instants()),
                "account_id": draw(st.sampled_from(ACCOUNTS)),
                "actor": actor,
                "kind": draw(st.sampled_from(KINDS)),
                "opportunity_id": draw(st.sampled_from(["", "", "", *opp_ids])),
                "partner_id": partner,
                "partner_contact_id": contact,
            }
        )
    tables["touches"] = touches
    tables["leads"] = [
        {
            "lead_id": lid,
            "created_at": draw(instants()),
            "partner_id": draw(st.sampled_from(["", *PARTNERS])),
            "converted_opportunity_id": draw(st.sampled_from(["", "", *opp_ids])),
        }
        for lid in lead_ids
        if draw(maybe)
    ]
    tables["deal_registrations"] = [
        {
            "registration_id": f"R{i}",
            "partner_id": draw(st.sampled_from(PARTNERS)),
            "account_id": draw(st.sampled_from(ACCOUNTS)),
            "registered_at": draw(instants(-200, 100)),
            "status": draw(st.sampled_from(["approved", "approved", "expired", "pending", ""])),
            "approved_at": draw(st.sampled_from(["", when(-100), when(50)])),
            "opportunity_id": draw(st.sampled_from(["", "", *opp_ids])),
            "expires_at": draw(st.sampled_from(["", when(-30), when(60), when(300)])),
        }
        for i in range(draw(st.integers(0, 3)))
    ]
    ops: dict[tuple[str, str, str], dict[str, str]] = {}
    for _ in range(draw(st.integers(0, 5))):
        row = {
            "opportunity_id": draw(st.sampled_from(opp_ids)),
            "partner_id": draw(st.sampled_from(PARTNERS)),
            "role": draw(st.sampled_from(["sourcer", "co_seller", "influencer", "reseller", "servicer"])),
            "added_at": draw(st.sampled_from(["", when(-20), when(10), when(90)])),
        }
        ops[(row["opportunity_id"], row["partner_id"], row["role"])] = row
    tables["opportunity_partners"] = list(ops.values())
    return tables


@st.composite
def policies(draw: Any) -> Policy:
    return Policy().with_values(
        acceleration__min_cohort_size=draw(st.integers(1, 3)),
        acceleration__min_days=draw(st.sampled_from([0, 1, 7])),
        influence__requires_activity=draw(st.booleans()),
        windows__sourcing_lookback_days=draw(st.sampled_from([30, 180])),
        windows__baseline_window_days=draw(st.sampled_from([60, 365])),
        credit__role_weights__sourcer=draw(st.sampled_from([Decimal(50), Decimal("5000.25")])),
    )


@settings(max_examples=60)
@given(tables=datasets(), policy=policies(), model=st.sampled_from(MODELS))
def test_generated_parity(tables: dict[str, list[dict[str, str]]], policy: Policy, model: str) -> None:
    """Rows and credits, and the evidence and claims, of one engine run against the reference's."""
    # The rows are inserted directly (the importer's validation is tested on its own; generated
    # rows include references the importer would refuse, such as an unknown contact).
    ws = golden.empty_workspace()
    golden.insert_tables(ws, tables)
    try:
        # One making of the current rows' views, and one reading of the facts, serve the reference's
        # rows and its evidence and the engine's run (nothing here writes to the workspace).
        as_of_views(ws.con, None)
        facts = _outcome(lambda: load_facts(ws.con, policy, make_views=False))
        if isinstance(facts, str):  # refused while reading: both of the reference's answers are this
            reference: Result | str = facts
            reference_evidence: golden.Evidence | str = facts
        else:
            reference = _outcome(lambda: attribute_reference(facts, policy, AS_OF, model))
            reference_evidence = _outcome(lambda: golden.evidence_of(facts, policy, AS_OF, model))
        engine = _outcome(lambda: _engine_run(ws.con, policy, AS_OF, model))
    finally:
        ws.close()
    # Bad input (a missing FX rate where a band is needed) must be the same error in both.
    engine_rows = engine if isinstance(engine, str) else engine[0]
    if isinstance(reference, str) or isinstance(engine_rows, str):
        assert reference == engine_rows
    else:
        assert_same(reference, engine_rows)
    engine_evidence = engine if isinstance(engine, str) else engine[1]
    if isinstance(reference_evidence, str) or isinstance(engine_evidence, str):
        assert reference_evidence == engine_evidence
    else:
        golden.assert_same_evidence(reference_evidence, engine_evidence)


def _engine_run(con: Engine, policy: Policy, as_of: datetime, model: str) -> tuple[Result, golden.Evidence]:
    """The batch engine on the views already made: its rows and credits, its evidence and claims."""
    run = attribute(con, policy, as_of, model, make_views=False)
    return (run.rows(), run.credit_rows()), run.evidence_rows()


T = TypeVar("T")


def _outcome(run: Callable[[], T]) -> T | str:
    """The result, or the input error's message when the data is refused."""
    try:
        return run()
    except InputError as exc:
        return str(exc)
