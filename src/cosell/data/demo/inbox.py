"""The demo's referral inbox: forwarded introductions and a Slack export, as partners send them.

Written beside the demo dataset (``inbox/*.eml`` and ``inbox/slack-export/``, which the canonical
import ignores) from the dataset's own partners, contacts and accounts, so that ``cosell demo`` can
take each through the intake a partner team uses and show what cosell makes of it:

- a Gmail forward from a partner contact introducing a company we do not have yet (complete: it
  becomes a partner lead when accepted);
- an Outlook forward from another partner's contact introducing someone at an account where our
  direct team has an open opportunity (a channel conflict);
- an HTML-only email that names a company but no contact (needs_info, with a follow-up);
- a Slack export of a shared partner channel: a referral thread whose reply adds the title, an
  edited message, and chatter that is not a referral.

Every byte is fixed by the dataset (ids, names, the as-of instant): no random boundary, id or date.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

from cosell.outfiles import write_file

INBOX = "inbox"
SLACK_EXPORT = "slack-export"
SLACK_CHANNEL = "partner-referrals"


@dataclass(frozen=True)
class Contact:
    """A partner contact as the dataset has it."""

    partner_id: str
    partner_name: str
    name: str
    email: str


@dataclass(frozen=True)
class PlantedInbox:
    """What the inbox holds: the email files, the Slack export folder and what each shows."""

    emails: tuple[Path, ...]
    slack_export: Path
    shows: tuple[tuple[str, str], ...]  # (file or message, what cosell should make of it)


def _rows(folder: Path, table: str) -> list[dict[str, str]]:
    with (folder / f"{table}.csv").open(newline="", encoding="utf-8") as f:
        return sorted(csv.DictReader(f), key=lambda r: tuple(r.values()))


def _contacts(folder: Path) -> list[Contact]:
    names = {p["partner_id"]: p["name"] for p in _rows(folder, "partners")}
    return [
        Contact(c["partner_id"], names[c["partner_id"]], c["name"], c["email"])
        for c in sorted(_rows(folder, "partner_contacts"), key=lambda c: c["contact_id"])
        if c["email"] and c["partner_id"] in names
    ]


def _own_domain(folder: Path) -> str:
    staff = sorted(u["email"] for u in _rows(folder, "users") if u["role"] != "partner" and "@" in u["email"])
    return staff[0].split("@", 1)[1] if staff else "example.com"


def _conflict_account(folder: Path) -> dict[str, str]:
    """The account of the open opportunity with the smallest id (our direct team is working it)."""
    accounts = {a["account_id"]: a for a in _rows(folder, "accounts")}
    open_deals = sorted(
        (o["opportunity_id"], o["account_id"])
        for o in _rows(folder, "opportunities")
        if o["is_closed"].lower() != "true" and accounts.get(o["account_id"], {}).get("domain")
    )
    return accounts[open_deals[0][1]] if open_deals else next(iter(accounts.values()))


def _new_company(folder: Path) -> tuple[str, str]:
    taken = {a["domain"] for a in _rows(folder, "accounts")}
    for name in ("Brightwater Analytics", "Halcyon Ridge Labs", "Copperleaf Systems"):
        domain = name.lower().replace(" ", "") + ".com"
        if domain not in taken:
            return name, domain
    raise ValueError("every planted company name is taken")  # pragma: no cover - fixed names


def _message(sender: str, to: str, subject: str, sent: datetime, message_id: str) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = f"<{message_id}@demo.cosell>"
    return msg


def _gmail_forward(a: Contact, own: str, company: tuple[str, str], sent: datetime) -> bytes:
    name, domain = company
    msg = _message(
        f"{a.name} <{a.email}>", f"partners@{own}", f"Fwd: Intro: {name} x {own}", sent, "demo-referral-1"
    )
    original = sent - timedelta(hours=2)
    msg.set_content(
        "Hi team, forwarding the intro below. They are evaluating vendors this quarter.\n\n"
        "---------- Forwarded message ---------\n"
        f"From: {a.name} <{a.email}>\n"
        f"Date: {original:%a, %b %d, %Y at %I:%M %p}\n"
        f"Subject: Intro: {name}\n"
        f"To: Lena Ortiz <lena.ortiz@{domain}>\n\n"
        f"Lena, meet the {own} team.\n\n"
        f"Company: {name}\n"
        "Contact: Lena Ortiz\n"
        "Title: VP Finance\n"
        f"Email: lena.ortiz@{domain}\n"
        f"Website: https://www.{domain}\n\n"
        f"Best,\n{a.name}\n{a.partner_name}\n"
    )
    return msg.as_bytes()


def _outlook_forward(b: Contact, own: str, account: dict[str, str], sent: datetime) -> bytes:
    msg = _message(
        f"{b.name} <{b.email}>", f"partners@{own}", f"FW: {account['name']} referral", sent, "demo-referral-2"
    )
    msg.set_content(
        f"Please see below: {account['name']} asked us for an introduction.\n\n"
        "________________________________\n"
        f"From: {b.name} <{b.email}>\n"
        f"Sent: {sent - timedelta(days=1):%A, %B %d, %Y %I:%M %p}\n"
        f"To: partners@{own}\n"
        f"Subject: {account['name']} referral\n\n"
        f"Company: {account['name']}\n"
        "Contact: Noor Haddad\n"
        "Title: Director of Operations\n"
        f"Email: noor.haddad@{account['domain']}\n\n"
        f"Thanks,\n{b.name}\n"
    )
    return msg.as_bytes()


def _html_only(a: Contact, own: str, sent: datetime) -> bytes:
    msg = _message(
        f"{a.name} <{a.email}>", f"partners@{own}", "A lead for you: Corvid Labs", sent, "demo-referral-3"
    )
    msg.set_content(
        "<html><body><p>Hi team,</p>"
        "<p>Corvid Labs is looking at tools like yours.</p>"
        "<p>Company: Corvid Labs</p>"
        f"<p>Cheers,<br>{a.name}</p></body></html>",
        subtype="html",
    )
    return msg.as_bytes()


def _slack_export(folder: Path, b: Contact, own: str, sent: datetime) -> None:
    """A one-channel Slack export: users.json, channels.json and one day of messages."""
    folder.mkdir(parents=True, exist_ok=True)
    users = [
        {
            "id": "UDEMO0001",
            "name": "rep",
            "real_name": "Priya Rao",
            "profile": {"email": f"priya.rao@{own}"},
        },
        {"id": "UDEMO0002", "name": "partner", "real_name": b.name, "profile": {"email": b.email}},
    ]
    channels = [{"id": "CDEMO0001", "name": SLACK_CHANNEL, "created": int(sent.timestamp()) - 86_400}]
    root = int(sent.timestamp())
    messages = [
        {
            "type": "message",
            "subtype": "channel_join",
            "user": "UDEMO0002",
            "ts": f"{root - 60}.000100",
            "text": "<@UDEMO0002> has joined the channel",
        },
        {
            "type": "message",
            "user": "UDEMO0002",
            "ts": f"{root}.000200",
            "thread_ts": f"{root}.000200",
            "text": "New referral for you :wave:\n*Company:* Tidewater Freight\n*Contact:* Sam Reyes\n"
            "*Email:* <mailto:sam.reyes@tidewaterfreight.com|sam.reyes@tidewaterfreight.com>",
            "edited": {"user": "UDEMO0002", "ts": f"{root + 30}.000000"},
        },
        {
            "type": "message",
            "user": "UDEMO0002",
            "ts": f"{root + 120}.000300",
            "thread_ts": f"{root}.000200",
            "parent_user_id": "UDEMO0002",
            "text": "Title: Head of Logistics",
        },
        {
            "type": "message",
            "user": "UDEMO0001",
            "ts": f"{root + 600}.000400",
            "text": "Thanks <@UDEMO0002>, we will take it from here.",
        },
    ]
    day = folder / SLACK_CHANNEL
    day.mkdir(exist_ok=True)
    for name, data in (("users.json", users), ("channels.json", channels)):
        write_file(folder / name, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    write_file(
        day / f"{sent:%Y-%m-%d}.json", (json.dumps(messages, indent=2, sort_keys=True) + "\n").encode("utf-8")
    )


def write_inbox(data_dir: Path, as_of: datetime) -> PlantedInbox:
    """Write the referral inbox beside the demo dataset in ``data_dir`` (see the module docstring)."""
    contacts = _contacts(data_dir)
    a = contacts[0]
    b = next(c for c in contacts if c.partner_id != a.partner_id)
    own = _own_domain(data_dir)
    inbox = data_dir / INBOX
    inbox.mkdir(exist_ok=True)
    company = _new_company(data_dir)
    account = _conflict_account(data_dir)
    day = timedelta(days=1)
    files = {
        "01-introduction.eml": _gmail_forward(a, own, company, as_of - 3 * day),
        "02-open-deal.eml": _outlook_forward(b, own, account, as_of - 2 * day),
        "03-no-contact.eml": _html_only(a, own, as_of - day),
    }
    for name, raw in files.items():
        write_file(inbox / name, raw)
    _slack_export(inbox / SLACK_EXPORT, b, own, as_of - day / 2)
    shows = (
        ("01-introduction.eml", f"{company[0]}: a new prospect from {a.partner_name}"),
        ("02-open-deal.eml", f"{account['name']}: our direct team has an open deal (conflict)"),
        ("03-no-contact.eml", "Corvid Labs: no contact given (needs_info, follow-up)"),
        (f"{SLACK_EXPORT}/", f"Tidewater Freight: a Slack thread from {b.partner_name}"),
    )
    return PlantedInbox(tuple(inbox / n for n in files), inbox / SLACK_EXPORT, shows)
