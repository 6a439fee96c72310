"""Use cases of ``cosell writeback salesforce|hubspot``: cosell's newest attribution into the CRM's own
fields of cosell (never the five declared fields), as the file its importer takes (``--out DIR``)
or through its REST API (``--api``). Both read the workspace; nothing is recorded in it.

Configuration (environment variables; docs/writeback.md). The tokens are read, sent to the CRM and
never printed, logged or written anywhere:

- ``COSELL_SALESFORCE_INSTANCE_URL`` (``https://yourorg.my.salesforce.com``) and
  ``COSELL_SALESFORCE_ACCESS_TOKEN`` (an OAuth access token of the integration user);
- ``COSELL_HUBSPOT_ACCESS_TOKEN`` (a private app token with the deals write scope) and, optionally,
  ``COSELL_HUBSPOT_BASE_URL`` (default ``https://api.hubapi.com``);
- ``COSELL_EXPLAIN_URL``: where a deal's explanation is read, with ``{opportunity_id}`` in it
  (default: the explanation field holds the command ``cosell explain <id>``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cosell.crm.fields import check_crm
from cosell.crm.http import RetryPolicy, Sleep, Transport, UrllibTransport, real_sleep
from cosell.crm.writeback import WritebackRecord, records, writeback_csv, writeback_file_name
from cosell.crm.writeback_api import CLIENTS, HUBSPOT_BASE_URL, ApiWriteback, Credentials, RecordOutcome
from cosell.errors import CosellError, UsageError
from cosell.outfiles import output_folder, write_file
from cosell.store.versions import latest_rows
from cosell.store.workspace import Workspace

__all__ = [
    "ApiWriteback",
    "RecordOutcome",
    "WritebackSource",
    "WrittenFile",
    "credentials_from",
    "writeback_through_api",
    "writeback_to_file",
]

EXPLAIN_URL_ENV = "COSELL_EXPLAIN_URL"
ENV = {
    "salesforce": ("COSELL_SALESFORCE_INSTANCE_URL", "COSELL_SALESFORCE_ACCESS_TOKEN"),
    "hubspot": ("COSELL_HUBSPOT_BASE_URL", "COSELL_HUBSPOT_ACCESS_TOKEN"),
}
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class WritebackSource:
    """What is written back: every deal's newest attribution version (each with its own as-of instant
    and policy version), read up to run ``run_id``, and how many deals."""

    run_id: int
    deals: int


@dataclass(frozen=True)
class WrittenFile:
    """The importer's file written: where, and from which run."""

    crm: str
    path: Path
    source: WritebackSource


def explain_url(env: Mapping[str, str] | None = None) -> str | None:
    """The explanation link template from ``$COSELL_EXPLAIN_URL`` (None when unset)."""
    value = ((os.environ if env is None else env).get(EXPLAIN_URL_ENV) or "").strip()
    if value and "{opportunity_id}" not in value:
        raise UsageError(
            f"{EXPLAIN_URL_ENV} must contain {{opportunity_id}}, e.g. https://host/explain/{{opportunity_id}}"
        )
    return value or None


def _newest(ws: Workspace, crm: str, link: str | None) -> tuple[WritebackSource, list[WritebackRecord]]:
    # Every deal's newest version: the newest full run, and the fixes, disputes and auto-tags after it.
    run_id, rows = latest_rows(ws.con)
    if run_id is None:
        raise CosellError("no attribution run yet: run `cosell attribute` before the write-back")
    recs = records(rows, crm, link)
    return WritebackSource(run_id, len(recs)), recs


def writeback_to_file(
    ws: Workspace, crm: str, out: Path, env: Mapping[str, str] | None = None
) -> WrittenFile:
    """Write the importer's CSV of ``crm`` for the newest attribution run into the folder ``out``."""
    check_crm(crm)
    source, recs = _newest(ws, crm, explain_url(env))
    data = writeback_csv(crm, recs)  # built in full before anything is written
    path = output_folder(out) / writeback_file_name(crm)
    write_file(path, data)
    return WrittenFile(crm, path, source)


def credentials_from(crm: str, env: Mapping[str, str] | None = None) -> Credentials:
    """The API credentials of ``crm`` from the environment, or an error naming what is missing (never
    a value). The URL must be https (plain http only to this machine, for a local test server)."""
    env = os.environ if env is None else env
    url_var, token_var = ENV[check_crm(crm)]
    url = (env.get(url_var) or "").strip() or (HUBSPOT_BASE_URL if crm == "hubspot" else "")
    token = (env.get(token_var) or "").strip()
    missing = [v for v, value in ((url_var, url), (token_var, token)) if not value]
    if missing:
        raise UsageError(
            f"the {crm} API write-back needs {' and '.join(missing)} (see docs/writeback.md); "
            "without them, write the import file with --out DIR"
        )
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        raise UsageError(f"{url_var} must be an https:// URL (the token is sent to it), not {url!r}")
    return Credentials(url, token)


def writeback_through_api(
    ws: Workspace,
    crm: str,
    *,
    env: Mapping[str, str] | None = None,
    transport: Transport | None = None,
    sleep: Sleep | None = None,
    policy: RetryPolicy | None = None,
) -> tuple[WritebackSource, ApiWriteback]:
    """Send the newest attribution run to ``crm``'s REST API (only the deals whose cosell fields
    differ); ``transport`` and ``sleep`` are the network and the waiting (tests give fakes)."""
    creds = credentials_from(crm, env)
    source, recs = _newest(ws, crm, explain_url(env))
    client = CLIENTS[crm](creds, transport or UrllibTransport(), sleep or real_sleep, policy)
    return source, client.run(recs)
