"""One test per kind of bad input: each asserts the exact problem (file, row, column, value, reason)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from import_fixtures import base_tables, dataset, write_dataset

from cosell.attribution.engine import attribute
from cosell.data.load import import_canonical
from cosell.data.validate import NULL_MARKER
from cosell.errors import ImportFailed, Problem
from cosell.instants import parse_instant
from cosell.policy import Policy
from cosell.results import AttributionRow
from cosell.store.workspace import Workspace, open_workspace

IMPORTED = parse_instant("2026-06-01")


def problems(folder: Path, **changes: object) -> list[Problem]:
    dataset(folder, **changes)  # type: ignore[arg-type]
    ws = open_workspace(":memory:")
    with pytest.raises(ImportFailed) as failed:
        import_canonical(ws, folder)
    return failed.value.problems


def with_cell(table: str, index: int, column: str, value: str) -> dict[str, object]:
    rows = [dict(r) for r in base_tables()[table]]
    rows[index][column] = value
    return {table: rows}


@pytest.mark.parametrize(
    ("table", "column", "value", "reason"),
    [
        ("opportunities", "amount", "12,5OO", "is not a number"),
        ("opportunities", "amount", "1e5", "is not a number"),
        (
            "opportunities",
            "amount",
            "48000.001",
            "has non-zero digits beyond the 2 decimal places EUR allows",
        ),
        (
            "opportunities",
            "amount",
            "123456789012345",
            "is too large (more than 14 digits before the decimal point)",
        ),
        ("opportunities", "currency", "eur", "is not an ISO 4217 currency code"),
        ("opportunities", "created_at", "01/20/2026", "is not an ISO 8601 date or timestamp"),
        ("opportunities", "created_at", "2026-02-30", "is not a valid date or time"),
        ("opportunities", "created_at", "2026-02-03T24:00", "is not a valid date or time"),
        ("opportunities", "created_at", "2026-02-03T10:00:00+24:00", "is not a valid date or time"),
        ("opportunities", "created_at", "2026-02-03T10:00:00+99:99", "is not a valid date or time"),
        ("opportunities", "created_at", "2026-02-03T10:00:00-0560", "is not a valid date or time"),
        (
            "opportunities",
            "created_at",
            "2026-02-03T10:00:00.123456789Z",
            "has a fraction of a second finer than a microsecond (a non-zero digit past the sixth): "
            "cosell keeps instants to the microsecond and cannot keep this one exactly",
        ),
        ("opportunities", "is_won", "maybe", "is not true or false (true/false, t/f, yes/no, 1/0)"),
        (
            "opportunities",
            "partner_source",
            "Sourced",
            "is not one of: none, sourced, influenced, accelerated",
        ),
        (
            "partners",
            "partner_type",
            "vendor",
            "is not one of: referral, co_sell, reseller, integration, agency, affiliate, services",
        ),
        (
            "program_costs",
            "period",
            "2026-Q5",
            "is not a period (a quarter like 2026-Q3 or a month like 2026-08)",
        ),
        ("program_costs", "amount", "10.005", "has non-zero digits beyond the 2 decimal places USD allows"),
        ("fx_rates", "rate", "0", "must be positive"),
        ("fx_rates", "rate", "-1.2", "must be positive"),
        ("fx_rates", "rate", "1,08", "is not a number"),
        ("fx_rates", "rate", "1.0875000000001", "has non-zero digits beyond 12 decimal places"),
        ("fx_rates", "currency", "XYZ", "is not an ISO 4217 currency code"),
        # How MySQL and Hive dumps write NULL: said so, not "is not a number".
        ("opportunities", "amount", "\\N", NULL_MARKER),
        ("opportunities", "created_at", "NULL", NULL_MARKER),
        ("opportunities", "partner_source", "null", NULL_MARKER),
        ("opportunities", "is_won", "\\N", NULL_MARKER),
        ("opportunities", "currency", "NULL", NULL_MARKER),
        ("program_costs", "period", "\\N", NULL_MARKER),
        ("fx_rates", "rate", "NULL", NULL_MARKER),
    ],
)
def test_bad_cell(tmp_path: Path, table: str, column: str, value: str, reason: str) -> None:
    found = problems(tmp_path, **with_cell(table, 0, column, value))
    assert found == [Problem(f"{table}.csv", 2, column, value, reason)]


def test_a_null_marker_in_free_text_is_kept_as_written(tmp_path: Path) -> None:
    """A company may be called "Null": a free-text cell is kept as written, a typed one refused."""
    dataset(tmp_path, **with_cell("accounts", 0, "name", "NULL"))
    ws = open_workspace(":memory:")
    import_canonical(ws, tmp_path)
    assert ws.con.execute("SELECT name FROM accounts WHERE account_id = 'A1'").fetchone() == ("NULL",)


def test_problem_message_reads_like_the_spec(tmp_path: Path) -> None:
    found = problems(tmp_path, **with_cell("opportunities", 1, "amount", "12,5OO"))
    assert str(found[0]) == 'opportunities.csv row 3, amount: "12,5OO" is not a number'


def test_zero_minor_unit_currency(tmp_path: Path) -> None:
    rows = [dict(r) for r in base_tables()["opportunities"]]
    rows[0].update(currency="JPY", amount="100.5")
    rows[1].update(currency="JPY", amount="100.")
    assert problems(tmp_path, opportunities=rows) == [
        Problem(
            "opportunities.csv",
            2,
            "amount",
            "100.5",
            "has non-zero digits beyond the 0 decimal places JPY allows",
        )
    ]


def test_empty_currency_means_workspace_currency(tmp_path: Path) -> None:
    found = problems(tmp_path, **with_cell("opportunities", 1, "amount", "1.999"))
    assert found == [
        Problem(
            "opportunities.csv",
            3,
            "amount",
            "1.999",
            "has non-zero digits beyond the 2 decimal places USD allows",
        )
    ]


def test_required_value_missing(tmp_path: Path) -> None:
    found = problems(tmp_path, **with_cell("touches", 1, "kind", "  "))
    assert found == [Problem("touches.csv", 3, "kind", "  ", "a value is required")]


def test_required_column_missing(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "amount"} for r in base_tables()["opportunities"]]
    assert problems(tmp_path, opportunities=rows) == [
        Problem("opportunities.csv", None, "amount", None, "required column is missing")
    ]


def test_duplicate_key_names_both_rows(tmp_path: Path) -> None:
    rows = [dict(r) for r in base_tables()["touches"]]
    rows.append(dict(rows[0], notes="again"))
    assert problems(tmp_path, touches=rows) == [
        Problem("touches.csv", 2, "touch_id", "T1", "is a duplicate key: also on row 4"),
        Problem("touches.csv", 4, "touch_id", "T1", "is a duplicate key: also on row 2"),
    ]


def test_duplicate_composite_key_compares_instants_exactly(tmp_path: Path) -> None:
    rows = [dict(r) for r in base_tables()["stage_history"]]
    rows.append({"opportunity_id": "O1", "stage": "Discovery", "entered_at": "2026-01-20T11:00:00+01:00"})
    assert problems(tmp_path, stage_history=rows) == [
        Problem(
            "stage_history.csv",
            2,
            "opportunity_id, stage, entered_at",
            "O1, Discovery, 2026-01-20T10:00:00Z",
            "is a duplicate key: also on row 4",
        ),
        Problem(
            "stage_history.csv",
            4,
            "opportunity_id, stage, entered_at",
            "O1, Discovery, 2026-01-20T11:00:00+01:00",
            "is a duplicate key: also on row 2",
        ),
    ]


def test_reference_to_a_missing_row(tmp_path: Path) -> None:
    found = problems(tmp_path, **with_cell("touches", 0, "account_id", "A9"))
    assert found == [Problem("touches.csv", 2, "account_id", "A9", "is not in accounts.account_id")]


def test_references_of_several_columns_of_one_row(tmp_path: Path) -> None:
    # The touches' references are checked in one scan: each bad column is its own problem, with the
    # raw value, and a target row without a key (itself a problem) hides no missing reference.
    rows = [dict(r) for r in base_tables()["touches"]]
    rows[0].update(account_id=" A9 ", opportunity_id="O9", partner_id="P9", user_id="U9")
    rows[1].update(partner_contact_id="PC9")
    contacts = [*base_tables()["partner_contacts"], {"contact_id": "", "partner_id": "P1", "name": "X"}]
    assert problems(tmp_path, touches=rows, partner_contacts=contacts) == [
        Problem("partner_contacts.csv", 3, "contact_id", None, "a value is required"),
        Problem("touches.csv", 2, "account_id", " A9 ", "is not in accounts.account_id"),
        Problem("touches.csv", 2, "opportunity_id", "O9", "is not in opportunities.opportunity_id"),
        Problem("touches.csv", 2, "partner_id", "P9", "is not in partners.partner_id"),
        Problem("touches.csv", 2, "user_id", "U9", "is not in users.user_id"),
        Problem("touches.csv", 3, "partner_contact_id", "PC9", "is not in partner_contacts.contact_id"),
    ]


def test_reference_to_a_row_already_in_the_workspace(tmp_path: Path) -> None:
    ws = open_workspace(":memory:")
    import_canonical(ws, dataset(tmp_path / "first"))
    second = dataset(tmp_path / "second", accounts=None, partners=None, opportunities=None)
    report = import_canonical(ws, second)
    assert {t.table for t in report.tables} == {
        "partner_contacts",
        "users",
        "stage_history",
        "touches",
        "program_costs",
        "fx_rates",
    }


def test_user_references_only_checked_when_there_are_users(tmp_path: Path) -> None:
    accounts = [dict(r, owner_id="U9") for r in base_tables()["accounts"]]
    touches = [dict(r, user_id="U9") for r in base_tables()["touches"]]
    ws = open_workspace(":memory:")
    import_canonical(ws, dataset(tmp_path / "a", users=None, accounts=accounts, touches=touches))
    found = problems(tmp_path / "b", accounts=accounts)
    assert found == [
        Problem("accounts.csv", 2, "owner_id", "U9", "is not in users.user_id"),
        Problem("accounts.csv", 3, "owner_id", "U9", "is not in users.user_id"),
    ]


def test_partner_touch_needs_a_partner(tmp_path: Path) -> None:
    rows = [dict(r) for r in base_tables()["touches"]]
    rows[0].update(partner_id="", partner_contact_id="")
    assert problems(tmp_path, touches=rows) == [
        Problem(
            "touches.csv", 2, "partner_id", None, "a partner touch needs partner_id or partner_contact_id"
        )
    ]


def _attribution(ws: Workspace) -> dict[str, AttributionRow]:
    run = attribute(ws.con, Policy(), parse_instant("2026-06-30"), "role_weighted")
    return {r.opportunity_id: r for r in run.rows()}


def test_partner_touch_with_only_a_contact_takes_the_contacts_partner(tmp_path: Path) -> None:
    rows = [dict(r) for r in base_tables()["touches"]]
    rows[0].update(partner_id="", partner_contact_id="PC1")
    ws = open_workspace(":memory:")
    import_canonical(ws, dataset(tmp_path, touches=rows), now=IMPORTED)
    stored = ws.con.execute("SELECT partner_id, partner_contact_id FROM cur_touches WHERE touch_id = 'T1'")
    assert stored.fetchall() == [(None, "PC1")]  # stored as given; the rules resolve the contact
    o1 = _attribution(ws)["O1"]
    # T1 is P1's earliest engagement touch (S3) because PC1 is P1's contact (SPEC 1, touches).
    assert (o1.tier, o1.rules, o1.evidence) == ("sourced", "S3 S4", "partner:P1 touch:T1")
    assert o1.engagement_at == "2026-01-10T16:00:00Z"


def test_partner_user_needs_a_partner(tmp_path: Path) -> None:
    found = problems(tmp_path, **with_cell("users", 1, "partner_id", ""))
    assert found == [Problem("users.csv", 3, "partner_id", None, "a user with role partner needs partner_id")]


def test_closed_deal_needs_a_close_time(tmp_path: Path) -> None:
    opportunities = [dict(r) for r in base_tables()["opportunities"]]
    opportunities[0]["close_date"] = ""
    history = [r for r in base_tables()["stage_history"] if r["stage"] != "Closed Won"]
    found = problems(tmp_path, opportunities=opportunities, stage_history=history)
    assert found == [
        Problem(
            "opportunities.csv",
            2,
            "close_date",
            None,
            'the deal is closed (stage "Closed Won") but has neither a close_date nor a stage_history entry into that stage',
        )
    ]


def test_closed_deal_with_history_but_no_close_date_closes_at_its_won_entry(tmp_path: Path) -> None:
    ws = open_workspace(":memory:")
    changes = with_cell("opportunities", 0, "close_date", "")
    import_canonical(ws, dataset(tmp_path, **changes), now=IMPORTED)  # type: ignore[arg-type]
    stored = ws.con.execute("SELECT stage, close_date FROM cur_opportunities WHERE opportunity_id = 'O1'")
    assert stored.fetchall() == [("Closed Won", None)]
    # X is the entry into Closed Won (2026-04-30T12:00+02:00 = 10:00Z); C is 2026-01-20T10:00Z.
    assert _attribution(ws)["O1"].cycle_days == "100.000000"


def test_every_problem_is_counted_and_the_first_fifty_listed(tmp_path: Path) -> None:
    rows = [
        dict(base_tables()["touches"][1], touch_id=f"T{i:03d}", occurred_at="yesterday") for i in range(120)
    ]
    found = dataset(tmp_path, touches=rows)
    ws = open_workspace(":memory:")
    with pytest.raises(ImportFailed) as failed:
        import_canonical(ws, found)
    assert failed.value.total == 120
    assert failed.value.limit_hit
    assert [p.row for p in failed.value.problems] == list(range(2, 52))
    assert "... and 70 more problems" in str(failed.value)


@pytest.mark.parametrize(
    ("total", "said"), [(2, "... and 1 more problem\n"), (1_002, "... and 1,001 more problems\n")]
)
def test_the_problems_left_unlisted_are_counted_in_words(total: int, said: str) -> None:
    """One more problem in the singular, more in the plural, thousands separated: the message is
    forwarded as it is (cosell.report_model.counted)."""
    shown = [Problem("touches.csv", 2, "occurred_at", "yesterday", "is not an instant")]
    assert said in str(ImportFailed(shown, total=total))


def test_problems_of_several_files_in_table_order(tmp_path: Path) -> None:
    changes = {**with_cell("touches", 0, "actor", "robot"), **with_cell("accounts", 1, "name", "")}
    assert problems(tmp_path, **changes) == [
        Problem("accounts.csv", 3, "name", None, "a value is required"),
        Problem("touches.csv", 2, "actor", "robot", "is not one of: partner, direct"),
    ]


def test_nanoseconds_that_are_a_microsecond_instant_are_read_exactly(tmp_path: Path) -> None:
    """A warehouse export (Snowflake TIMESTAMP_NTZ(9), BigQuery, Spark) writes nine fraction digits;
    zeros past the sixth keep the instant exact, so it is read as that microsecond instant."""
    opportunities = [dict(r) for r in base_tables()["opportunities"]]
    opportunities[0]["created_at"] = "2026-01-20 10:00:00.123456000"
    opportunities[1]["created_at"] = "2026-02-01T09:30:00.000000000Z"
    dataset(tmp_path, opportunities=opportunities)
    ws = open_workspace(":memory:")
    import_canonical(ws, tmp_path)
    created = dict(ws.con.execute("SELECT opportunity_id, created_at FROM opportunities").fetchall())
    assert created == {
        "O1": parse_instant("2026-01-20T10:00:00.123456Z"),
        "O2": parse_instant("2026-02-01T09:30:00Z"),
    }


def _registration(**cells: str) -> dict[str, str]:
    base = {"registration_id": "R1", "partner_id": "P1", "account_id": "A1", "registered_at": "2026-01-05",
            "status": "approved", "approved_at": "", "opportunity_id": "O1", "expires_at": ""}  # fmt: skip
    return base | cells


def test_a_registration_that_ends_before_it_was_made_or_names_another_accounts_deal_is_a_warning(
    tmp_path: Path,
) -> None:
    """SPEC section 2 reads a registration as written: one whose expires_at is not after its
    registered_at protects no deal, and one whose opportunity_id is a deal of another account is
    that deal's registration. Both were imported without a word; a CRM typo is no reason to refuse
    the import, so each is kept and named in the import's warnings."""
    registrations = [
        _registration(registration_id="R1", expires_at="2026-01-01T00:00:00Z"),
        _registration(registration_id="R2", opportunity_id="O2"),
        _registration(registration_id="R3", expires_at="2026-12-31", opportunity_id=""),
        _registration(registration_id="R4", account_id="A2", opportunity_id="O2", expires_at="2026-01-05"),
        _registration(registration_id="R5", expires_at="2026-01-05T00:00:00.000001Z"),
    ]
    dataset(tmp_path, deal_registrations=registrations)
    ws = open_workspace(":memory:")
    report = import_canonical(ws, tmp_path)
    assert [str(w) for w in report.warnings] == [
        'deal_registrations.csv row 2, expires_at: "2026-01-01T00:00:00Z" is not after the registration\'s '
        "registered_at: it ended no later than it was made, so the rules count it for no deal",
        'deal_registrations.csv row 3, opportunity_id: "O2" is a deal of account A2, not of the '
        "registration's account A1: the rules read it as written (a registration of that deal)",
        'deal_registrations.csv row 5, expires_at: "2026-01-05" is not after the registration\'s '
        "registered_at: it ended no later than it was made, so the rules count it for no deal",
    ]
    stored = ws.con.execute("SELECT registration_id FROM cur_deal_registrations ORDER BY 1").fetchall()
    assert stored == [("R1",), ("R2",), ("R3",), ("R4",), ("R5",)]


