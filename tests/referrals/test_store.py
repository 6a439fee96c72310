"""The referral store is append-only: a version is never replaced, the first version of a message
is unique, and a received instant must be aware."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from cosell.engine import EngineError
from cosell.errors import CosellError, UsageError
from cosell.referrals.parsed import ParsedReferral
from cosell.service import referrals as service
from cosell.store.referrals import insert_referral, referral_versions
from cosell.store.workspace import Workspace

from .world import at


def test_a_version_is_never_replaced_and_a_message_is_one_referral(ref_ws: Workspace) -> None:
    with at("2026-06-02T09:00:00Z"):
        v = service.submit_parsed(ref_ws, ParsedReferral("api", "m-1", None), "u-ops").referral.current
    with pytest.raises(EngineError):  # the key (referral_id, version) is unique
        insert_referral(ref_ws.con, replace(v, status="open"))
    with pytest.raises(EngineError):  # so is the first version of (channel, source_ref)
        insert_referral(ref_ws.con, replace(v, referral_id="REF-000099"))
    assert [x.status for x in referral_versions(ref_ws.con, "REF-000001")] == ["needs_info"]


def test_a_naive_received_instant_is_refused(ref_ws: Workspace) -> None:
    naive = ParsedReferral("api", "m-2", datetime(2026, 6, 1, 10))
    with pytest.raises(UsageError, match="m-2: received_at: naive datetime"):
        service.submit_parsed(ref_ws, naive, "u-ops")


def test_a_version_dated_before_a_recorded_change_is_refused(ref_ws: Workspace) -> None:
    """A referral's history is in the order it was recorded: a rejection (or an answer, or another
    referral) dated by a pinned clock before the last recorded change, its own submission first,
    is refused and nothing is recorded; the same instant or a later one is fine."""
    with at("2026-06-02T09:00:00Z"):
        service.submit_parsed(ref_ws, ParsedReferral("api", "m-3", None, prospect_company="Contoso"), "u-ops")
    for earlier in ("2026-01-01T00:00:00Z", "2026-06-02T08:59:59.999999Z"):
        with at(earlier):
            with pytest.raises(
                CosellError, match=r"REF-000001 rejected at .* is before the last recorded change"
            ):
                service.reject(ref_ws, "REF-000001", by="u-ops", reason="duplicate")
            with pytest.raises(
                CosellError, match=r"REF-000002 submitted at .* is before the last recorded change"
            ):
                service.submit_parsed(ref_ws, ParsedReferral("api", "m-4", None), "u-ops")
    assert [v.action for v in referral_versions(ref_ws.con, "REF-000001")] == ["submitted"]
    assert referral_versions(ref_ws.con, "REF-000002") == []
    with at("2026-06-02T09:00:00Z"):
        done = service.reject(ref_ws, "REF-000001", by="u-ops", reason="duplicate").current
    assert (done.version, done.action, done.by_user) == (2, "rejected", "u-ops")
