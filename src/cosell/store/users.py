"""The workspace's user directory (the ``users`` table): who a ``--by`` user is, and what their role allows.

Every write records who did it. Where the workspace has users, the recorded user must be one of
them and hold a role that may do the write (SPEC section 9); a workspace without any users has no
directory to check against, and records the name it is given. Users come from the CRM import
(``users.csv``) or from ``cosell users set`` (:func:`set_user`), which records who changed the
directory, when and why; :func:`list_users` shows it.
"""

from __future__ import annotations

import csv
import difflib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cosell.data.schema import USER_ROLES
from cosell.engine import Engine
from cosell.errors import NotAllowed, NotFound, UsageError

if TYPE_CHECKING:
    from cosell.store.workspace import Workspace


@dataclass(frozen=True)
class User:
    """A user of the workspace directory (``users``)."""

    user_id: str
    role: str
    partner_id: str


def find_user(con: Engine, user_id: str) -> User | None:
    """The user, or None when the workspace has no users at all; raise NotFound for an unknown one."""
    if not user_id.strip():
        raise UsageError("say who does it: --by USER")
    rows = con.execute("SELECT user_id, role, partner_id FROM cur_users").fetchall()
    if not rows:
        return None
    users = {r[0]: User(r[0], r[1] or "", r[2] or "") for r in rows}
    if user_id not in users:
        close = difflib.get_close_matches(user_id, list(users), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise NotFound(f"no user {user_id}{hint}")
    return users[user_id]


def check_role(con: Engine, user_id: str, roles: Sequence[str], what: str) -> User | None:
    """The user when their role is one of ``roles`` (None without a directory); else NotAllowed
    naming the roles that may ``what`` (a phrase: "decide findings", "load plans")."""
    user = find_user(con, user_id)
    if user is not None and user.role not in roles:
        raise NotAllowed(
            f"{user_id} has the role {user.role or '(none)'}: only {', '.join(roles)} users may {what}"
        )
    return user


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
    source: str  # the import (``canonical <folder>``) or ``cosell users set ...: <why>``


# Who may change the directory (SPEC section 9: admins manage users).
USER_ADMIN_ROLES = ("admin",)
_SET_SOURCE = "cosell users set"


def list_users(con: Engine) -> list[DirectoryEntry]:
    """Every current user, by user_id, with the import or change that wrote the current version."""
    rows = con.execute(
        "SELECT u.user_id, u.name, u.email, u.role, u.partner_id, u._valid_from, coalesce(i.by_user, ''), "
        "coalesce(i.source, '') FROM users u LEFT JOIN imports i ON i.import_id = u._import_id "
        "WHERE u._valid_to IS NULL ORDER BY u.user_id"
    ).fetchall()
    return [
        DirectoryEntry(r[0], r[1] or "", r[2] or "", r[3] or "", r[4] or "", r[5].astimezone(UTC), r[6], r[7])
        for r in rows
    ]


def set_user(
    ws: Workspace,
    user_id: str,
    *,
    by_user: str,
    reason: str,
    name: str | None = None,
    email: str | None = None,
    role: str | None = None,
    partner_id: str | None = None,
    now: datetime | None = None,
) -> DirectoryEntry:
    """Add a user, or change the given fields of one (the others are kept), as a new version.

    The change is an import of one ``users`` row (validated, versioned and logged like any import:
    ``imports`` records when, ``by_user`` and ``cosell users set USER: reason``), so a later
    ``--as-of`` sees the directory as it was. Where the workspace has users, ``by_user`` must be an
    admin; the first user of an empty directory may be added by anyone (there is nobody to check).
    """
    from cosell.data.load import import_canonical

    user_id = user_id.strip()
    if not user_id:
        raise UsageError("give the user's id")
    if not reason.strip():
        raise UsageError("say why: --reason TEXT (recorded with the change)")
    current = {u.user_id: u for u in list_users(ws.con)}.get(user_id)
    if current is None and role is None:
        raise UsageError(f"{user_id} is a new user: give --role ({', '.join(USER_ROLES)})")
    fields = {
        "user_id": user_id,
        "name": name if name is not None else (current.name if current else ""),
        "email": email if email is not None else (current.email if current else ""),
        "role": role if role is not None else (current.role if current else ""),
        "partner_id": partner_id if partner_id is not None else (current.partner_id if current else ""),
    }
    _check_fields(ws.con, fields)  # bad usage first: it is the same whoever asks
    check_role(ws.con, by_user, USER_ADMIN_ROLES, "add or change users")
    with tempfile.TemporaryDirectory(prefix="cosell-users-") as folder:
        with (Path(folder) / "users.csv").open("w", newline="", encoding="utf-8") as f:
            # Canonical input, read back by the import: written as is (it is not an export).
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(list(fields))
            writer.writerow(list(fields.values()))
        import_canonical(
            ws, folder, now=now, by_user=by_user, partial=True,
            source=f"{_SET_SOURCE} {user_id}: {' '.join(reason.split())}",
        )  # fmt: skip
    return {u.user_id: u for u in list_users(ws.con)}[user_id]


def _check_fields(con: Engine, fields: dict[str, str]) -> None:
    """Refuse, with the option's name and the closest valid value, what the import would refuse."""
    role, partner = fields["role"], fields["partner_id"]
    if role not in USER_ROLES:
        close = difflib.get_close_matches(role, USER_ROLES, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UsageError(f"--role {role!r} is not a role{hint}: one of {', '.join(USER_ROLES)}")
    if role == "partner" and not partner:
        raise UsageError("a partner user needs --partner PARTNER_ID (the partner they work for)")
    if partner:
        known = [r[0] for r in con.execute("SELECT partner_id FROM cur_partners ORDER BY 1").fetchall()]
        if partner not in known:
            close = difflib.get_close_matches(partner, known, n=1)
            raise NotFound(f"no partner {partner}" + (f" (did you mean {close[0]}?)" if close else ""))
