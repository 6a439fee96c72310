"""The write-back through the CRMs' REST APIs (``cosell writeback salesforce|hubspot --api``).

Per batch (Salesforce: 200 records, the most ``composite/sobjects`` takes; HubSpot: 100, the most
``batch/update`` takes) the client first reads the deals' current values of cosell's fields and then
sends only the deals whose values differ, so a re-run with nothing new sends no update at all (and
had it sent them, the same values twice change nothing). The five declared fields are never read
nor sent.

Every record ends in one :class:`RecordOutcome`: updated, unchanged or failed with the CRM's reason.
A partial failure (one deal rejected by a validation rule, a deleted deal) fails that record only.
A rate limit is retried (:mod:`cosell.crm.http`); when it persists, the records not yet sent are
reported failed and the run stops. A refused token stops the run at once with an error that says
how many deals were updated before; the token itself is never shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cosell.crm.fields import (
    HUBSPOT_OBJECT,
    RESULT_FIELDS,
    SALESFORCE_API_VERSION,
    SALESFORCE_OBJECT,
    result_names,
)
from cosell.crm.http import (
    CallLog,
    HttpRequest,
    HttpResponse,
    RetryPolicy,
    Sleep,
    Transport,
    is_rate_limited,
    send_with_retry,
)
from cosell.crm.writeback import WritebackRecord
from cosell.errors import CosellError
from cosell.report_model import counted

SALESFORCE_BATCH = 200
HUBSPOT_BATCH = 100
HUBSPOT_BASE_URL = "https://api.hubapi.com"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RecordOutcome:
    """What happened to one deal: ``updated``, ``unchanged`` or ``failed`` (with the reason)."""

    record_id: str
    status: str
    reason: str = ""


@dataclass(frozen=True)
class ApiWriteback:
    """The outcome of an API write-back: one outcome per record (by record id), calls and retries."""

    crm: str
    outcomes: tuple[RecordOutcome, ...]
    calls: int
    retries: int

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


@dataclass(frozen=True)
class Credentials:
    """Where and as whom to call: the API's base URL and a bearer token (never printed)."""

    base_url: str
    access_token: str = field(repr=False)


def _instant(text: str) -> datetime | None:
    """A datetime as either CRM writes it: Unix milliseconds, or ISO 8601 (``+0000`` included)."""
    text = text.strip()
    if not text:
        return None
    try:
        if text.isascii() and text.isdigit():
            return _EPOCH + timedelta(milliseconds=int(text))
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        # A value without an offset is read as UTC, never as this machine's zone.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):  # not an instant, or beyond year 9999: not the one wanted
        return None


def _same(name: str, current: Any, wanted: str) -> bool:
    have = "" if current is None else str(current)
    if name in _DATETIME_NAMES:
        return _instant(have) == _instant(wanted)
    return have == wanted


_DATETIME_NAMES = frozenset(
    n
    for f in RESULT_FIELDS
    if f.salesforce.type == "DateTime"
    for n in (f.salesforce.api_name, f.hubspot.name)
)


