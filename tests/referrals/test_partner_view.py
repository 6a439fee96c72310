"""What a partner user may read (SPEC section 9): its own partner's referrals and registrations,
never another partner's, nor another partner's name or registration in a conflict."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.policy import Policy
from cosell.referrals.parsed import ParsedReferral
from cosell.service import registrations
from cosell.service.referrals import submit_parsed
from cosell.store.workspace import Workspace

from .world import at


def read(path: Path, *args: str) -> tuple[int, str]:
    done = CliRunner().invoke(app, [*args, "--workspace", str(path)])
    return done.exit_code, done.output


def test_a_partner_user_reads_only_its_own(ref_ws: Workspace) -> None:
    beta = ParsedReferral(
        "api",
        "beta-1",
        datetime(2026, 6, 1, tzinfo=UTC),
        ("bo@beta.io",),
        prospect_company="Contoso",
        prospect_name="Dana",
        prospect_email="dana@contoso.com",
    )
    alpha = ParsedReferral(
        "api",
        "alpha-1",
        datetime(2026, 6, 1, tzinfo=UTC),
        ("ann@alpha-partners.com",),
        prospect_company="Contoso",
        prospect_name="Dana",
        prospect_email="dana@contoso.com",
    )
    with at("2026-06-02T09:00:00Z"):
        theirs = submit_parsed(ref_ws, beta, "u-ops").referral.current.referral_id
        mine = submit_parsed(ref_ws, alpha, "u-ops").referral.current.referral_id
        # P1 registers Tailspin, which P2's approved R1 protects: a conflict naming P2 and R1.
        reg = registrations.submit(ref_ws, Policy(), partner_id="P1", account_id="A4", by="u-p1")
    assert [c.ref_id for c in reg.conflicts] == ["R1"]
    path = Path(ref_ws.path)
    ref_ws.close()

    code, out = read(path, "referrals", "list", "--format", "json", "--by", "u-p1")
    assert code == 0 and [r["referral_id"] for r in json.loads(out)] == [mine]
    code, out = read(path, "referrals", "show", theirs, "--by", "u-p1")
    assert code == 1 and f"no referral {theirs}" in out
    code, out = read(path, "referrals", "show", theirs, "--by", "u-ops")
    assert code == 0 and "P2" in out

    rid = reg.row.registration_id
    code, out = read(path, "registrations", "list", "--format", "json", "--by", "u-p1")
    assert code == 0 and [r["registration_id"] for r in json.loads(out)] == [rid]
    code, out = read(path, "registrations", "show", rid, "--by", "u-p1")
    assert code == 0 and "another partner registered the account at 2026-05-15" in out
    assert "P2" not in out and "R1" not in out
    code, out = read(path, "registrations", "show", "R1", "--by", "u-p1")
    assert code == 1 and "no registration R1" in out
    code, out = read(path, "registrations", "show", rid, "--by", "u-ops")
    assert code == 0 and "P2" in out and "R1" in out
