"""Use cases: referrals from a channel's own files (``cosell referrals email|slack``).

Each reads the files with the channel's pure parser (:mod:`cosell.referrals.email_parse`,
:mod:`cosell.referrals.slack_parse`) and submits every referral found
(:func:`cosell.service.referrals.submit_parsed`) in one transaction: a batch of emails or a Slack
export is stored whole or not at all, and submitting the same files again records nothing new.
Each referral is recorded with the reason given, else what was run on its file (``cosell referrals
email NAME.eml``, ``cosell referrals slack NAME``: :func:`cosell.reasons.given_or_ran`); the file's
name, not its folder, which a partner user reading its referral's history need not learn.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from cosell.errors import InputError, Problem
from cosell.policy import Policy
from cosell.reasons import given_or_ran
from cosell.referrals.identify import own_domains
from cosell.referrals.parsed import ParsedReferral
from cosell.referrals.text_words import UNPAIRED_SURROGATE, has_unpaired_surrogate
from cosell.service.referrals import Submitted, submit_parsed
from cosell.store.referral_reads import own_user_emails
from cosell.store.workspace import Workspace

__all__ = ["slack_referrals", "submit_all", "submit_emails", "submit_slack"]

MAX_EVENT = 1_000_000  # bytes: a Slack event payload is a few kilobytes


def submit_emails(
    ws: Workspace,
    messages: Sequence[tuple[bytes, str]],
    by: str | None,
    reason: str = "",
    *,
    policy: Policy | None = None,
) -> list[Submitted]:
    """Read the referral in each raw email (bytes, file name), our own domains told to the parser
    (never the prospect's, never a sender that identifies a partner), and submit them all in one
    transaction, each with ``reason``, else ``cosell referrals email NAME``."""
    from cosell.referrals.email_parse import parse_email

    own = own_domains(own_user_emails(ws.con))
    parsed = [parse_email(raw, name, own_domains=own) for raw, name in messages]
    whys = [given_or_ran(reason, f"cosell referrals email {name}") for _, name in messages]
    return _submit_each(ws, list(zip(parsed, whys, strict=True)), by, policy)


def submit_slack(
    ws: Workspace,
    parsed: Sequence[ParsedReferral],
    name: str,
    by: str | None,
    reason: str = "",
    *,
    policy: Policy | None = None,
) -> list[Submitted]:
    """Submit the referrals read from the Slack export or event file ``name``
    (:func:`slack_referrals`) in one transaction, each with ``reason``, else ``cosell referrals
    slack NAME``."""
    return submit_all(ws, parsed, by, given_or_ran(reason, f"cosell referrals slack {name}"), policy=policy)


def slack_referrals(path: Path) -> list[ParsedReferral]:
    """The referrals in a Slack export (a folder or a .zip) or in one Events API payload (a .json
    file), in the parser's order."""
    from cosell.referrals.slack_parse import parse_slack_event, parse_slack_export

    if path.is_file() and path.suffix.lower() == ".json":
        if path.stat().st_size > MAX_EVENT:
            raise InputError(Problem(path.name, None, None, None, f"larger than {MAX_EVENT:,} bytes"))
        raw = path.read_bytes()
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(Problem(path.name, None, None, None, f"not JSON: {exc}")) from None
        except RecursionError:  # "[[[[...": deeper than Python's JSON reader goes, never an event
            raise InputError(
                Problem(path.name, None, None, None, "is nested too deeply to be a Slack event")
            ) from None
        if not isinstance(payload, dict):
            raise InputError(Problem(path.name, None, None, None, "a Slack event is a JSON object"))
        if has_unpaired_surrogate(raw.decode(json.detect_encoding(raw), "replace"), payload):
            raise InputError(Problem(path.name, None, None, None, UNPAIRED_SURROGATE))
        found = parse_slack_event(payload)
        return [] if found is None else [found]
    return parse_slack_export(path)


def submit_all(
    ws: Workspace,
    parsed: Sequence[ParsedReferral],
    by: str | None,
    reason: str = "",
    *,
    policy: Policy | None = None,
) -> list[Submitted]:
    """Submit every referral of one batch of files, all in one transaction."""
    return _submit_each(ws, [(p, reason) for p in parsed], by, policy)


def _submit_each(
    ws: Workspace, referrals: Sequence[tuple[ParsedReferral, str]], by: str | None, policy: Policy | None
) -> list[Submitted]:
    """Submit each referral with its own why, all in one transaction."""
    with ws.transaction():
        return [submit_parsed(ws, p, by, why, policy=policy) for p, why in referrals]
