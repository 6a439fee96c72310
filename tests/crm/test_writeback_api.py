"""The REST write-back against in-process fakes of Salesforce and HubSpot (tests/crm/fake_crm.py):
batch sizes, only-changed sends, idempotent re-runs, rate-limit retry with deterministic waits,
per-record partial failures, the declared fields never touched, and the token never shown."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cosell.crm.fields import declared_names
from cosell.crm.http import HttpRequest, HttpResponse, RetryPolicy, UrllibTransport
from cosell.crm.writeback import WritebackRecord
from cosell.crm.writeback_api import Credentials, HubSpotClient, RecordOutcome, SalesforceClient
from cosell.errors import CosellError

sys.path.insert(0, str(Path(__file__).parent))
from fake_crm import FakeHubSpot, FakeSalesforce, serve

SF = Credentials("https://example.my.salesforce.com", "t0ken-SECRET")
HS = Credentials("https://api.hubapi.com", "t0ken-SECRET")

SF_NAMES = ("Cosell_Tier__c", "Cosell_Rules__c", "Cosell_Attribution_As_Of__c")
HS_NAMES = ("cosell_tier", "cosell_rules", "cosell_attribution_as_of")


def sf_record(rid: str, tier: str = "sourced", rules: str = "S1") -> WritebackRecord:
    return WritebackRecord(rid, (("Cosell_Tier__c", tier), ("Cosell_Rules__c", rules),
                                 ("Cosell_Attribution_As_Of__c", "2026-11-01T00:00:00.000Z")))  # fmt: skip


def hs_record(rid: str, tier: str = "sourced", rules: str = "S1") -> WritebackRecord:
    return WritebackRecord(rid, (("cosell_tier", tier), ("cosell_rules", rules),
                                 ("cosell_attribution_as_of", "1793491200000")))  # fmt: skip


def sf_deals(n: int) -> dict[str, dict[str, object]]:
    return {f"006{i:012d}": {"Partner_Source__c": "influenced", "Partner_Name__c": "001P"} for i in range(n)}


def hs_deals(n: int) -> dict[str, dict[str, object]]:
    return {str(1000 + i): {"partner_source": "influenced", "partner_name": "Acme"} for i in range(n)}


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_salesforce_sends_batches_of_200_and_only_what_changed() -> None:
    fake = FakeSalesforce(sf_deals(450))
    recs = [sf_record(rid) for rid in sorted(fake.deals)]
    result = SalesforceClient(SF, fake, Sleeps()).run(recs)
    assert result.count("updated") == 450
    assert [len(b["records"]) for b in fake.bodies("composite/sobjects")] == [200, 200, 50]
    assert [len(b["ids"]) for b in fake.bodies("sobjects/Opportunity")] == [200, 200, 50]
    assert all(b["allOrNone"] is False for b in fake.bodies("composite/sobjects"))
    # The second run reads, finds every value in place (the DateTime as Salesforce writes it back
    # would compare equal too), and sends no update at all.
    for deal in fake.deals.values():
        deal["Cosell_Attribution_As_Of__c"] = "2026-11-01T00:00:00.000+0000"
    fake.requests.clear()
    again = SalesforceClient(SF, fake, Sleeps()).run(recs)
    assert again.count("unchanged") == 450 and again.count("updated") == 0
    assert fake.bodies("composite/sobjects") == []
    # One deal changes tier: only it is sent.
    fake.requests.clear()
    changed = [sf_record(r.record_id, "none", "") if i == 7 else r for i, r in enumerate(recs)]
    third = SalesforceClient(SF, fake, Sleeps()).run(changed)
    sent = fake.bodies("composite/sobjects")
    assert [[r["id"] for r in b["records"]] for b in sent] == [[recs[7].record_id]]
    assert sent[0]["records"][0]["Cosell_Rules__c"] is None  # "" clears the field: JSON null
    assert third.count("updated") == 1 and third.count("unchanged") == 449


def test_hubspot_sends_batches_of_100_and_rerun_sends_nothing() -> None:
    fake = FakeHubSpot(hs_deals(250))
    recs = [hs_record(rid) for rid in sorted(fake.deals)]
    first = HubSpotClient(HS, fake, Sleeps()).run(recs)
    assert first.count("updated") == 250
    assert [len(b["inputs"]) for b in fake.bodies("batch/update")] == [100, 100, 50]
    # HubSpot gives a datetime back as ISO 8601: the same instant as the milliseconds sent.
    for deal in fake.deals.values():
        deal["cosell_attribution_as_of"] = "2026-11-01T00:00:00Z"
    fake.requests.clear()
    again = HubSpotClient(HS, fake, Sleeps()).run(recs)
    assert again.count("unchanged") == 250 and fake.bodies("batch/update") == []


@pytest.mark.parametrize(("fake", "client", "record"), [
    (FakeSalesforce(sf_deals(3)), SalesforceClient, sf_record),
    (FakeHubSpot(hs_deals(3)), HubSpotClient, hs_record),
])  # fmt: skip
def test_the_declared_fields_are_never_sent_nor_changed(fake, client, record) -> None:  # type: ignore[no-untyped-def]
    before = {rid: {k: v for k, v in d.items()} for rid, d in fake.deals.items()}
    client(SF if client is SalesforceClient else HS, fake, Sleeps()).run(
        [record(r) for r in sorted(fake.deals)]
    )
    declared = declared_names(client.crm)
    sent = json.dumps([r.body for r in fake.requests])
    assert fake.requests and not any(f'"{name}"' in sent for name in declared)
    for rid, deal in fake.deals.items():
        assert {k: deal[k] for k in before[rid]} == before[rid]


def test_a_rate_limit_is_retried_after_retry_after_then_succeeds() -> None:
    fake = FakeSalesforce(sf_deals(2), rate_limit_next=2, retry_after="3")
    sleeps = Sleeps()
    result = SalesforceClient(SF, fake, sleeps).run([sf_record(r) for r in sorted(fake.deals)])
    assert sleeps == [3.0, 3.0]
    assert (
        result.count("updated") == 2 and result.retries == 2 and result.calls == 4
    )  # 2 limited + read + update


def test_without_retry_after_the_wait_doubles_and_a_persistent_limit_stops_the_run() -> None:
    fake = FakeHubSpot(hs_deals(150), rate_limit_next=99, retry_after=None)
    sleeps = Sleeps()
    result = HubSpotClient(HS, fake, sleeps, RetryPolicy(attempts=4)).run(
        [hs_record(r) for r in sorted(fake.deals)]
    )
    assert sleeps == [1.0, 2.0, 4.0]  # 4 attempts, 3 waits, no jitter
    assert result.count("failed") == 150 and result.calls == 4
    assert {o.reason for o in result.outcomes} == {"not sent: still rate-limited after 4 attempts"}


@pytest.mark.parametrize(
    "header", ["nan", "NaN", "inf", "-3", "1e3", "2.5", "Wed, 21 Oct 2026 07:28:00 GMT", ""]
)
def test_a_retry_after_that_is_not_whole_seconds_waits_the_doubling_time(header: str) -> None:
    fake = FakeSalesforce(sf_deals(2), rate_limit_next=2, retry_after=header)
    sleeps = Sleeps()
    result = SalesforceClient(SF, fake, sleeps).run([sf_record(r) for r in sorted(fake.deals)])
    assert sleeps == [1.0, 2.0] and result.count("updated") == 2


@given(st.text(max_size=12), st.integers(min_value=1, max_value=12))
def test_every_wait_is_a_finite_number_of_seconds_within_the_cap(header: str, attempt: int) -> None:
    policy = RetryPolicy()
    wait = policy.wait(attempt, header)
    assert 0.0 <= wait <= policy.max_wait_seconds and math.isfinite(wait)


def test_a_limit_in_a_later_batch_keeps_what_was_done_and_fails_the_rest() -> None:
    fake = FakeSalesforce(sf_deals(250))
    recs = [sf_record(r) for r in sorted(fake.deals)]
    client = SalesforceClient(SF, fake, Sleeps(), RetryPolicy(attempts=2))
    original = fake.handle

    def limit_after_first_update(request):  # type: ignore[no-untyped-def]
        if fake.bodies("composite/sobjects"):
            fake.rate_limit_next = 10
        return original(request)

    fake.handle = limit_after_first_update  # type: ignore[method-assign]
    result = client.run(recs)
    assert result.count("updated") == 200 and result.count("failed") == 50
    assert all(
        o.status == "failed" for o in result.outcomes if o.record_id in {r.record_id for r in recs[200:]}
    )


def test_partial_failures_are_reported_per_record() -> None:
    fake = FakeSalesforce(sf_deals(3), reject={"006000000000001": "Partner Source must be set"})
    recs = [sf_record(r) for r in sorted(fake.deals)] + [sf_record("006999999999999")]
    result = SalesforceClient(SF, fake, Sleeps()).run(recs)
    assert list(result.outcomes) == [
        RecordOutcome("006000000000000", "updated"),
        RecordOutcome(
            "006000000000001", "failed", "FIELD_CUSTOM_VALIDATION_EXCEPTION: Partner Source must be set"
        ),
        RecordOutcome("006000000000002", "updated"),
        RecordOutcome("006999999999999", "failed", "ENTITY_IS_DELETED: entity is deleted"),
    ]
    hub = FakeHubSpot(hs_deals(3), reject={"1001": "Property values were not valid"})
    out = HubSpotClient(HS, hub, Sleeps()).run([hs_record(r) for r in sorted(hub.deals)] + [hs_record("42")])
    assert list(out.outcomes) == [
        RecordOutcome("1000", "updated"),
        RecordOutcome("1001", "failed", "VALIDATION_ERROR: Property values were not valid"),
        RecordOutcome("1002", "updated"),
        RecordOutcome("42", "failed", "OBJECT_NOT_FOUND: Could not update some DEAL objects"),
    ]


def test_a_refused_token_stops_with_a_message_that_never_shows_it() -> None:
    fake = FakeHubSpot(hs_deals(2), token="another")
    with pytest.raises(CosellError) as caught:
        HubSpotClient(HS, fake, Sleeps()).run([hs_record(r) for r in sorted(fake.deals)])
    assert "HTTP 401" in str(caught.value) and "after 0 deals were updated" in str(caught.value)
    assert "t0ken-SECRET" not in str(caught.value) and "t0ken" not in repr(HS)


@pytest.mark.parametrize(("fake", "origin", "client", "record"), [
    (FakeSalesforce(sf_deals(3)), "https://example.my.salesforce.com", SalesforceClient, sf_record),
    (FakeHubSpot(hs_deals(3)), "https://api.hubapi.com", HubSpotClient, hs_record),
])  # fmt: skip
def test_the_standard_library_transport_speaks_to_a_server_on_this_machine(
    fake, origin, client, record
) -> None:  # type: ignore[no-untyped-def]
    with serve(fake, origin) as base:
        creds = Credentials(base, "t0ken-SECRET")
        result = client(creds, UrllibTransport(timeout_seconds=10), Sleeps()).run(
            [record(r) for r in sorted(fake.deals)]
        )
    assert result.count("updated") == 3
    assert all(d.get(next(iter(d.keys() - {"partner_source", "partner_name", "Partner_Source__c",
                                            "Partner_Name__c"}))) for d in fake.deals.values())  # fmt: skip


def test_an_unreachable_crm_is_a_clear_error() -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on: bound, never listened to
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        creds = Credentials(f"http://127.0.0.1:{port}", "t0ken-SECRET")
        with pytest.raises(CosellError, match=rf"cannot reach 127.0.0.1:{port}") as caught:
            HubSpotClient(creds, UrllibTransport(timeout_seconds=5), Sleeps()).run([hs_record("1")])
    assert "t0ken" not in str(caught.value)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.sampled_from(["1", "S1", "99999999999999999999"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["id", "results", "errors", "properties", "context", "ids", "success", "message"]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


class Answers:
    """A CRM that answers each call with the next of ``answers`` (status, JSON body), whatever it was asked."""

    def __init__(self, answers: list[tuple[int, object]]) -> None:
        self.answers = answers

    def send(self, request: HttpRequest) -> HttpResponse:
        status, body = self.answers.pop(0) if self.answers else (200, None)
        return HttpResponse(status, {}, json.dumps(body).encode())


SF_KIND = (SalesforceClient, SF, sf_record, "006000000000001")
HS_KIND = (HubSpotClient, HS, hs_record, "1001")
SF_SAME = {"Cosell_Tier__c": "sourced", "Cosell_Rules__c": "S1"}  # what sf_record writes, but the as-of


@example(HS_KIND, [(200, {"results": 5}), (200, None)])
@example(
    HS_KIND, [(200, {"results": [{"id": "1001", "properties": [1]}]}), (207, {"errors": [{"context": 3}]})]
)
@example(HS_KIND, [(200, None), (207, {"results": {}, "errors": [{"context": {"ids": 5}}, "x"]})])
@example(SF_KIND, [(200, [{**SF_SAME, "Cosell_Attribution_As_Of__c": "99999999999999999999"}]), (200, None)])
@example(
    SF_KIND, [(200, [{**SF_SAME, "Cosell_Attribution_As_Of__c": "9999-12-31T23:59:59-05:00"}]), (200, None)]
)
@example(SF_KIND, [(200, None), (200, [{"success": False, "errors": "x"}])])
@given(
    st.sampled_from([SF_KIND, HS_KIND]),
    st.lists(st.tuples(st.sampled_from([200, 207, 400, 500]), JSON), min_size=2, max_size=2),
)
def test_any_answer_of_another_shape_fails_the_deal_in_words(client_kind: tuple, answers: list) -> None:  # type: ignore[type-arg]
    """A proxy or an outage may answer anything: every deal still gets exactly one outcome, never a
    traceback (a HubSpot answer whose "results" was a number had raised TypeError)."""
    client, credentials, record, rid = client_kind
    result = client(credentials, Answers(list(answers)), Sleeps()).run([record(rid)])
    assert [o.record_id for o in result.outcomes] == [rid]
    assert result.outcomes[0].status in ("updated", "unchanged", "failed")


def test_a_crm_instant_without_an_offset_is_read_as_utc_on_any_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The comparison that decides what to send does not depend on this machine's time zone."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        same = {
            "Cosell_Tier__c": "sourced",
            "Cosell_Rules__c": "S1",
            "Cosell_Attribution_As_Of__c": "2026-11-01T00:00:00",
        }
        result = SalesforceClient(SF, Answers([(200, [same])]), Sleeps()).run([sf_record("006000000000001")])
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert [o.status for o in result.outcomes] == ["unchanged"] and result.calls == 1
