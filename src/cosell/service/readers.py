"""Who reads (SPEC section 9): the one place that turns a reader's user id (``--by``, default
``$COSELL_USER``) into what it may read, for the readers that show deals, reports and prompts.

- No reader named (the local operator at a terminal), a workspace without users, finance,
  partner_ops (roles partner_ops, partner_manager) and admin read everything.
- A partner user (a user with a partner_id, whatever its role: :func:`partner_scope_of`) reads
  the deals its partner is on (credited, declared in opportunity_partners or the CRM partner_id,
  or registered), never another partner's name, id or amounts.
- A rep (ae, sdr) reads its own deals (owner_id) and its own prompts.
- A program-wide read (every partner's or every deal's figures) is refused to both, with a message
  that names nothing of what it would have shown.
- An unknown reader is refused naming ``--by`` (:func:`cosell.store.users.find_user`), as the
  writers refuse it; a user with none of these roles reads nothing, rather than everything.

The table of which command follows which rule is in docs/hygiene-review.md ("Who may see what").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from cosell.engine import Engine
from cosell.errors import NotAllowed, NotFound
from cosell.store.users import REP_ROLES, find_user, partner_scope_of

__all__ = [
    "EVERYONE",
    "READ_ALL_ROLES",
    "Reader",
    "hidden_from",
    "no_opportunity",
    "reader",
    "refuse_limited",
    "require_seen",
    "seen_rows",
    "sees_deal",
]

T = TypeVar("T")

# SPEC section 9: finance, partner_ops (partner_ops or partner_manager) and admin see all.
READ_ALL_ROLES = ("finance", "partner_ops", "partner_manager", "admin")


@dataclass(frozen=True)
class Reader:
    """Who reads: ``partner_id`` set for a partner user, ``rep_id`` for a rep (ae, sdr); neither
    for a reader who reads everything (``user_id`` None: nobody named, or no user directory)."""

    user_id: str | None
    partner_id: str | None = None
    rep_id: str | None = None

    @property
    def reads_all(self) -> bool:
        """Whether nothing is withheld from this reader."""
        return self.partner_id is None and self.rep_id is None


EVERYONE = Reader(None)


def reader(con: Engine, viewer: str | None) -> Reader:
    """The reader ``viewer`` (a user id, or None: nobody named, who reads everything). An unknown
    user is a NotFound naming ``--by``; a user whose role reads nothing is refused."""
    if viewer is None or not viewer.strip():
        return EVERYONE
    user = find_user(con, viewer.strip())
    if user is None:  # no directory: nobody to limit, as for the writers
        return EVERYONE
    partner = partner_scope_of(user)
    if partner is not None:
        return Reader(user.user_id, partner_id=partner)
    if user.role in REP_ROLES:
        return Reader(user.user_id, rep_id=user.user_id)
    if user.role in READ_ALL_ROLES:
        return Reader(user.user_id)
    raise NotAllowed(
        f"--by: {user.user_id} has the role {user.role or '(none)'}: only a partner user, a rep "
        f"({', '.join(REP_ROLES)}) or a user with role {', '.join(READ_ALL_ROLES)} reads deals"
    )


def refuse_limited(who: Reader, what: str) -> None:
    """Refuse a partner user or a rep ``what`` (a phrase: "the CFO dashboard"), which shows every
    partner's or every deal's figures. The message says what the reader may read instead and
    nothing of what ``what`` holds."""
    if who.partner_id is not None:
        raise NotAllowed(
            f"{who.user_id} is a partner user: {what} covers every partner's deals, so only finance, "
            "partner_ops and admin users read it (a partner user reads its own deals, referrals and "
            "statements)"
        )
    if who.rep_id is not None:
        raise NotAllowed(
            f"{who.user_id} is a rep: {what} covers every rep's deals, so only finance, partner_ops "
            "and admin users read it (a rep reads its own deals and prompts)"
        )


def sees_deal(con: Engine, who: Reader, opportunity_id: str, credited: frozenset[str] = frozenset()) -> bool:
    """Whether ``who`` may read the deal ``opportunity_id``: every deal for a reader who reads all;
    a rep the deals it owns (owner_id); a partner user the deals its partner is on, as a partner
    may dispute them (:func:`cosell.hygiene.disputes.partner_appears`: credited, its CRM partner,
    declared, registered, a touch or a lead of the deal), or is credited in ``credited`` (the
    partners the reader is shown credited, in an attribution computed as of another instant). A
    deal that does not exist is seen by no limited reader: the caller says "no opportunity X"
    alike (:func:`no_opportunity`)."""
    from cosell.hygiene.disputes import partner_appears

    if who.reads_all:
        return True
    if who.rep_id is not None:
        row = con.execute(
            "SELECT 1 FROM cur_opportunities WHERE opportunity_id = ? AND owner_id = ?",
            [opportunity_id, who.rep_id],
        ).fetchone()
        return row is not None
    assert who.partner_id is not None
    return who.partner_id in credited or partner_appears(con, opportunity_id, who.partner_id)


def no_opportunity(opportunity_id: str) -> NotFound:
    """What a limited reader is told of a deal it may not read, exactly as of one that does not
    exist (SPEC section 9: existence itself must not leak; no "did you mean", whose candidates
    would be other deals' ids)."""
    return NotFound(f"no opportunity {opportunity_id}")


def require_seen(con: Engine, who: Reader, opportunity_id: str | None) -> None:
    """Refuse a limited reader's ``--opportunity X`` for a deal it may not read (or that does not
    exist), as "no opportunity X" (:func:`no_opportunity`), before anything is listed of it."""
    if opportunity_id is not None and not sees_deal(con, who, opportunity_id):
        raise no_opportunity(opportunity_id)


def seen_rows(
    con: Engine, who: Reader, rows: Sequence[T], deal_of: Callable[[T], str], texts: Sequence[str]
) -> list[T]:
    """The ``rows`` (dataclasses, each about the deal ``deal_of(row)``) that ``who`` may read: all
    for a reader who reads all; a rep's own deals'; a partner user's partner's deals', each of its
    fields named in ``texts`` with every other partner's name and id hidden (:func:`hidden_from`)."""
    if who.reads_all:
        return list(rows)
    seen: dict[str, bool] = {}
    kept = []
    for row in rows:
        deal = deal_of(row)
        if deal not in seen:
            seen[deal] = sees_deal(con, who, deal)
        if seen[deal]:
            kept.append(row)
    return hidden_from(con, who, kept, texts)


def hidden_from(con: Engine, who: Reader, rows: Sequence[T], texts: Sequence[str]) -> list[T]:
    """The ``rows`` (dataclasses) as ``who`` reads them: for a partner user, each field named in
    ``texts`` (ids, reasons) with every other partner's name and id hidden
    (:func:`cosell.service.channel.other_partners`), as the explanation hides them; for any other
    reader, as they are."""
    from cosell.service.channel import other_partners

    others = other_partners(con, who.partner_id)
    if others is None:
        return list(rows)
    hidden: list[Any] = [replace(row, **{f: others.hide(getattr(row, f)) for f in texts}) for row in rows]  # type: ignore[type-var]
    return hidden
