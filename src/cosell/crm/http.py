"""The narrow HTTP boundary of the CRM clients: a request, a response, a transport, and the bounded
retry of a rate-limited call.

The clients (:mod:`cosell.crm.writeback_api`) build :class:`HttpRequest` values and hand them to a
:class:`Transport`; :class:`UrllibTransport` sends them with the standard library, and the tests
hand in an in-process fake that speaks Salesforce's or HubSpot's wire format instead. No HTTP
library is needed for the few JSON calls the write-back makes.

Rate limits: a 429, or a Salesforce ``REQUEST_LIMIT_EXCEEDED`` (sent with 403), is retried after
``Retry-After`` seconds when the CRM says so (capped), else after 1, 2, 4, 8 ... seconds: no jitter,
so a run is reproducible. The waiting goes through an injected ``sleep``, so tests never wait.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from cosell.errors import CosellError

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class HttpRequest:
    """One call: method, absolute URL, headers and a JSON body (None: no body)."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: Any = None

    def body_bytes(self) -> bytes | None:
        return None if self.body is None else json.dumps(self.body, sort_keys=True).encode("utf-8")


@dataclass(frozen=True)
class HttpResponse:
    """The answer: status, headers (names in lower case) and the body's bytes."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        """The body as JSON (None when empty or not JSON)."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


class Transport(Protocol):
    """Sends one request and returns the response, whatever its status; raises only when there is no
    response at all (the host cannot be reached)."""

    def send(self, request: HttpRequest) -> HttpResponse: ...


class UrllibTransport:
    """A :class:`Transport` over :mod:`urllib.request` (HTTPS with the system's certificates)."""

    def __init__(self, timeout_seconds: float = 60.0) -> None:
        self._timeout = timeout_seconds

    def send(self, request: HttpRequest) -> HttpResponse:
        req = urllib.request.Request(
            request.url, data=request.body_bytes(), headers=dict(request.headers), method=request.method
        )
        try:
            with urllib.request.urlopen(req, timeout=self._timeout) as resp:
                return HttpResponse(resp.status, _lower(resp.headers.items()), resp.read())
        except urllib.error.HTTPError as exc:
            return HttpResponse(exc.code, _lower(exc.headers.items()), exc.read())
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CosellError(f"cannot reach {urlsplit(request.url).netloc}: {reason}") from None


def _lower(items: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in items}


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait on a rate limit: at most ``attempts`` calls in all, waiting
    ``Retry-After`` (at most ``max_wait_seconds``) or ``first_wait_seconds`` doubled each time."""

    attempts: int = 5
    first_wait_seconds: float = 1.0
    max_wait_seconds: float = 60.0

    def wait(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait after the ``attempt``-th (1-based) rate-limited call.

        >>> RetryPolicy().wait(1, None), RetryPolicy().wait(3, None), RetryPolicy().wait(1, "7")
        (1.0, 4.0, 7.0)
        >>> RetryPolicy().wait(2, "nan"), RetryPolicy().wait(1, "99999"), RetryPolicy().wait(1, "-3")
        (2.0, 60.0, 1.0)
        """
        seconds = (retry_after or "").strip()
        # RFC 9110: delay-seconds is ASCII digits. Anything else (an HTTP date, which would need the
        # wall clock, or "nan", "1e9", "-3") falls back to the doubling wait.
        if seconds.isascii() and seconds.isdigit():
            return min(float(seconds), self.max_wait_seconds)
        return float(min(self.first_wait_seconds * 2.0 ** (attempt - 1), self.max_wait_seconds))


def is_rate_limited(response: HttpResponse) -> bool:
    """A 429, or Salesforce's ``REQUEST_LIMIT_EXCEEDED`` error code (it answers 403 with it)."""
    if response.status == 429:
        return True
    body = response.json()
    errors = body if isinstance(body, list) else [body]
    return any(isinstance(e, dict) and e.get("errorCode") == "REQUEST_LIMIT_EXCEEDED" for e in errors)


@dataclass
class CallLog:
    """Counts what a run sent: calls made and rate-limit retries (for the report)."""

    calls: int = 0
    retries: int = 0


def send_with_retry(
    transport: Transport, request: HttpRequest, sleep: Sleep, policy: RetryPolicy, log: CallLog
) -> HttpResponse:
    """Send ``request``; on a rate limit, wait and send it again, at most ``policy.attempts`` calls.
    The last response is returned as it is (still rate-limited when every attempt was)."""
    for attempt in range(1, policy.attempts + 1):
        log.calls += 1
        response = transport.send(request)
        if not is_rate_limited(response) or attempt == policy.attempts:
            return response
        log.retries += 1
        sleep(policy.wait(attempt, response.headers.get("retry-after")))
    raise AssertionError("unreachable: the loop returns on its last attempt")


def real_sleep(seconds: float) -> None:
    """Wait ``seconds`` (the production ``sleep``; a wait is never part of a result)."""
    time.sleep(seconds)
