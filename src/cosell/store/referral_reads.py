"""The canonical rows that referral intake and deal registrations read: the partners and their
contacts, the accounts, the workspace's own addresses, and what happened on one account (its deals
with their stage history, its touches, its registrations).

Each reader returns plain tuples in the documented column order, current row versions only, in a
total order (so everything built from them is the same on any machine); instants are aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cosell.engine import Engine


def _utc(value: Any) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def partner_rows(con: Engine) -> list[tuple[str, str, str]]:
    """(partner_id, name, domain) of every partner, by partner_id."""
    rows = con.execute(
        "SELECT partner_id, coalesce(name, ''), coalesce(domain, '') FROM cur_partners ORDER BY partner_id"
    ).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def contact_rows(con: Engine) -> list[tuple[str, str, str, str]]:
    """(contact_id, partner_id, name, email) of every partner contact, by contact_id."""
    rows = con.execute(
        "SELECT contact_id, partner_id, coalesce(name, ''), coalesce(email, '') FROM cur_partner_contacts "
        "ORDER BY contact_id"
    ).fetchall()
    return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]


def account_rows(con: Engine) -> list[tuple[str, str, str]]:
    """(account_id, name, domain) of every account, by account_id."""
    rows = con.execute(
        "SELECT account_id, coalesce(name, ''), coalesce(domain, '') FROM cur_accounts ORDER BY account_id"
    ).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def own_user_emails(con: Engine) -> list[str]:
    """The email addresses of the workspace's own people: users who are not partner users (no
    partner role, no partner_id), sorted."""
    rows = con.execute(
        "SELECT DISTINCT email FROM cur_users WHERE coalesce(email, '') <> '' "
        "AND coalesce(role, '') <> 'partner' AND coalesce(partner_id, '') = '' ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows]


def account_exists(con: Engine, account_id: str) -> bool:
    row = con.execute("SELECT count(*) FROM cur_accounts WHERE account_id = ?", [account_id]).fetchone()
    return bool(row and row[0])


def opportunity_on_account(con: Engine, opportunity_id: str, account_id: str) -> bool:
    """Whether ``opportunity_id`` is a current deal on ``account_id``."""
    row = con.execute(
        "SELECT count(*) FROM cur_opportunities WHERE opportunity_id = ? AND account_id = ?",
        [opportunity_id, account_id],
    ).fetchone()
    return bool(row and row[0])


def partner_exists(con: Engine, partner_id: str) -> bool:
    row = con.execute("SELECT count(*) FROM cur_partners WHERE partner_id = ?", [partner_id]).fetchone()
    return bool(row and row[0])


def lead_exists(con: Engine, lead_id: str) -> bool:
    """Whether any version of a lead with this id was ever stored."""
    row = con.execute("SELECT count(*) FROM leads WHERE lead_id = ?", [lead_id]).fetchone()
    return bool(row and row[0])


def account_deals(
    con: Engine, account_id: str
) -> list[tuple[str, datetime, str, datetime | None, tuple[tuple[str, datetime], ...]]]:
    """(opportunity_id, created_at, stage, close_date, stage history as (stage, entered_at) by time)
    of every deal on the account, by opportunity_id."""
    deals = con.execute(
        "SELECT opportunity_id, created_at, stage, close_date FROM cur_opportunities WHERE account_id = ? "
        "ORDER BY opportunity_id",
        [account_id],
    ).fetchall()
    history: dict[str, list[tuple[str, datetime]]] = {}
    for opp, stage, entered in con.execute(
        "SELECT h.opportunity_id, h.stage, h.entered_at FROM cur_stage_history h "
        "JOIN cur_opportunities o USING (opportunity_id) WHERE o.account_id = ? "
        "ORDER BY h.opportunity_id, h.entered_at, h.stage",
        [account_id],
    ).fetchall():
        history.setdefault(str(opp), []).append((str(stage), entered.astimezone(UTC)))
    return [
        (str(o), c.astimezone(UTC), str(s), _utc(x), tuple(history.get(str(o), ()))) for o, c, s, x in deals
    ]


def account_touches(con: Engine, account_id: str) -> list[tuple[str, datetime, str, str, str]]:
    """(touch_id, occurred_at, actor, kind, partner_id) of every touch on the account, by time and id;
    a partner touch with only a contact takes that contact's partner (SPEC section 1)."""
    rows = con.execute(
        "SELECT t.touch_id, t.occurred_at, t.actor, t.kind, coalesce(t.partner_id, c.partner_id, '') "
        "FROM cur_touches t LEFT JOIN cur_partner_contacts c ON c.contact_id = t.partner_contact_id "
        "WHERE t.account_id = ? ORDER BY t.occurred_at, t.touch_id",
        [account_id],
    ).fetchall()
    return [(str(a), b.astimezone(UTC), str(c), str(d), str(e)) for a, b, c, d, e in rows]


RegistrationTuple = tuple[str, str, str, datetime, str, datetime | None, str, datetime | None]


def registrations(con: Engine, account_id: str | None = None) -> list[RegistrationTuple]:
    """(registration_id, partner_id, account_id, registered_at, status, approved_at, opportunity_id,
    expires_at) of the current registrations (of one account when given), by registered_at and id."""
    where = "" if account_id is None else "WHERE account_id = ?"
    rows = con.execute(
        "SELECT registration_id, partner_id, account_id, registered_at, coalesce(status, ''), approved_at, "
        f"coalesce(opportunity_id, ''), expires_at FROM cur_deal_registrations {where} "
        "ORDER BY registered_at, registration_id",
        [] if account_id is None else [account_id],
    ).fetchall()
    return [
        (str(r[0]), str(r[1]), str(r[2]), r[3].astimezone(UTC), str(r[4]), _utc(r[5]), str(r[6]), _utc(r[7]))
        for r in rows
    ]


def registration_changes(con: Engine) -> dict[str, tuple[datetime, str, str]]:
    """For each registration: when its current version was recorded, by whom and the import's
    source line (``cosell registrations approve REG-000001: why``, or ``canonical <folder>``)."""
    rows = con.execute(
        "SELECT r.registration_id, r._valid_from, coalesce(i.by_user, ''), coalesce(i.source, '') "
        "FROM deal_registrations r LEFT JOIN imports i ON i.import_id = r._import_id "
        "WHERE r._valid_to IS NULL ORDER BY r.registration_id"
    ).fetchall()
    return {str(a): (b.astimezone(UTC), str(c), str(d)) for a, b, c, d in rows}
