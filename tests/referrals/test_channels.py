"""Referrals from a channel's own files: ``cosell referrals email`` and ``cosell referrals slack``
on the workspace of :mod:`.world` (P1 Alpha, contact ann@alpha-partners.com; our domain ourco.com;
A1 Northwind has an open deal, A2 Contoso nothing)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.errors import UsageError
from cosell.referrals.identify import without_inside_prospect
from cosell.referrals.parsed import FieldSource, ParsedReferral
from cosell.service.referral_channels import submit_all
from cosell.store.workspace import Workspace

from .world import at


def eml(path: Path, body: str, *, message_id: str | None, html: bool = False) -> Path:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "Ann Alpha <ann@alpha-partners.com>"
    msg["To"] = "partners@ourco.com"
    msg["Subject"] = "Fwd: an introduction"
    msg["Date"] = "Mon, 01 Jun 2026 10:00:00 +0000"
    if message_id is not None:
        msg["Message-ID"] = f"<{message_id}@alpha-partners.com>"
    msg.set_content(body, subtype="html" if html else "plain")
    path.write_bytes(msg.as_bytes())
    return path


def closed(ws: Workspace) -> Path:
    """The workspace's file, closed so that the command line may open it."""
    ws.close()
    return Path(ws.path)


def cli(path: Path, *args: str) -> tuple[int, str]:
    with at("2026-06-02T09:00:00Z"):
        done = CliRunner().invoke(app, [*args, "--workspace", str(path), "--by", "u-ops"])
    return done.exit_code, done.output


def statuses(output: str) -> list[tuple[str, str, str, bool]]:
    return [(r["status"], r["account_id"], r["prospect"]["email"], r["created"]) for r in json.loads(output)]


def test_emails_are_stored_with_their_status_and_again_change_nothing(
    ref_ws: Workspace, tmp_path: Path
) -> None:
    files = [
        eml(tmp_path / "a.eml", "Company: Contoso\nContact: Dana Diaz\nEmail: dana@contoso.com\n", message_id="a"),
        eml(tmp_path / "b.eml", "Company: Northwind Traders\nContact: Lee Li\nEmail: lee@northwind.com\n",
            message_id="b"),
        # HTML only, no contact: the To address (our inbox) is not the prospect's.
        eml(tmp_path / "c.eml", "<p>Company: Globex</p><p>Cheers, Ann</p>", message_id="c", html=True),
    ]  # fmt: skip
    ws = closed(ref_ws)
    code, out = cli(ws, "referrals", "email", *map(str, files), "--format", "json")
    assert code == 0, out
    assert statuses(out) == [
        ("open", "A2", "dana@contoso.com", True),
        ("conflict", "A1", "lee@northwind.com", True),
        ("needs_info", "", "", True),
    ]
    assert json.loads(out)[2]["missing"] == ["prospect_name", "prospect_email"]
    again_code, again = cli(ws, "referrals", "email", *map(str, files), "--format", "json")
    assert again_code == 0 and [c for *_, c in statuses(again)] == [False, False, False]


def test_two_emails_without_a_message_id_saved_under_one_name_are_two_referrals(
    ref_ws: Workspace, tmp_path: Path
) -> None:
    # Found by fuzzing referrals email: without a Message-ID the file name alone was the reference,
    # so a second introduction saved as message.eml (Outlook's name for every message) was reported
    # "already submitted" and never stored.
    (tmp_path / "monday").mkdir()
    (tmp_path / "friday").mkdir()
    monday = eml(
        tmp_path / "monday" / "message.eml",
        "Company: Contoso\nContact: Dana Diaz\nEmail: dana@contoso.com\n",
        message_id=None,
    )
    friday = eml(
        tmp_path / "friday" / "message.eml",
        "Company: Northwind Traders\nContact: Lee Li\nEmail: lee@northwind.com\n",
        message_id=None,
    )
    ws = closed(ref_ws)
    code, out = cli(ws, "referrals", "email", str(monday), str(friday), "--format", "json")
    assert code == 0, out
    assert statuses(out) == [
        ("open", "A2", "dana@contoso.com", True),
        ("conflict", "A1", "lee@northwind.com", True),
    ]
    refs = [r["source_ref"] for r in json.loads(out)]
    assert len(set(refs)) == 2 and all(r.startswith("message.eml sha256:") for r in refs)
    # The same files again are the same referrals: nothing new is recorded.
    again_code, again = cli(ws, "referrals", "email", str(monday), str(friday), "--format", "json")
    assert again_code == 0 and [c for *_, c in statuses(again)] == [False, False]