def test_a_registration_of_a_deal_already_in_the_workspace_is_checked_against_its_account(
    tmp_path: Path,
) -> None:
    """The deal's account is the one the workspace will hold: a later import of registrations
    alone reads the stored deals, and a deal this import moves to another account counts as moved."""
    ws = open_workspace(":memory:")
    import_canonical(ws, dataset(tmp_path / "first"), now=IMPORTED)
    only = write_dataset(tmp_path / "second", {"deal_registrations": [_registration(opportunity_id="O2")]})
    report = import_canonical(ws, only, now=IMPORTED)
    assert [(w.column, w.value, w.first_row) for w in report.warnings] == [("opportunity_id", "O2", 2)]
    opportunities = [dict(r) for r in base_tables()["opportunities"]]
    opportunities[1]["account_id"] = "A1"
    moved = dataset(
        tmp_path / "third",
        opportunities=opportunities,
        deal_registrations=[_registration(opportunity_id="O2")],
    )
    assert import_canonical(ws, moved, now=IMPORTED).warnings == ()


def test_registration_warnings_with_rejects_read_the_accepted_deals(tmp_path: Path) -> None:
    """With --rejects, a registration of a rejected deal is rejected with it (no warning), and one
    of an accepted deal of another account is warned about once."""
    opportunities = [dict(r) for r in base_tables()["opportunities"]]
    opportunities[1]["amount"] = "12,5OO"
    registrations = [
        _registration(registration_id="R1", account_id="A2", opportunity_id="O1"),
        _registration(registration_id="R2", opportunity_id="O2"),
    ]
    dataset(tmp_path / "in", opportunities=opportunities, deal_registrations=registrations)
    ws = open_workspace(":memory:")
    report = import_canonical(ws, tmp_path / "in", rejects=tmp_path / "rejects.csv")
    assert [(w.file, w.first_row, w.column, w.value) for w in report.warnings] == [
        ("deal_registrations.csv", 2, "opportunity_id", "O1")
    ]
    assert "of account A1, not of the registration's account A2" in str(report.warnings[0])
    stored = ws.con.execute("SELECT registration_id FROM cur_deal_registrations").fetchall()
    assert stored == [("R1",)]


@pytest.mark.parametrize("rate", ["1.087500000000000000", "1.0875000000000", "1.000000000001000000"])
def test_a_rate_with_zeros_past_the_twelfth_decimal_is_that_rate(tmp_path: Path, rate: str) -> None:
    """A warehouse's NUMBER(38,18) rate column writes 1.087500000000000000: it was refused as
    "has more than 12 decimal places", though the zeros change nothing (as past a currency's minor
    unit); it is read as the exact rate."""
    dataset(tmp_path, fx_rates=[{"currency": "EUR", "period": "2026-01", "rate": rate}])
    ws = open_workspace(":memory:")
    import_canonical(ws, tmp_path)
    stored = ws.con.execute("SELECT rate FROM fx_rates").fetchall()
    assert stored == [(Decimal(rate),)]
