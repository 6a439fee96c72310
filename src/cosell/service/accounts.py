"""Use cases of account overlap and partner recommendation (SPEC section 7): match the partners'
account lists to ours (``cosell accounts match``) and rank partners for an open deal (``cosell
accounts recommend``). Both read; nothing is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from cosell import clock
from cosell.accounts.history import read_history
from cosell.accounts.match import FUZZY_THRESHOLD, REVIEW_FLOOR
from cosell.accounts.overlap import OverlapReport, account_overlap, overlap_pairs
from cosell.accounts.recommend import Recommendation, recommend
from cosell.errors import CosellError, NotFound, UsageError, did_you_mean
from cosell.instants import format_instant, json_instant
from cosell.policy import Policy
from cosell.store.known import require_import
from cosell.store.versions import attribution_views, latest_run_id
from cosell.store.workspace import Workspace, as_of_views

__all__ = [
    "FUZZY_THRESHOLD",
    "REVIEW_FLOOR",
    "OverlapReport",
    "RecommendResult",
    "match_accounts_of",
    "overlap_known_at",
    "recommend_partners",
]


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
    viewer: str | None = None,
) -> OverlapReport:
    """Match every partner's account list to our accounts as known at ``known_at`` (None: everything
    recorded), and build the overlap matrix and the two lists (:mod:`cosell.accounts.overlap`).

    The won deals without partner attribution are read from the newest attribution run known at
    ``known_at``; with no run, ``run_id`` is None and that list is empty.

    Every partner's list and every deal at an overlap account: refused to a partner user and a
    rep (``viewer``, SPEC section 9).
    """
    from cosell.service.readers import reader, refuse_limited

    check_thresholds(threshold, floor)
    con = ws.con
    refuse_limited(reader(con, viewer), "the account overlap")
    require_import(con, known_at)
    as_of_views(con, known_at)
    run_id = latest_run_id(con, known_at)
    if run_id is not None:
        attribution_views(con, known_at)
    report = account_overlap(con, policy, run_id=run_id, threshold=threshold, floor=floor)
    return replace(report, known_at=known_at)


def overlap_known_at(ws: Workspace, known_at: datetime | None) -> tuple[tuple[str, str, str], ...]:
    """Every ``(partner_id, account_id, status)`` where a partner's list holds one of our accounts,
    both as known at ``known_at`` (None: everything recorded), matched as ``cosell accounts match``
    counts them at its default threshold (:func:`cosell.accounts.overlap.overlap_pairs`).
    Reconciliation reads the account overlap from these. Reads only; leaves the ``v_`` views open
    as of ``known_at``."""
    con = ws.con
    require_import(con, known_at)
    as_of_views(con, known_at)
    return overlap_pairs(con)


@dataclass(frozen=True)
class RecommendResult:
    """The partners ranked for one open deal, and what the ranking read."""

    opportunity_id: str
    account_id: str
    account_name: str
    segment: str
    as_of: datetime
    known_at: datetime | None  # the knowledge instant read; None: everything recorded
    run_id: int | None
    recommendations: tuple[Recommendation, ...]

    def to_json(self) -> dict[str, Any]:
        """Stable keys (docs/accounts.md)."""
        return {
            "opportunity_id": self.opportunity_id,
            "account_id": self.account_id,
            "account_name": self.account_name,
            "segment": self.segment,
            "as_of": format_instant(self.as_of),
            "known_at": json_instant(self.known_at),
            "attribution_run_id": self.run_id,
            "partners": [
                {
                    "rank": r.rank,
                    "partner_id": r.partner_id,
                    "partner_name": r.partner_name,
                    "registration_id": r.registration.registration_id if r.registration else None,
                    "touches": r.touches,
                    "last_touch_at": json_instant(r.last_touch_at),
                    "overlap_status": r.overlap_status or None,
                    "segment_won": r.segment_won,
                    "segment_closed": r.segment_closed,
                    "win_rate": None if r.win_rate is None else str(r.win_rate),
                    "median_cycle_days": None if r.median_cycle_days is None else str(r.median_cycle_days),
                    "reasons": list(r.reasons),
                }
                for r in self.recommendations
            ],
        }


def recommend_partners(
    ws: Workspace,
    policy: Policy,
    opportunity_id: str,
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    viewer: str | None = None,
) -> RecommendResult:
    """Rank the partners to bring into the open deal ``opportunity_id`` as of ``as_of`` (T; default
    now), reading the data known at ``known_at`` (:mod:`cosell.accounts.recommend`). Refuses a deal
    that does not exist, did not exist yet at T, or was closed by T.

    ``viewer`` is who reads (SPEC section 9): a rep ranks partners for its own deals (another
    rep's is "no opportunity X", as a missing one); a partner user is refused, since the ranking
    names every partner with its record."""
    from cosell.service.readers import no_opportunity, reader, refuse_limited, sees_deal

    con = ws.con
    who = reader(con, viewer)
    if who.partner_id is not None:
        refuse_limited(who, "the partner ranking of a deal")
    if not sees_deal(con, who, opportunity_id):
        raise no_opportunity(opportunity_id)
    require_import(con, known_at)
    as_of_views(con, known_at)
    run_id = latest_run_id(con, known_at)
    if run_id is not None:
        attribution_views(con, known_at)
    history = read_history(con, policy, attributed=run_id is not None)
    deal = history.by_id.get(opportunity_id)
    if deal is None:
        hint = did_you_mean(opportunity_id, list(history.by_id))
        raise NotFound(f"no opportunity {opportunity_id!r}{hint}")
    at = clock.now(as_of)
    if deal.created_at > at:
        raise CosellError(
            f"{opportunity_id} was created at {format_instant(deal.created_at)}, after {format_instant(at)}"
        )
    if deal.closed_at is not None and deal.closed_at <= at:
        raise CosellError(
            f"{opportunity_id} is closed ({deal.outcome} at {format_instant(deal.closed_at)}): "
            "recommend ranks partners for an open deal (give --as-of before its close to look back)"
        )
    names = dict(
        con.execute(
            "SELECT account_id, name FROM v_accounts WHERE account_id = ?", [deal.account_id]
        ).fetchall()
    )
    ranked = recommend(history, opportunity_id, at, lookback_days=policy.lookback_days)
    return RecommendResult(
        opportunity_id,
        deal.account_id,
        str(names.get(deal.account_id, "")),
        deal.segment,
        at,
        known_at,
        run_id,
        ranked,
    )