def test_the_email_summary_fits_80_columns(ref_ws: Workspace, tmp_path: Path) -> None:
    one = eml(
        tmp_path / "a.eml", "Company: Contoso\nContact: Dana Diaz\nEmail: dana@contoso.com\n", message_id="a"
    )
    code, out = cli(closed(ref_ws), "referrals", "email", str(one))
    assert code == 0, out
    assert out.splitlines()[0] == "1 referral found in a.eml: 1 new, 0 already submitted"
    assert "REF-000001: open (version 1)" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def slack_export(folder: Path) -> Path:
    folder.mkdir()
    (folder / "users.json").write_text(
        json.dumps(
            [
                {
                    "id": "U1",
                    "name": "ann",
                    "real_name": "Ann Alpha",
                    "profile": {"email": "ann@alpha-partners.com"},
                },
            ]
        )
    )
    (folder / "channels.json").write_text(json.dumps([{"id": "C1", "name": "alpha-shared"}]))
    (folder / "alpha-shared").mkdir()
    (folder / "alpha-shared" / "2026-06-01.json").write_text(json.dumps([
        {"type": "message", "user": "U1", "ts": "1780308000.000100",
         "text": "Referral for you\nCompany: Contoso\nContact: Dana Diaz\nEmail: dana@contoso.com"},
        {"type": "message", "user": "U1", "ts": "1780308060.000200", "text": "lunch anyone?"},
    ]))  # fmt: skip
    return folder


def test_a_slack_export_and_an_event_give_their_referrals(ref_ws: Workspace, tmp_path: Path) -> None:
    ws = closed(ref_ws)
    code, out = cli(ws, "referrals", "slack", str(slack_export(tmp_path / "export")), "--format", "json")
    assert code == 0, out
    (found,) = json.loads(out)
    assert (found["status"], found["partner_id"], found["account_id"]) == ("open", "P1", "A2")
    assert found["received_at"] == "2026-06-01T10:00:00.000100Z"
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"type": "url_verification", "challenge": "x"}))
    code, out = cli(ws, "referrals", "slack", str(event))
    assert code == 0 and out.startswith("0 referrals found in event.json"), out
    bad = tmp_path / "bad.json"
    bad.write_text("[1")
    code, out = cli(ws, "referrals", "slack", str(bad))
    assert code == 1 and "bad.json: not JSON" in out


@pytest.mark.parametrize(
    "raw", [b"[" * 100_000 + b"]" * 100_000, b'{"event": ' * 50_000 + b"1" + b"}" * 50_000]
)
def test_an_event_nested_too_deeply_is_refused_naming_the_file(
    ref_ws: Workspace, tmp_path: Path, raw: bytes
) -> None:
    # Found by fuzzing: the JSON reader's RecursionError on a 200 KB payload was a traceback.
    event = tmp_path / "deep.json"
    event.write_bytes(raw)
    code, out = cli(closed(ref_ws), "referrals", "slack", str(event))
    assert code == 1 and "deep.json: is nested too deeply to be a Slack event" in out, out


@pytest.mark.parametrize("command", ["slack event", "slack export", "submit"])
def test_json_with_an_unpaired_surrogate_is_refused_naming_the_file(
    ref_ws: Workspace, tmp_path: Path, command: str
) -> None:
    # Found by fuzzing: "\\ud800" is valid JSON but no text; it reached the database, which refused
    # it with a traceback. Nothing is stored.
    text = '"Referral: Company: Glo\\ud800bex"'
    if command == "slack export":
        export = slack_export(tmp_path / "export")
        day = export / "alpha-shared" / "2026-06-01.json"
        day.write_text(day.read_text().replace('"lunch anyone?"', text))
        args, name = ["slack", str(export)], "2026-06-01.json"
    elif command == "slack event":
        (tmp_path / "event.json").write_text(
            '{"type": "message", "ts": "1780308000.0", "text": ' + text + "}"
        )
        args, name = ["slack", str(tmp_path / "event.json")], "event.json"
    else:
        (tmp_path / "r.json").write_text('{"source_ref": "x1", "prospect": {"company": ' + text + "}}")
        args, name = ["submit", str(tmp_path / "r.json")], "r.json"
    ws = closed(ref_ws)
    code, out = cli(ws, "referrals", *args)
    assert code == 1 and name in out and "unpaired surrogate" in out and "Traceback" not in out, out
    assert cli(ws, "referrals", "list", "--format", "json")[1].strip() == "[]"


def test_a_batch_is_stored_whole_or_not_at_all(ref_ws: Workspace) -> None:
    good = ParsedReferral(
        "email",
        "<g@x>",
        datetime(2026, 6, 1, tzinfo=UTC),
        ("ann@alpha-partners.com",),
        prospect_company="Contoso",
        prospect_name="Dana",
        prospect_email="dana@contoso.com",
    )
    bad = ParsedReferral("email", " ", None, ("ann@alpha-partners.com",))  # no source reference
    with at("2026-06-02T09:00:00Z"), pytest.raises(UsageError):
        submit_all(ref_ws, [good, bad], "u-ops")
    assert ref_ws.con.execute("SELECT count(*) FROM referrals").fetchone() == (0,)


