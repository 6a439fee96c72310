"""The referral store is append-only: a version is never replaced, the first version of a message
is unique, and a received instant must be aware."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from cosell.engine import EngineError
from cosell.errors import UsageError
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
