"""Use cases of the user directory: list the users, add or change one (``cosell users`` and
``cosell users set``)."""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cosell.data.load import import_canonical
from cosell.engine import Engine
from cosell.errors import NotFound, UsageError, did_you_mean
from cosell.shown import control_character
from cosell.store.schema import USER_ROLES
from cosell.store.users import SET_SOURCE, USER_ADMIN_ROLES, DirectoryEntry, check_role, find_user, list_users
from cosell.store.workspace import Workspace


def users(ws: Workspace, *, viewer: str | None = None) -> list[DirectoryEntry]:
    """Every user: id, name, role, partner (for partner users), email, and who changed each last,
    when, how (an import, or ``cosell users set``) and why. ``viewer`` is who reads: the directory
    names every partner's users and their emails, so it is refused to a partner user and a rep
    (:func:`cosell.service.readers.refuse_limited`)."""
    from cosell.service.readers import reader, refuse_limited

    refuse_limited(reader(ws.con, viewer), "the user directory")
    return list_users(ws.con)


def runner(ws: Workspace, by_user: str | None, login: str) -> str:
    """Who runs a command any user may run (``cosell attribute``, ``cosell reconcile``), as recorded:
    a named ``--by`` user checked against the directory like every ``--by`` (an unknown one is
    refused naming ``--by``, a blank one is bad usage: :func:`cosell.store.users.find_user`), else
    ``login``, the login name, recorded unchecked."""
    if by_user is None:
        return login
    find_user(ws.con, by_user)
    return by_user


MAX_USER_ID = 200


@dataclass(frozen=True)
class UserSet:
    """What ``cosell users set`` did: the user as the directory now holds it, and whether this call
    recorded a new version (``changed`` False: every field was already as given; nothing recorded,
    and :attr:`user` names the change that made it so)."""

    user: DirectoryEntry
    changed: bool


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
) -> UserSet:
    """Add a user, or change the given fields of one (the others are kept), as a new version; a
    change that changes nothing records nothing (:class:`UserSet`).

    The change is an import of one ``users`` row (validated, versioned and logged like any import:
    ``imports`` records when, ``by_user``, ``cosell users set USER`` and the reason), so a later
    ``--as-of`` sees the directory as it was. Where the workspace has users, ``by_user`` must be an
    admin; the first user of an empty directory may be added by anyone (there is nobody to check).
    """
    user_id = user_id.strip()
    if not user_id:
        raise UsageError("give the user's id")
    # The id is who every recorded write names: one printable line, short enough to read there.
    if control_character(user_id) is not None or len(user_id) > MAX_USER_ID:
        shown = repr(user_id[:40]) + ("..." if len(user_id) > 40 else "")
        raise UsageError(
            f"{shown} is not a user id: at most {MAX_USER_ID} characters, none of them a line break, "
            "a tab or another control character"
        )
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
    _check_fields(fields)  # bad usage first: it is the same whoever asks
    check_role(ws.con, by_user, USER_ADMIN_ROLES, "add or change users")
    _check_partner(ws.con, fields["partner_id"])  # a lookup: only for whom may see every partner
    if current is not None and all(getattr(current, k) == v for k, v in fields.items()):
        # The import would store no new version either; saying "recorded by <by_user>" with the
        # instant of someone else's earlier change would misstate who did what.
        return UserSet(current, changed=False)
    with tempfile.TemporaryDirectory(prefix="cosell-users-") as folder:
        with (Path(folder) / "users.csv").open("w", newline="", encoding="utf-8") as f:
            # Canonical input, read back by the import: written as is (it is not an export).
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(list(fields))
            writer.writerow(list(fields.values()))
        import_canonical(
            ws, folder, now=now, by_user=by_user, partial=True, source=f"{SET_SOURCE} {user_id}",
            reason=" ".join(reason.split()),
        )  # fmt: skip
    return UserSet({u.user_id: u for u in list_users(ws.con)}[user_id], changed=True)


def _check_fields(fields: dict[str, str]) -> None:
    """Refuse, with the option's name and the closest valid value, what the import would refuse."""
    role, partner = fields["role"], fields["partner_id"]
    if role not in USER_ROLES:
        hint = did_you_mean(role, USER_ROLES)
        raise UsageError(f"--role {role!r} is not a role{hint}: one of {', '.join(USER_ROLES)}")
    if role == "partner" and not partner:
        raise UsageError("a partner user needs --partner PARTNER_ID (the partner they work for)")


def _check_partner(con: Engine, partner: str) -> None:
    """Refuse an unknown ``--partner``, naming the closest partner id. Only for an admin (checked
    first): to anyone else the answer and its suggestion would tell which partners exist (SPEC
    section 9: a partner user never sees another partner's id)."""
    if partner:
        known = [r[0] for r in con.execute("SELECT partner_id FROM cur_partners ORDER BY 1").fetchall()]
        if partner not in known:
            raise NotFound(f"--partner: no partner {partner}" + did_you_mean(partner, known))