class _Client:
    """The flow both CRMs share: batches, read, compare, send the changed, collect outcomes."""

    crm = ""
    batch_size = 1

    def __init__(
        self,
        credentials: Credentials,
        transport: Transport,
        sleep: Sleep,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._base = credentials.base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {credentials.access_token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self._transport = transport
        self._sleep = sleep
        self._policy = policy or RetryPolicy()
        self._log = CallLog()

    # -- per CRM
    def _read_request(self, batch: Sequence[WritebackRecord]) -> HttpRequest:
        raise NotImplementedError

    def _current(self, batch: Sequence[WritebackRecord], body: Any) -> dict[str, dict[str, Any]]:
        raise NotImplementedError

    def _update_request(self, batch: Sequence[WritebackRecord]) -> HttpRequest:
        raise NotImplementedError

    def _update_outcomes(self, batch: Sequence[WritebackRecord], body: Any) -> list[RecordOutcome]:
        raise NotImplementedError

    # -- shared
    def _call(self, request: HttpRequest, done: int) -> HttpResponse:
        response = send_with_retry(self._transport, request, self._sleep, self._policy, self._log)
        if response.status == 401:
            raise CosellError(
                f"{self.crm} refused the access token (HTTP 401) after {counted(done, 'deal')} "
                f"{'was' if done == 1 else 'were'} updated: "
                "get a new token and run the write-back again (it sends only what still differs)"
            )
        return response

    def run(self, recs: Sequence[WritebackRecord]) -> ApiWriteback:
        """Write ``recs`` (sorted by record id) batch by batch; see the module docstring."""
        outcomes: list[RecordOutcome] = []
        batches = [recs[i : i + self.batch_size] for i in range(0, len(recs), self.batch_size)]
        for n, batch in enumerate(batches):
            done = sum(1 for o in outcomes if o.status == "updated")
            read = self._call(self._read_request(batch), done)
            if is_rate_limited(read):
                outcomes += self._stopped([r for b in batches[n:] for r in b])
                break
            # A read that failed (a malformed id in the batch) compares nothing: every record is sent.
            current = self._current(batch, read.json()) if read.status < 300 else {}
            changed = [r for r in batch if not self._unchanged(r, current.get(r.record_id))]
            outcomes += [RecordOutcome(r.record_id, "unchanged") for r in batch if r not in changed]
            if not changed:
                continue
            sent = self._call(self._update_request(changed), done)
            if is_rate_limited(sent):
                outcomes += self._stopped([*changed, *(r for b in batches[n + 1 :] for r in b)])
                break
            if sent.status >= 300 and sent.status != 207:
                reason = f"HTTP {sent.status}: {_message(sent.json()) or 'no reason given'}"
                outcomes += [RecordOutcome(r.record_id, "failed", reason) for r in changed]
                continue
            outcomes += self._update_outcomes(changed, sent.json())
        ordered = tuple(sorted(outcomes, key=lambda o: o.record_id))
        return ApiWriteback(self.crm, ordered, self._log.calls, self._log.retries)

    def _unchanged(self, rec: WritebackRecord, current: Mapping[str, Any] | None) -> bool:
        if current is None:
            return False
        return all(_same(name, current.get(name), value) for name, value in rec.values)

    def _stopped(self, recs: Sequence[WritebackRecord]) -> list[RecordOutcome]:
        reason = f"not sent: still rate-limited after {self._policy.attempts} attempts"
        return [RecordOutcome(r.record_id, "failed", reason) for r in recs]


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list (an answer of another shape holds none): the CRM's answer is read
    defensively, since a proxy or an outage can answer anything."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _message(body: Any) -> str:
    """The CRM's error text from a JSON error body (either CRM's shape)."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("errorCode") or "")
    return ""


class SalesforceClient(_Client):
    """Salesforce REST: ``composite/sobjects`` (retrieve, then PATCH of up to 200, allOrNone false)."""

    crm = "salesforce"
    batch_size = SALESFORCE_BATCH

    def _url(self, path: str) -> str:
        return f"{self._base}/services/data/v{SALESFORCE_API_VERSION}/{path}"

    def _read_request(self, batch: Sequence[WritebackRecord]) -> HttpRequest:
        body = {"ids": [r.record_id for r in batch], "fields": list(result_names("salesforce"))}
        return HttpRequest("POST", self._url(f"composite/sobjects/{SALESFORCE_OBJECT}"), self._headers, body)

    def _current(self, batch: Sequence[WritebackRecord], body: Any) -> dict[str, dict[str, Any]]:
        # The answer lists the records in the order asked (null for an id it does not know); matched
        # by position because Salesforce answers with 18-character Ids to 15-character ones.
        if not isinstance(body, list):
            return {}
        return {r.record_id: rec for r, rec in zip(batch, body, strict=False) if isinstance(rec, dict)}

    def _update_request(self, batch: Sequence[WritebackRecord]) -> HttpRequest:
        records = [
            {"attributes": {"type": SALESFORCE_OBJECT}, "id": r.record_id}
            | {name: (value if value != "" else None) for name, value in r.values}
            for r in batch
        ]
        body = {"allOrNone": False, "records": records}
        return HttpRequest("PATCH", self._url("composite/sobjects"), self._headers, body)

    def _update_outcomes(self, batch: Sequence[WritebackRecord], body: Any) -> list[RecordOutcome]:
        answers = body if isinstance(body, list) else []
        out = []
        for i, rec in enumerate(batch):
            answer = answers[i] if i < len(answers) and isinstance(answers[i], dict) else None
            if answer is None:
                out.append(RecordOutcome(rec.record_id, "failed", "Salesforce gave no answer for it"))
            elif answer.get("success"):
                out.append(RecordOutcome(rec.record_id, "updated"))
            else:
                errors = _dicts(answer.get("errors")) or [{}]
                reason = "; ".join(f"{e.get('statusCode', 'ERROR')}: {e.get('message', '')}" for e in errors)
                out.append(RecordOutcome(rec.record_id, "failed", reason))
        return out


class HubSpotClient(_Client):
    """HubSpot CRM v3: ``objects/deals/batch/read`` and ``batch/update`` of up to 100."""

    crm = "hubspot"
    batch_size = HUBSPOT_BATCH

    def _url(self, path: str) -> str:
        return f"{self._base}/crm/v3/objects/{HUBSPOT_OBJECT}/{path}"

    def _read_request(self, batch: Sequence[WritebackRecord]) -> HttpRequest:
        body = {
            "inputs": [{"id": r.record_id} for r in batch],
            "properties": list(result_names("hubspot")),
            "propertiesWithHistory": [],
        }
        return HttpRequest("POST", self._url("batch/read"), self._headers, body)

    def _current(self, batch: Sequence[WritebackRecord], body: Any) -> dict[str, dict[str, Any]]:
        return {str(r.get("id")): _dict(r.get("properties")) for r in _dicts(_dict(body).get("results"))}

    def _update_request(self, batch: Sequence[WritebackRecord]) -> HttpRequest:
        body = {"inputs": [{"id": r.record_id, "properties": dict(r.values)} for r in batch]}
        return HttpRequest("POST", self._url("batch/update"), self._headers, body)

    def _update_outcomes(self, batch: Sequence[WritebackRecord], body: Any) -> list[RecordOutcome]:
        body = _dict(body)
        updated = {str(r.get("id")) for r in _dicts(body.get("results"))}
        failed: dict[str, str] = {}
        for error in _dicts(body.get("errors")):
            reason = f"{error.get('category', 'ERROR')}: {error.get('message', '')}"
            ids = _dict(error.get("context")).get("ids")
            for rid in ids if isinstance(ids, list) else []:
                failed.setdefault(str(rid), reason)
        out = []
        for rec in batch:
            if rec.record_id in failed:
                out.append(RecordOutcome(rec.record_id, "failed", failed[rec.record_id]))
            elif rec.record_id in updated:
                out.append(RecordOutcome(rec.record_id, "updated"))
            else:
                out.append(RecordOutcome(rec.record_id, "failed", "HubSpot gave no answer for it"))
        return out


CLIENTS: dict[str, Callable[..., _Client]] = {"salesforce": SalesforceClient, "hubspot": HubSpotClient}
