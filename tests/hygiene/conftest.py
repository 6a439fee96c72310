"""Fixtures shared by the hygiene tests (each capability's fixtures carry its own name prefix)."""

from __future__ import annotations

import copy
import csv
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cosell.data.load import import_canonical
from cosell.hygiene.autotag import apply_auto_tags
from cosell.hygiene.prompts import refresh_prompts
from cosell.policy import Policy
from cosell.store.schema import TABLES_BY_NAME
from cosell.store.workspace import Workspace, open_workspace

IntakeRows = dict[str, list[dict[str, str]]]


def _opp(
    opportunity_id: str,
    account_id: str,
    created_at: str,
    stage: str,
    *,
    close_date: str = "",
    owner_id: str = "U1",
    partner_source: str = "",
    partner_id: str = "",
    source_lead_id: str = "",
    partner_activity_log: str = "",
) -> dict[str, str]:
    return {
        "opportunity_id": opportunity_id,
        "account_id": account_id,
        "created_at": created_at,
        "amount": "1000.00",
        "currency": "USD",
        "stage": stage,
        "owner_id": owner_id,
        "close_date": close_date,
        "source_lead_id": source_lead_id,
        "partner_source": partner_source,
        "partner_id": partner_id,
        "partner_activity_log": partner_activity_log,
    }


_INTAKE_TABLES: IntakeRows = {
    "accounts": [{"account_id": f"A{i}", "name": f"Account {i}", "segment": "SMB"} for i in range(1, 9)],
    "partners": [
        {"partner_id": "P1", "name": "Alpha", "partner_type": "co_sell"},
        {"partner_id": "P2", "name": "Beta", "partner_type": "referral"},
        {"partner_id": "P3", "name": "Gamma", "partner_type": "reseller"},
    ],
    "partner_contacts": [{"contact_id": "PC3", "partner_id": "P2", "name": "Bo"}],
    "users": [
        {"user_id": "U1", "name": "Sam", "role": "ae"},
        {"user_id": "U2", "name": "Kim", "role": "ae"},
        {"user_id": "U8", "name": "Fay", "role": "finance"},
        {"user_id": "U9", "name": "Ops", "role": "partner_ops"},
    ],
    "leads": [
        # A partner lead converted to O1 (no source_lead_id on O1): auto-tag P1.
        {
            "lead_id": "L1",
            "created_at": "2026-01-05",
            "source": "partner_referral",
            "partner_id": "P1",
            "converted_opportunity_id": "O1",
        },
        # An inbound lead: not a partner lead.
        {"lead_id": "L2", "created_at": "2026-01-02", "source": "inbound"},
        # O5's source lead, by P2: auto-tag P2.
        {
            "lead_id": "L5",
            "created_at": "2026-01-25",
            "source": "partner_referral",
            "partner_id": "P2",
            "partner_contact_id": "PC3",
        },
        # O6's source lead names only a partner contact, no partner_id: not a partner lead (SPEC
        # section 2), so nothing to tag.
        {
            "lead_id": "L6",
            "created_at": "2026-01-03",
            "source": "partner_referral",
            "partner_contact_id": "PC3",
        },
    ],
    "opportunities": [
        _opp("O1", "A1", "2026-01-10", "Closed Won", close_date="2026-03-01"),
        _opp("O2", "A2", "2026-01-15", "Proposal"),
        _opp(
            "O3",
            "A3",
            "2026-01-20",
            "Closed Won",
            close_date="2026-03-10",
            partner_source="none",
            source_lead_id="L2",
        ),
        _opp(
            "O4",
            "A4",
            "2026-02-01",
            "Closed Won",
            close_date="2026-03-15",
            partner_source="sourced",
            partner_id="P2",
        ),
        _opp("O5", "A5", "2026-02-01", "Discovery", owner_id="U2", source_lead_id="L5"),
        _opp("O6", "A6", "2026-02-10", "Closed Won", close_date="2026-03-20", source_lead_id="L6"),
        _opp("O7", "A7", "2026-02-15", "Discovery", owner_id="U2"),
        _opp(
            "O8",
            "A8",
            "2026-02-20",
            "Closed Won",
            close_date="2026-03-25",
            partner_source="influenced",
            partner_id="P1",
            partner_activity_log="Joint call",
        ),
        _opp("O10", "A1", "2026-02-05", "Closed Lost", close_date="2026-03-05"),
    ],
    "stage_history": [
        {"opportunity_id": o, "stage": s, "entered_at": t}
        for o, s, t in (
            ("O1", "Discovery", "2026-01-10"),
            ("O1", "Closed Won", "2026-03-01"),
            ("O3", "Discovery", "2026-01-20"),
            ("O3", "Closed Won", "2026-03-10"),
            ("O4", "Discovery", "2026-02-01"),
            ("O4", "Closed Won", "2026-03-15"),
            ("O6", "Discovery", "2026-02-10"),
            ("O6", "Closed Won", "2026-03-20"),
            ("O8", "Discovery", "2026-02-20"),
            ("O8", "Closed Won", "2026-03-25"),
            ("O10", "Discovery", "2026-02-05"),
            ("O10", "Closed Lost", "2026-03-05"),
        )
    ],
    "field_history": [
        # O4 was confirmed after it closed; O8 before.
        {
            "opportunity_id": "O4",
            "field": "partner_source",
            "old_value": "",
            "new_value": "sourced",
            "changed_at": "2026-04-01",
            "changed_by": "U1",
        },
        {
            "opportunity_id": "O8",
            "field": "partner_source",
            "old_value": "",
            "new_value": "influenced",
            "changed_at": "2026-03-01",
            "changed_by": "U1",
        },
    ],
    "opportunity_partners": [
        {"opportunity_id": "O2", "partner_id": "P2", "role": "influencer", "added_at": "2026-02-01"},
        {"opportunity_id": "O2", "partner_id": "P3", "role": "reseller", "added_at": "2026-02-10"},
        {"opportunity_id": "O6", "partner_id": "P1", "role": "servicer", "added_at": "2026-03-25"},
        {"opportunity_id": "O8", "partner_id": "P1", "role": "co_seller", "added_at": "2026-03-01"},
        {"opportunity_id": "O10", "partner_id": "P1", "role": "influencer", "added_at": "2026-02-20"},
    ],
    "touches": [
        {
            "touch_id": "T2",
            "occurred_at": "2026-02-05",
            "account_id": "A2",
            "actor": "partner",
            "kind": "intro",
            "opportunity_id": "O2",
            "partner_id": "P2",
        },
        {
            "touch_id": "T5",
            "occurred_at": "2026-02-03",
            "account_id": "A5",
            "actor": "direct",
            "kind": "outbound_call",
            "opportunity_id": "O5",
            "user_id": "U2",
        },
        {
            "touch_id": "T7",
            "occurred_at": "2026-03-01",
            "account_id": "A7",
            "actor": "partner",
            "kind": "joint_call",
            "opportunity_id": "O7",
            "partner_id": "P1",
        },
        {
            "touch_id": "T7b",
            "occurred_at": "2026-02-10",
            "account_id": "A7",
            "actor": "partner",
            "kind": "referral",
            "opportunity_id": "O7",
            "partner_id": "P2",
        },
    ],
}


