"""Use case: the intake step of ``cosell demo``: referrals from the inbox, a registration that
collides with another partner's, and the partner to accept.

The demo writes its referral inbox beside the dataset (:mod:`cosell.data.demo.inbox`), submits the
emails and the Slack export as the first partner_ops user would (``cosell referrals email|slack``),
accepts the complete referral that collides with nothing (it becomes a partner lead), and has a
second partner register an account the first registered an hour before (a channel conflict,
recorded and left pending). Everything is recorded at a fixed instant after the
dataset's as-of instant, in one transaction, so the demo writes the same bytes every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from cosell import clock

if TYPE_CHECKING:
    from cosell.data.demo import DemoManifest
    from cosell.policy import Policy
    from cosell.service.referrals import Referral
    from cosell.service.registrations import Registration
    from cosell.store.workspace import Workspace

INTAKE_OFFSET = timedelta(hours=4)  # after the dataset's as-of: after the review and pay steps


@dataclass(frozen=True)
class DemoIntake:
    """What the step did: every referral submitted (as it stands after the step), the one accepted
    as a partner lead (None when none was clear), and the colliding registration (None when the
    sample has no registration still protecting its account)."""

    referrals: tuple[Referral, ...]
    accepted: Referral | None
    registration: Registration | None
    files: tuple[tuple[str, str], ...]  # (inbox file, what it shows)


def intake(ws: Workspace, policy: Policy, manifest: DemoManifest) -> DemoIntake:
    """Write the inbox, submit it, accept the clear referral, collide one registration."""
    from cosell.data.demo.inbox import write_inbox
    from cosell.service.referral_channels import slack_referrals, submit_all, submit_emails
    from cosell.service.referrals import accept, referral
    from cosell.service.registrations import submit
    from cosell.store.users import first_user

    inbox = write_inbox(manifest.out_dir, manifest.as_of)
    reviewer = first_user(ws.con, "partner_ops")
    at = manifest.as_of + INTAKE_OFFSET
    with clock.pinned(at), ws.transaction():
        why = "demo: the partner inbox"
        done = submit_emails(ws, [(p.read_bytes(), p.name) for p in inbox.emails], reviewer, why)
        done += submit_all(ws, slack_referrals(inbox.slack_export), reviewer, why)
        clear = next((d.referral for d in done if d.referral.current.status == "open"), None)
        accepted = None
        if clear is not None:
            accepted = accept(
                ws, policy, clear.current.referral_id, by=reviewer, reason="demo: intro call booked"
            )
        # Two partners register the same account an hour apart: first in, first win, so the
        # second registration is a channel conflict that names the first.
        registration = None
        partners = sorted({r.current.partner_id for r in (d.referral for d in done)} - {""})
        # The account of the first referral that matched one (the partners' interest is real).
        account = next((d.referral.current.account_id for d in done if d.referral.current.account_id), None)
        if len(partners) >= 2 and account is not None:
            submit(ws, policy, partner_id=partners[0], account_id=account, by=reviewer,
                   reason=f"demo: {partners[0]} registers {account}")  # fmt: skip
            with clock.pinned(at + timedelta(hours=1)):
                registration = submit(
                    ws, policy, partner_id=partners[1], account_id=account, by=reviewer,
                    reason=f"demo: {partners[1]} registers {account} an hour later",
                )  # fmt: skip
        stood = tuple(referral(ws, d.referral.current.referral_id) for d in done)
    return DemoIntake(stood, accepted, registration, inbox.shows)
