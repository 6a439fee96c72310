"""In-process fakes of the two CRM APIs the write-back calls, speaking their wire format: JSON bodies,
status codes and headers as Salesforce's REST API (composite/sobjects) and HubSpot's CRM v3 API
(objects/deals/batch/read|update) send them. Each is a :class:`cosell.crm.http.Transport`, so the
real client runs against it; :func:`serve` also puts one behind a real HTTP server on 127.0.0.1.

A fake holds deals as ``{id: {field: value}}`` (declared fields included, so a test can check that
they never change), records every request, and can be told to rate-limit the next calls, reject
some records (as a validation rule would), or refuse the token.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cosell.crm.http import HttpRequest, HttpResponse


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(
        status, {"content-type": "application/json", **(headers or {})}, json.dumps(body).encode()
    )


@dataclass
class FakeCrm:
    """What both fakes share: the deals, the requests seen, and the faults to inject."""

    deals: dict[str, dict[str, Any]]
    token: str = "t0ken-SECRET"
    requests: list[HttpRequest] = field(default_factory=list)
    rate_limit_next: int = 0  # answer the next N calls with a rate limit
    retry_after: str | None = "3"
    reject: dict[str, str] = field(default_factory=dict)  # record id -> validation message

    def send(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self.unauthorized()
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            return self.rate_limited()
        return self.handle(request)

    def bodies(self, path_end: str) -> list[Any]:
        """The JSON bodies of the requests whose URL ends with ``path_end``, in order."""
        return [r.body for r in self.requests if r.url.endswith(path_end)]

    def unauthorized(self) -> HttpResponse:
        raise NotImplementedError

    def rate_limited(self) -> HttpResponse:
        raise NotImplementedError

    def handle(self, request: HttpRequest) -> HttpResponse:
        raise NotImplementedError


class FakeSalesforce(FakeCrm):
    """Salesforce REST, API v66.0: retrieve and PATCH of ``composite/sobjects``."""

    BASE = "https://example.my.salesforce.com/services/data/v66.0/"

    def unauthorized(self) -> HttpResponse:
        return _json(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])

    def rate_limited(self) -> HttpResponse:
        headers = {"retry-after": self.retry_after} if self.retry_after else {}
        body = [{"message": "ConcurrentPerOrgLongTxn Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        return _json(403, body, headers)

    def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.url.removeprefix(self.BASE)
        if request.method == "POST" and path == "composite/sobjects/Opportunity":
            ids, fields = request.body["ids"], request.body["fields"]
            assert len(ids) <= 2000
            out = []
            for rid in ids:
                deal = self.deals.get(rid)
                if deal is None:
                    out.append(None)
                else:  # Salesforce answers with the 18-character Id
                    rec = {"attributes": {"type": "Opportunity"}, "Id": rid + "AAA"}
                    out.append(rec | {f: deal.get(f) for f in fields})
            return _json(200, out)
        if request.method == "PATCH" and path == "composite/sobjects":
            records = request.body["records"]
            if len(records) > 200:
                return _json(400, [{"message": "too many records", "errorCode": "EXCEEDED_ID_LIMIT"}])
            out = []
            for rec in records:
                rid = rec["id"]
                if rid not in self.deals:
                    out.append({"success": False, "errors": [
                        {"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []}]})  # fmt: skip
                elif rid in self.reject:
                    out.append({"id": rid, "success": False, "errors": [
                        {"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": self.reject[rid],
                         "fields": []}]})  # fmt: skip
                else:
                    values = {k: v for k, v in rec.items() if k not in ("attributes", "id")}
                    self.deals[rid].update(values)
                    out.append({"id": rid, "success": True, "errors": []})
            return _json(200, out)
        return _json(404, [{"message": f"no such resource {path}", "errorCode": "NOT_FOUND"}])


class FakeHubSpot(FakeCrm):
    """HubSpot CRM v3: ``objects/deals/batch/read`` and ``objects/deals/batch/update``."""

    BASE = "https://api.hubapi.com/crm/v3/objects/deals/"

    def unauthorized(self) -> HttpResponse:
        return _json(401, {"status": "error", "message": "Authentication credentials not found.",
                           "category": "INVALID_AUTHENTICATION"})  # fmt: skip

    def rate_limited(self) -> HttpResponse:
        headers = {"retry-after": self.retry_after} if self.retry_after else {}
        body = {"status": "error", "message": "You have reached your secondly limit.", "errorType": "RATE_LIMIT",
                "category": "RATE_LIMITS"}  # fmt: skip
        return _json(429, body, headers)

    def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.url.removeprefix(self.BASE)
        inputs = request.body["inputs"] if isinstance(request.body, dict) else []
        if len(inputs) > 100:
            return _json(
                400, {"status": "error", "message": "too many inputs", "category": "VALIDATION_ERROR"}
            )
        if request.method == "POST" and path == "batch/read":
            props = request.body["properties"]
            found = [i["id"] for i in inputs if i["id"] in self.deals]
            missing = [i["id"] for i in inputs if i["id"] not in self.deals]
            results = [{"id": rid, "properties": {p: self.deals[rid].get(p) for p in props}} for rid in found]
            return self._multi(results, missing, "OBJECT_NOT_FOUND", "Could not get some DEAL objects")
        if request.method == "POST" and path == "batch/update":
            results, missing, rejected = [], [], []
            for item in inputs:
                rid = item["id"]
                if rid not in self.deals:
                    missing.append(rid)
                elif rid in self.reject:
                    rejected.append(rid)
                else:
                    self.deals[rid].update(item["properties"])
                    results.append({"id": rid, "properties": dict(self.deals[rid])})
            response = self._multi(results, missing, "OBJECT_NOT_FOUND", "Could not update some DEAL objects")
            if rejected:
                body = json.loads(response.body)
                body.setdefault("errors", []).append({"status": "error", "category": "VALIDATION_ERROR",
                    "message": self.reject[rejected[0]], "context": {"ids": rejected}})  # fmt: skip
                response = _json(207, body)
            return response
        return _json(404, {"status": "error", "message": f"no such resource {path}"})

    @staticmethod
    def _multi(results: list[Any], missing: list[str], category: str, message: str) -> HttpResponse:
        body: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if not missing:
            return _json(200, body)
        body["numErrors"] = 1
        body["errors"] = [
            {"status": "error", "category": category, "message": message, "context": {"ids": missing}}
        ]
        return _json(207, body)


@contextmanager
def serve(fake: FakeCrm, origin: str) -> Iterator[str]:
    """Serve ``fake`` over real HTTP on 127.0.0.1 (a free port); yields the base URL to give the
    client. Each request's path is put back on ``origin`` (the CRM's real scheme and host)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = dict(self.headers.items())
            request = HttpRequest(self.command, origin + self.path, headers, json.loads(raw) if raw else None)
            response = fake.send(request)
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)

        do_POST = do_PATCH = do_GET = _answer

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
