"""The workspace's user directory (the ``users`` table): who a ``--by`` user is, and what their role allows.

Every write records who did it. Where the workspace has users, the recorded user must be one of
them and hold a role that may do the write (SPEC section 9); a workspace without any users has no
directory to check against, and records the name it is given. Users come from the CRM import
(``users.csv``) or from ``cosell users set`` (:func:`cosell.service.users.set_user`), which records
who changed the directory, when and why; :func:`list_users` shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cosell.engine import Engine
from cosell.errors import NotAllowed, NotFound, UsageError, did_you_mean


@dataclass(frozen=True)
class User:
    """A user of the workspace directory (``users``)."""

    user_id: str
    role: str
    partner_id: str


def partner_scope_of(user: User | None) -> str | None:
    """The partner a user is limited to (SPEC section 9): a partner user's own partner, as for any
    user with a partner_id whatever its role (a CRM's partner user mapped to another role, or to
    none, still works for its partner: :func:`cosell.store.referral_reads.own_user_emails` does
    not count it as ours either); None for every other user, and without a directory."""
    return user.partner_id if user is not None and user.partner_id else None


# SPEC section 9: a rep is a user with the role ae or sdr; it sees its own deals (and pay).
REP_ROLES = ("ae", "sdr")


def party_scope_of(user: User | None) -> tuple[str, str] | None:
    """The one pay party (``(party_kind, party_id)``) a user reads (SPEC section 9): a partner
    user its own partner (:func:`partner_scope_of`), a rep itself; None for finance, partner_ops
    and admin, who read every party, and without a directory (nobody to limit)."""
    partner = partner_scope_of(user)
    if partner is not None:
        return ("partner", partner)
    if user is not None and user.role in REP_ROLES:
        return ("rep", user.user_id)
    return None


def find_user(con: Engine, user_id: str) -> User | None:
    """The user ``user_id`` (who runs a command: ``--by`` or ``$COSELL_USER``), or None when the
    workspace has no users at all; raise NotFound for an unknown one, naming the option to fix."""
    if not user_id.strip():
        raise UsageError("say who does it: --by USER")
    rows = con.execute("SELECT user_id, role, partner_id FROM cur_users").fetchall()
    if not rows:
        return None
    users = {r[0]: User(r[0], r[1] or "", r[2] or "") for r in rows}
    if user_id not in users:
        hint = did_you_mean(user_id, list(users))
        raise NotFound(f"--by (or $COSELL_USER): no user {user_id}{hint}")
    return users[user_id]


def check_role(con: Engine, user_id: str, roles: Sequence[str], what: str) -> User | None:
    """The user when their role is one of ``roles`` (None without a directory); else NotAllowed
    naming the roles that may ``what`` (a phrase: "decide findings", "load plans").

    A user who works for a partner (:func:`partner_scope_of`: a partner_id, whatever its role) is a
    partner user: it reads only its partner's, so it may not do what acts on every partner's (decide,
    approve, pay, manage users), which ``roles`` without ``partner`` stand for; its answer would name
    other partners' ids and amounts (SPEC section 9)."""
    user = find_user(con, user_id)
    if user is not None and user.role not in roles:
        raise NotAllowed(
            f"{user_id} has the role {user.role or '(none)'}: only {', '.join(roles)} users may {what}"
        )
    if user is not None and "partner" not in roles and partner_scope_of(user) is not None:
        raise NotAllowed(
            f"{user_id} works for partner {user.partner_id}: a partner user may not {what}, whatever "
            f"its role ({user.role}); only {', '.join(roles)} users who work for no partner may"
        )
    return user


def current_admins(con: Engine) -> frozenset[str]:
    """The ids of the current users with the role admin who work for no partner (who may change
    the directory: a user with a partner_id is a partner user whatever its role, :func:`check_role`)."""
    marks = ", ".join("?" for _ in USER_ADMIN_ROLES)
    rows = con.execute(
        f"SELECT user_id FROM cur_users WHERE role IN ({marks}) AND coalesce(partner_id, '') = ''",
        list(USER_ADMIN_ROLES),
    ).fetchall()
    return frozenset(str(r[0]) for r in rows)


def check_directory_change(
    con: Engine, admins_before: frozenset[str], by_user: str, what: str | None
) -> None:
    """Refuse a change of the directory made in the current transaction (``what``: the file that
    makes it, named in the message; None for ``cosell users set``) unless ``by_user`` was an admin
    before it (:func:`current_admins`, read before the change: nobody makes itself admin in the
    same change) and an admin remains after it (without one nobody could change the directory
    again). A directory without an admin has nobody to check, as an empty one: nothing is refused."""
    if not admins_before:
        return
    where = f"{what}: " if what else ""
    admins = ", ".join(USER_ADMIN_ROLES)
    if by_user not in admins_before:
        row = con.execute("SELECT partner_id FROM cur_users WHERE user_id = ?", [by_user]).fetchone()
        if row is not None and row[0]:
            raise NotAllowed(
                f"{where}{by_user} works for partner {row[0]}: a partner user may not add or change users, "
                f"whatever its role; only {admins} users who work for no partner may"
            )
        raise NotAllowed(
            f"{where}{by_user} adds or changes users but has no role {admins}: only {admins} users may "
            "add or change users (say who does it: $COSELL_USER)"
        )
    if not current_admins(con):
        raise NotAllowed(
            f"{where}the change leaves no user with role {admins} (who works for no partner): nobody "
            "could add or change users again; make another user admin first"
        )


def first_user(con: Engine, role: str) -> str | None:
    """The smallest current user id with ``role``, or None (the demo and benchmarks act as it)."""
    row = con.execute("SELECT min(user_id) FROM cur_users WHERE role = ?", [role]).fetchone()
    return None if row is None or row[0] is None else str(row[0])


@dataclass(frozen=True)
class DirectoryEntry:
    """A user as the directory holds it now, with who changed it last, when and why."""

    user_id: str
    name: str
    email: str
    role: str
    partner_id: str
    changed_at: datetime
    changed_by: str
    source: str  # the import (``canonical <folder>``) or ``cosell users set USER``
    # Why: the reason given, else the command run; empty for a change recorded before schema step 18
    # (whose ``cosell users set USER: <why>`` source says it).
    reason: str = ""


# Who may change the directory (SPEC section 9: admins manage users).
USER_ADMIN_ROLES = ("admin",)
SET_SOURCE = "cosell users set"


def list_users(con: Engine) -> list[DirectoryEntry]:
    """Every current user, by user_id, with the import or change that wrote the current version."""
    rows = con.execute(
        "SELECT u.user_id, u.name, u.email, u.role, u.partner_id, u._valid_from, coalesce(i.by_user, ''), "
        "coalesce(i.source, ''), coalesce(i.reason, '') FROM users u "
        "LEFT JOIN imports i ON i.import_id = u._import_id WHERE u._valid_to IS NULL ORDER BY u.user_id"
    ).fetchall()
    return [
        DirectoryEntry(
            r[0], r[1] or "", r[2] or "", r[3] or "", r[4] or "", r[5].astimezone(UTC), r[6], r[7], r[8]
        )
        for r in rows
    ]
