"""Use cases of account overlap and partner recommendation (SPEC section 7): match the partners'
account lists to ours (``cosell accounts match``) and rank partners for an open deal (``cosell
accounts recommend``). Both read; nothing is recorded.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from cosell.accounts.match import FUZZY_THRESHOLD, REVIEW_FLOOR
from cosell.accounts.overlap import OverlapReport, account_overlap
from cosell.errors import UsageError
from cosell.policy import Policy
from cosell.store.known import require_import
from cosell.store.versions import attribution_views, latest_run_id
from cosell.store.workspace import Workspace, as_of_views

__all__ = ["FUZZY_THRESHOLD", "REVIEW_FLOOR", "OverlapReport", "match_accounts_of"]


def check_thresholds(threshold: float, floor: float) -> None:
    """Refuse a threshold or review floor outside 0..100, or a floor above the threshold."""
    if not 0 <= threshold <= 100:
        raise UsageError(f"--threshold must be between 0 and 100, not {threshold:g}")
    if not 0 <= floor <= threshold:
        raise UsageError(f"--floor must be between 0 and --threshold ({threshold:g}), not {floor:g}")


def match_accounts_of(
    ws: Workspace,
    policy: Policy,
    *,
    known_at: datetime | None = None,
    threshold: float = FUZZY_THRESHOLD,
    floor: float = REVIEW_FLOOR,
) -> OverlapReport:
    """Match every partner's account list to our accounts as known at ``known_at`` (None: everything
    recorded), and build the overlap matrix and the two lists (:mod:`cosell.accounts.overlap`).

    The won deals without partner attribution are read from the newest attribution run known at
    ``known_at``; with no run, ``run_id`` is None and that list is empty.
    """
    check_thresholds(threshold, floor)
    con = ws.con
    require_import(con, known_at)
    as_of_views(con, known_at)
    run_id = latest_run_id(con, known_at)
    if run_id is not None:
        attribution_views(con, known_at)
    report = account_overlap(con, policy, run_id=run_id, threshold=threshold, floor=floor)
    return replace(report, known_at=known_at)