def _write(folder: Path, tables: Mapping[str, Sequence[Mapping[str, str]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        known = TABLES_BY_NAME[name].column_names
        seen = {k for r in rows for k in r}
        columns = [c for c in known if c in seen]
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([row.get(c, "") for c in columns])
    return folder


@pytest.fixture
def intake_tables() -> IntakeRows:
    """The purpose-built dataset of the intake tests (a fresh copy to change)."""
    return copy.deepcopy(_INTAKE_TABLES)


@pytest.fixture
def intake_write(tmp_path: Path) -> Callable[[IntakeRows, str], Path]:
    """``write(tables, name)``: the tables as CSV files in ``tmp_path/name``; returns the folder."""

    def write(tables: IntakeRows, name: str = "data") -> Path:
        return _write(tmp_path / name, tables)

    return write


@pytest.fixture
def intake_import(
    intake_write: Callable[[IntakeRows, str], Path],
) -> Callable[[Workspace, IntakeRows, datetime], Path]:
    """``load(ws, tables, at)``: write the tables and import them as of ``at``."""
    count = {"n": 0}

    def load(ws: Workspace, tables: IntakeRows, at: datetime) -> Path:
        count["n"] += 1
        folder = intake_write(tables, f"import-{count['n']}")
        import_canonical(ws, folder, policy=Policy(), now=at, by_user="tester")
        return folder

    return load


# The day the intake tests import their dataset.
INTAKE_DAY = datetime(2026, 5, 1, tzinfo=UTC)


@pytest.fixture
def intake_ws(
    intake_tables: IntakeRows, intake_import: Callable[[Workspace, IntakeRows, datetime], Path]
) -> Workspace:
    """The intake tables imported on :data:`INTAKE_DAY` into a new in-memory workspace."""
    workspace = open_workspace(":memory:")
    intake_import(workspace, intake_tables, INTAKE_DAY)
    return workspace


@pytest.fixture
def intake_prompted_ws(intake_ws: Workspace) -> Workspace:
    """:func:`intake_ws` after that day's auto-tags and influence prompts."""
    apply_auto_tags(intake_ws, Policy(), INTAKE_DAY)
    refresh_prompts(intake_ws, Policy(), INTAKE_DAY)
    return intake_ws


@pytest.fixture()
def ws(built: Path, tmp_path: Path) -> Iterator[Workspace]:
    """A copy of the test module's ``built`` workspace, open for the test (a module with another
    way to its workspace defines its own ``ws``)."""
    copied = tmp_path / "ws.duckdb"
    shutil.copyfile(built, copied)
    workspace = open_workspace(copied)
    yield workspace
    workspace.close()