def test_a_message_dated_after_now_is_received_when_recorded_not_lost(ref_ws: Workspace) -> None:
    # A sender's clock may run ahead of ours: the message's date is not used (received when it was
    # recorded, never earlier), where a referral that states its own received_at is refused.
    ahead = ParsedReferral(
        "email",
        "<ahead@x>",
        datetime(2026, 6, 2, 9, 5, tzinfo=UTC),  # five minutes ahead of the clock below
        ("ann@alpha-partners.com",),
        prospect_company="Contoso",
        prospect_name="Dana",
        prospect_email="dana@contoso.com",
    )
    with at("2026-06-02T09:00:00Z"):
        [done] = submit_all(ref_ws, [ahead], "u-ops")
    v = done.referral.current
    assert done.created and v.received_at == datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
    assert v.received_at_given is False and v.recorded_at == v.received_at


@pytest.mark.parametrize(
    ("email", "domain", "kept"),
    [
        ("partners@ourco.com", "ourco.com", (None, None)),  # our inbox
        ("ann@mail.alpha-partners.com", None, (None, None)),  # the referring partner's own people
        ("dana@contoso.com", "contoso.com", ("dana@contoso.com", "contoso.com")),
        ("partners@ourco.com", "contoso.com", (None, "contoso.com")),  # the website line still stands
    ],
)
def test_a_prospect_on_our_or_the_partners_domain_is_dropped(
    email: str, domain: str | None, kept: tuple[str | None, str | None]
) -> None:
    sources = (
        FieldSource("prospect_email", "To/Cc header", email),
        FieldSource("prospect_company", "l1", "X"),
    )
    parsed = ParsedReferral("email", "<m@x>", None, prospect_company="X", prospect_email=email,
                            prospect_domain=domain, sources=sources)  # fmt: skip
    out = without_inside_prospect(parsed, frozenset({"ourco.com", "alpha-partners.com"}))
    assert (out.prospect_email, out.prospect_domain) == kept
    assert any(s.field == "prospect_email" for s in out.sources) == (kept[0] is not None)
    assert out.prospect_company == "X"


def test_the_demo_plants_an_inbox_and_shows_each_outcome(small_demo: Path) -> None:
    done = CliRunner().invoke(app, ["referrals", "list", "--workspace", str(small_demo), "--format", "json"])
    assert done.exit_code == 0, done.output
    got = [(r["referral_id"], r["status"], r["channel"]) for r in json.loads(done.output)]
    assert got == [
        ("REF-000001", "accepted", "email"),
        ("REF-000002", "conflict", "email"),
        ("REF-000003", "needs_info", "email"),
        ("REF-000004", "open", "slack"),
    ]
    shown = CliRunner().invoke(app, ["registrations", "show", "REG-000002", "--workspace", str(small_demo)])
    assert shown.exit_code == 0 and "registered the account in" in shown.output, shown.output


def test_a_referral_read_from_a_file_records_the_reason_given_else_the_command(
    ref_ws: Workspace, tmp_path: Path
) -> None:
    """Found auditing the writes: a referral submitted from an email, a Slack export or a JSON file
    without --reason, and a needs_info answer, were stored with an empty why. Each now records the
    command run on its file (the file's name: a partner user reads its referral's history)."""
    ws = closed(ref_ws)
    files = [
        eml(tmp_path / "a.eml", "Company: Contoso\nContact: Dana Diaz\nEmail: dana@contoso.com\n", message_id="a"),
        eml(tmp_path / "b.eml", "<p>Company: Globex</p>", message_id="b", html=True),
    ]  # fmt: skip
    code, out = cli(ws, "referrals", "email", *map(str, files), "--format", "json")
    assert code == 0, out
    code, out = cli(ws, "referrals", "slack", str(slack_export(tmp_path / "export")), "--reason", "  ")
    assert code == 0, out
    doc = {
        "source_ref": "crm-1",
        "prospect": {"company": "Initech", "name": "Ian Ito", "email": "ian@initech.io"},
    }
    (tmp_path / "r.json").write_text(json.dumps(doc))
    assert cli(ws, "referrals", "submit", str(tmp_path / "r.json"), "--reason", " from the portal ")[0] == 0
    code, out = cli(
        ws, "referrals", "answer", "REF-000002", "--name", "Gil Globex", "--email", "gil@globex.com"
    )
    assert code == 0, out
    code, out = cli(ws, "referrals", "list", "--format", "json")
    history = {r["referral_id"]: [(h["action"], h["reason"]) for h in r["history"]] for r in json.loads(out)}
    assert history == {
        "REF-000001": [("submitted", "cosell referrals email a.eml")],
        "REF-000002": [
            ("submitted", "cosell referrals email b.eml"),
            ("answered", "cosell referrals answer REF-000002"),
        ],
        "REF-000003": [("submitted", "cosell referrals slack export")],
        "REF-000004": [("submitted", "from the portal")],
    }
    code, out = cli(ws, "referrals", "show", "REF-000001")
    shown = " ".join(out.split())  # the history line wraps at 80 columns
    assert code == 0 and "by u-ops at 2026-06-02T09:00:00Z: cosell referrals email a.eml" in shown, out
