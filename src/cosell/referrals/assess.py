"""A referral's status, what it lacks, and the follow-up message that asks for it. Pure.

A referral is complete when it names the partner (identified, or given in an answer) and the
prospect's company, name and email (:data:`~cosell.referrals.parsed.PROSPECT_FIELDS`; the title
is kept when given, never required). Then:

- ``needs_info``: something is missing; the follow-up message lists it;
- ``conflict``: complete, and the account has channel conflicts (:mod:`cosell.referrals.conflicts`);
- ``open``: complete and clear, waiting to be accepted (a partner lead) or rejected.

``accepted`` and ``rejected`` are decisions, made by a person and recorded with a reason.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from cosell.referrals.conflicts import Conflict
from cosell.referrals.parsed import PROSPECT_FIELDS

# What a complete referral names, in the order the follow-up message asks for it.
REQUIRED = ("partner", *PROSPECT_FIELDS)
_ASK = {
    "partner": "which partner you are (we could not tell from the address this came from)",
    "prospect_company": "the prospect's company name",
    "prospect_name": "the full name of the person you are introducing",
    "prospect_email": "their email address",
}
WIDTH = 72  # the message's lines, as an email client wraps them
# The answer options (cosell referrals answer) that fill each field.
ANSWER_OPTION = {
    "partner": "--partner",
    "prospect_company": "--company",
    "prospect_name": "--name",
    "prospect_email": "--email",
    "prospect_title": "--title",
}


def missing_fields(partner_id: str, company: str, name: str, email: str) -> tuple[str, ...]:
    """The required fields that are empty, in :data:`REQUIRED` order."""
    given = {
        "partner": partner_id,
        "prospect_company": company,
        "prospect_name": name,
        "prospect_email": email,
    }
    return tuple(f for f in REQUIRED if not given[f].strip())


def status_of(missing: Sequence[str], conflicts: Sequence[Conflict]) -> str:
    """needs_info, conflict or open (see the module docstring)."""
    if missing:
        return "needs_info"
    return "conflict" if conflicts else "open"


def follow_up_message(
    referral_id: str, missing: Sequence[str], to_name: str, to_address: str, company: str
) -> str:
    """The message that asks the referring partner for what is missing ("" when nothing is).

    Addressed to ``to_address`` (the partner contact, else the sender); plain text, the same words
    for the same referral.
    """
    if not missing:
        return ""
    greeting = f"Hello {to_name.split()[0]}," if to_name.strip() else "Hello,"
    about = f"your introduction to {company}" if company.strip() else "your referral"
    lines = [
        f"To: {to_address or '(no address: the referral came without a sender address)'}",
        f"Subject: {referral_id}: a few details missing",
        "",
        greeting,
        "",
        *textwrap.wrap(f"Thank you for {about}. Before we can act on it we need:", WIDTH),
        *(f"- {_ASK[f]}" for f in missing),
        "",
        *textwrap.wrap(
            f"Reply to this message with them (please keep {referral_id} in the subject) and we will "
            "take it from there.",
            WIDTH,
        ),
    ]
    return "\n".join(lines)
