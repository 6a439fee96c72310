"""What the referral and registration commands print of a referral: its listing row, its page
(``referrals show``) and its channel conflicts, and the options those commands share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from cosell.cli.common import by_option, labelled, say
from cosell.instants import format_instant

ByOption = Annotated[
    str | None,
    by_option("Who does it (a user id; recorded)."),
]
OverrideOption = Annotated[
    bool,
    typer.Option("--override-conflict", help="Go ahead although it is a channel conflict (needs --reason)."),
]
LIST_COLUMNS = (
    "referral_id",
    "status",
    "received",
    "partner_id",
    "company",
    "account_id",
    "conflicts",
    "missing",
)
# Left out first when the terminal is too narrow (an 80-column terminal keeps id, status, partner,
# company and the conflict count): --format json and csv have every column.
LIST_OPTIONAL = ("received", "missing", "account_id")
CONFLICTS_SHOWN = 3  # per kind, newest first
CONFLICT_LABELS = {"open_opportunity": "open deal", "direct_touch": "direct", "registration": "registered"}
# How a field found in a message is labelled in the 13-column margin of ``referrals show``.
SOURCE_LABELS = {"sender_emails": "from", "sender_name": "sender", "partner_hint": "partner"}


def list_row(r: Any) -> dict[str, Any]:
    v = r.current
    return {
        "referral_id": v.referral_id,
        "status": v.status,
        "received": format_instant(v.received_at)[:10],
        "partner_id": v.partner_id,
        "company": v.prospect_company,
        "account_id": v.account_id,
        "conflicts": len(r.conflicts),
        "missing": ", ".join(m.removeprefix("prospect_") for m in v.missing),
    }


def conflict_lines(conflicts: Sequence[Any], shown: int = CONFLICTS_SHOWN) -> list[str]:
    """The conflicts by kind, the latest ``shown`` of each with their evidence and a count of the
    rest: an account the direct team works daily has hundreds of touches, and the newest say most
    (``--format json`` lists every one)."""
    lines: list[str] = []
    for kind, label in CONFLICT_LABELS.items():
        mine = sorted((c for c in conflicts if c.kind == kind), key=lambda c: (c.at, c.ref_id), reverse=True)
        for c in mine[:shown]:
            lines += labelled(f"  {label}", c.detail)
        if len(mine) > shown:
            lines += labelled(
                f"  {label}", f"... and {len(mine) - shown:,} earlier (--format json lists them)"
            )
    return lines


def print_referral(r: Any) -> None:
    v = r.current
    prospect = ", ".join(
        p for p in (v.prospect_name, f"<{v.prospect_email}>" if v.prospect_email else "", v.prospect_title,
                    v.prospect_company) if p
    )  # fmt: skip
    given = "" if v.received_at_given else " (no usable date in the message: when it was submitted)"
    lines = [
        *labelled("referral", f"{v.referral_id}: {v.status} (version {v.version})"),
        *labelled(
            "received", f"{format_instant(v.received_at)}{given} by {v.channel}, reference {v.source_ref}"
        ),
        *labelled("from", ", ".join(v.sender_emails) or "(no sender address)"),
        *labelled("partner", f"{v.partner_id or 'none'}: {v.partner_evidence}"),
        *labelled("prospect", prospect or "(none named)"),
        *labelled("account", f"{v.account_id or 'none'}: {v.account_evidence}"),
    ]
    if v.missing:
        lines += labelled("missing", ", ".join(v.missing))
    if v.lead_id:
        lines += labelled(
            "lead", v.lead_id + (f" (conflict overridden: {v.override_reason})" if v.override_reason else "")
        )
    lines.append(f"conflicts    {len(r.conflicts) or 'none'}")
    lines += conflict_lines(r.conflicts)
    lines.append("fields found")
    for s in r.sources:
        label = SOURCE_LABELS.get(s.field, s.field.removeprefix("prospect_"))
        lines += labelled(f"  {label}", f'{s.where}: "{s.text}"')
    if v.follow_up:
        lines.append("follow-up message")
        lines += [f"  {line}" if line else "" for line in v.follow_up.splitlines()]
    lines.append("history")
    for h in r.history:
        why = f": {h.reason}" if h.reason else ""
        lines += labelled(
            f"  v{h.version}", f"{h.action} by {h.by_user} at {format_instant(h.recorded_at)}{why}"
        )
    say("\n".join(lines))
