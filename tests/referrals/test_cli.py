"""The referral and registration commands: output at 80 columns, JSON keys, exit codes, messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.cli.common import labelled
from cosell.store.workspace import Workspace

ENV = {"COLUMNS": "80", "COSELL_NOW": "2026-06-02T09:00:00Z"}


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    done = CliRunner().invoke(app, list(args), env=ENV, input=stdin)
    assert "Traceback" not in done.output
    return done.exit_code, done.output


def test_the_referral_commands_end_to_end(ref_ws: Workspace, tmp_path: Path) -> None:
    path = ref_ws.path
    ref_ws.close()
    doc = {"source_ref": "crm-9", "received_at": "2026-06-01T10:00:00Z", "sender_emails": ["ann@alpha-partners.com"],
           "prospect": {"company": "Northwind Traders", "name": "Nia North", "email": "nia@northwind.com"}}  # fmt: skip
    code, out = run(
        "referrals", "submit", "-", "-w", path, "--by", "u-ops", "--format", "json", stdin=json.dumps(doc)
    )
    assert code == 0, out
    shown = json.loads(out)
    assert (shown["created"], shown["referral_id"], shown["status"]) == (True, "REF-000001", "conflict")
    assert [c["ref_id"] for c in shown["conflicts"]] == ["O1"]
    assert list(shown) == ["created", "referral_id", "status", "version", "channel", "source_ref", "received_at",
                           "received_at_given", "sender_emails", "sender_name", "partner_id", "partner_contact_id",
                           "partner_method", "partner_evidence", "prospect", "account_id", "account_method",
                           "account_evidence", "missing", "follow_up", "conflicts", "override_reason", "lead_id",
                           "notes", "sources", "history"]  # fmt: skip

    code, out = run("referrals", "list", "-w", path)
    assert code == 0 and "REF-000001" in out and "conflict" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    code, out = run("referrals", "show", "REF-000001", "-w", path)
    assert code == 0 and max(len(line) for line in out.splitlines()) <= 80
    assert "  open deal  opportunity O1 (Discovery) was created 2026-01-10T00:00:00Z and is" in out

    code, out = run("referrals", "accept", "REF-000001", "-w", path, "--by", "u-ops")
    assert code == 1 and "is a channel conflict" in out and "--override-conflict --reason WHY" in out
    code, out = run("referrals", "accept", "REF-000001", "-w", path, "--by", "u-ops", "--override-conflict",
                    "--reason", "the AE agreed")  # fmt: skip
    assert code == 0, out
    assert out.startswith(
        "REF-000001 accepted by u-ops: partner lead REF-000001 of P1, created 2026-06-01T10:00:00Z"
    )
    code, out = run("referrals", "show", "REF-9", "-w", path)
    assert code == 1 and "no referral REF-9" in out
    code, out = run("referrals", "reject", "REF-000001", "-w", path, "--by", "u-ops")
    assert code == 2  # --reason is required

    bad = tmp_path / "bad.json"
    bad.write_text('{"source_ref": "x", "received_at": "yesterday"}', encoding="utf-8")
    code, out = run("referrals", "submit", str(bad), "-w", path, "--by", "u-ops")
    assert code == 1 and 'bad.json, received_at: "yesterday"' in out and out.count("yesterday") == 1, out


def test_the_registration_commands(ref_ws: Workspace) -> None:
    path = ref_ws.path
    ref_ws.close()
    code, out = run(
        "registrations", "submit", "--account", "A4", "--partner", "P1", "-w", path, "--by", "u-ops"
    )
    assert code == 0, out
    assert out.startswith(
        "REG-000001 submitted: P1 on A4, pending, protected until 2026-08-31T09:00:00Z; 1 channel"
    )
    code, out = run("registrations", "approve", "REG-000001", "-w", path, "--by", "u-ops")
    assert (
        code == 1
        and "is a channel conflict (1 registration; the newest: partner P2 registered the account in R1"
        in out
    )
    code, out = run("registrations", "approve", "REG-000001", "-w", path, "--by", "u-ops", "--override-conflict",
                    "--reason", "P2 withdrew")  # fmt: skip
    assert code == 0 and "approved (conflict overridden)" in out
    code, out = run("registrations", "list", "-w", path)
    assert code == 0 and max(len(line) for line in out.splitlines()) <= 80
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith(("R1", "REG-"))}
    assert rows["REG-000001"][:3] == ["P1", "A4", "approved"] and rows["REG-000001"][-1] == "1"
    # From the CRM: never checked, so the conflicts cell is blank (not 0).
    assert rows["R1"] == ["P2", "A4", "approved", "2026-05-15", "2026-08-13"]
    code, out = run("registrations", "list", "-w", path, "--format", "json")
    listed = {r["registration_id"]: r for r in json.loads(out)}
    assert (listed["R1"]["checked"], listed["REG-000001"]["checked"]) == (False, True)
    assert listed["REG-000001"]["events"][-1]["overridden"] is True
    code, out = run("registrations", "show", "REG-000001", "-w", path)
    assert code == 0 and "approved   by u-ops at 2026-06-02T09:00:00Z (conflict overridden): P2" in out
    code, out = run(
        "registrations", "extend", "REG-000001", "-w", path, "--by", "u-ops", "--reason", "legal review"
    )
    assert code == 0 and "protected until 2026-09-30T09:00:00Z" in out
    code, out = run("registrations", "approve", "REG-9", "-w", path, "--by", "u-ops")
    assert code == 1 and "no registration REG-9" in out
    code, out = run("registrations", "list", "-w", path, "--status", "open")
    assert code == 2 and "--status must be one of pending, approved, rejected, expired" in out


def test_a_referral_received_outside_the_supported_years_is_refused(
    ref_ws: Workspace, tmp_path: Path
) -> None:
    path = str(ref_ws.path)
    for received in ("0001-01-02", "9999-12-30"):
        doc = tmp_path / "far.json"
        doc.write_text(json.dumps({"source_ref": "far", "received_at": received}), encoding="utf-8")
        code, out = run("referrals", "submit", str(doc), "-w", path, "--by", "u-ops")
        assert code == 1, out
        assert f'far.json, received_at: "{received}" is outside the years 1900 to 2999' in out, out
        assert out.count(received) == 1, out  # the value once, beside the reason


def test_a_slack_ts_outside_the_supported_years_is_not_an_instant() -> None:
    from cosell.referrals.slack_messages import ts_instant

    assert ts_instant("32503679999.999999").isoformat() == "2999-12-31T23:59:59.999999+00:00"
    for ts in ("32503680000", "253402300799.000000", "999999999999"):  # 3000, 9999-12-31, past 9999
        with pytest.raises(ValueError, match="outside the years 1900 to 2999"):
            ts_instant(ts)


def test_an_email_file_over_the_limit_is_refused_before_it_is_read(ref_ws: Workspace, tmp_path: Path) -> None:
    from cosell.referrals.email_parse import MAX_EMAIL_BYTES

    big = tmp_path / "big.eml"
    with big.open("wb") as file:
        file.truncate(MAX_EMAIL_BYTES + 1)  # sparse: no 25 MiB written
    code, out = run("referrals", "email", str(big), "-w", str(ref_ws.path), "--by", "u-ops")
    # An input error (exit 1) at the parser's own limit, as a message read some other way gets.
    assert (code, " ".join(out.split())) == (
        1,
        "error: big.eml: is 26,214,401 bytes; an email is at most 26,214,400",
    )


def test_a_long_word_in_a_reason_folds_at_80_columns(ref_ws: Workspace) -> None:
    """Found by fuzzing ``registrations reject --reason``: a reason holding a long URL printed
    ``registrations show`` lines wider than 80 columns."""
    path = ref_ws.path
    ref_ws.close()
    url = "https://crm.example.com/" + "x" * 120
    assert (
        run("registrations", "submit", "--account", "A4", "--partner", "P1", "-w", path, "--by", "u-ops")[0]
        == 0
    )
    code, out = run(
        "registrations", "reject", "REG-000001", "-w", path, "--by", "u-ops", "--reason", f"see {url}"
    )
    assert code == 0, out
    code, out = run("registrations", "show", "REG-000001", "-w", path)
    assert code == 0 and max(len(line) for line in out.splitlines()) <= 80
    assert url in "".join(line.strip() for line in out.splitlines())


@given(st.lists(st.text(alphabet="ab0-/", min_size=1, max_size=150), max_size=8))
@example(["see", "https://crm.example.com/" + "x" * 100])
def test_labelled_lines_fit_80_columns_and_keep_short_words_whole(words: list[str]) -> None:
    lines = labelled("history", " ".join(words))
    assert all(len(line) <= 80 for line in lines)
    assert "".join(line[13:] for line in lines).replace(" ", "") == "".join(words)
    shown = {w for line in lines for w in line[13:].split()}
    assert all(w in shown for w in words if len(w) <= 80 - 13)


@pytest.mark.parametrize("why", [[], ["--reason", ""], ["--reason", "  "]])
def test_an_expiry_sweep_records_why_or_is_refused(
    ref_ws: Workspace, why: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by fuzzing ``registrations expire`` without ``--reason``: the sweep expired the CRM's
    R1 with a made-up why ("protection ended by ..."), not the person's. A missing or blank
    ``--reason`` is now bad usage (exit 2, naming the option) and nothing expires; given, it is the
    why recorded and shown."""
    monkeypatch.setitem(ENV, "COSELL_NOW", "2026-09-01T00:00:00Z")  # R1's protection ended 2026-08-13
    path = ref_ws.path
    ref_ws.close()
    code, out = run("registrations", "expire", "-w", path, "--by", "u-ops", *why)
    assert code == 2 and "--reason" in out, out
    code, out = run("registrations", "show", "R1", "-w", path, "--format", "json")
    assert code == 0 and json.loads(out)["status"] == "approved", out
    code, out = run("registrations", "expire", "-w", path, "--by", "u-ops", "--reason", "weekly sweep")
    assert code == 0 and "R1" in out, out
    code, out = run("registrations", "show", "R1", "-w", path, "--format", "json")
    shown = json.loads(out)
    assert shown["status"] == "expired" and shown["events"][-1]["reason"] == "weekly sweep", shown
