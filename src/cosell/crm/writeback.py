"""The write-back: cosell's results as the values of its own CRM fields, and as the files the CRMs'
importers take (``cosell writeback salesforce|hubspot --out DIR``).

One :class:`WritebackRecord` per deal of an attribution run: the deal's record id in the CRM (its
opportunity_id: the Salesforce Id or the HubSpot record id it was imported with) and the value of
each of cosell's result fields (:data:`cosell.crm.fields.RESULT_FIELDS`). The five declared fields
are never among them: a record can only hold result-field names (:func:`records` builds them from
that list alone), and :func:`writeback_csv` checks its header against the declared names.

Files:

- Salesforce: a Data Loader CSV (``Id`` first), for an Update or an Upsert matched on Id. An empty
  value is written ``#N/A``, Data Loader's word for "set this field to null", so a partner removed
  from a deal is cleared in the CRM too. DateTime values are ``2026-11-01T00:00:00.000Z``.
- HubSpot: an import CSV keyed by ``hs_object_id`` (the record id), one column per property
  (internal names). HubSpot's import leaves a property unchanged when its cell is empty; the API
  write-back clears it. datetime values are Unix milliseconds (UTC).

Text cells are escaped so a spreadsheet never runs them (:mod:`cosell.cells`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cosell.cells import write_csv
from cosell.crm.fields import RECORD_ID, RESULT_FIELDS, check_crm, declared_names, result_names
from cosell.errors import CosellError
from cosell.instants import parse_instant
from cosell.results import AttributionRow

SALESFORCE_NULL = "#N/A"
_MORE = " ... ({n} more)"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class WritebackRecord:
    """One deal's values for cosell's fields in one CRM: ``values`` holds (API name, value) pairs in
    :data:`RESULT_FIELDS` order; ``""`` means "no value" (the field is cleared)."""

    record_id: str
    values: tuple[tuple[str, str], ...]

    def as_dict(self) -> dict[str, str]:
        return dict(self.values)


def explanation(opportunity_id: str, explain_url: str | None) -> str:
    """Where to read a deal's decision: ``explain_url`` with ``{opportunity_id}`` filled in, else the
    command that prints it.

    >>> explanation("006A", "https://cosell.example.com/explain/{opportunity_id}")
    'https://cosell.example.com/explain/006A'
    >>> explanation("006A", None)
    'cosell explain 006A'
    """
    if explain_url:
        return explain_url.replace("{opportunity_id}", opportunity_id)
    return f"cosell explain {opportunity_id}"


def evidence_summary(row: AttributionRow, limit: int) -> str:
    """What the tier rests on, in one line: when the partner engaged and the evidence ids; at most
    ``limit`` characters (whole ids only, then how many were left out)."""
    head = f"partner engaged {row.engagement_at}" if row.engagement_at else "no partner engagement"
    ids = row.evidence.split()
    if not ids:
        return head if row.engagement_at else "no partner evidence"
    text = head + "; evidence: "
    kept: list[str] = []
    for i, token in enumerate(ids):
        rest = len(ids) - i - 1
        tail = _MORE.format(n=rest) if rest else ""
        if len(text) + len(" ".join([*kept, token])) + len(tail) > limit:
            return (text + " ".join(kept)).rstrip() + _MORE.format(n=len(ids) - len(kept))
        kept.append(token)
    return text + " ".join(kept)


def _instant(text: str, crm: str) -> str:
    if not text:
        return ""
    at = parse_instant(text)
    if crm == "salesforce":
        return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    return str((at - _EPOCH) // timedelta(milliseconds=1))  # exact integer arithmetic, no float


def _values(row: AttributionRow, crm: str, explain_url: str | None) -> dict[str, str]:
    evidence_limit = next(f for f in RESULT_FIELDS if f.key == "evidence").salesforce.length or 32768
    return {
        "tier": row.tier,
        "primary_partner_id": row.primary_partner_id,
        "rules": row.rules,
        "evidence": evidence_summary(row, evidence_limit),
        "explanation": explanation(row.opportunity_id, explain_url),
        "as_of": _instant(row.as_of, crm),
        "policy_version": row.policy_version,
    }


def record(row: AttributionRow, crm: str, explain_url: str | None = None) -> WritebackRecord:
    """The write-back record of one attribution row (a value too long for its field is an error
    naming the deal and the field, never cut silently)."""
    values = _values(row, crm, explain_url)
    pairs = []
    for field in RESULT_FIELDS:
        value = values[field.key]
        length = field.salesforce.length
        if length is not None and len(value) > length:
            raise CosellError(
                f"deal {row.opportunity_id}: {field.label} is {len(value)} characters, more than the "
                f"{length} its CRM field holds"
            )
        pairs.append((field.name_in(crm), value))
    return WritebackRecord(row.opportunity_id, tuple(pairs))


def records(
    rows: Iterable[AttributionRow], crm: str, explain_url: str | None = None
) -> list[WritebackRecord]:
    """The write-back records of an attribution run, sorted by record id."""
    check_crm(crm)
    return sorted((record(r, crm, explain_url) for r in rows), key=lambda r: r.record_id)


def writeback_header(crm: str) -> tuple[str, ...]:
    """The import file's columns: the record id, then cosell's fields (never a declared field)."""
    header = (RECORD_ID[crm], *result_names(crm))
    overlap = set(header) & declared_names(crm)
    if overlap:  # a guard against a mistake in fields.py: cosell never writes a declared field
        raise AssertionError(f"write-back would overwrite declared fields: {sorted(overlap)}")
    return header


def writeback_csv(crm: str, recs: Iterable[WritebackRecord]) -> bytes:
    """The importer's CSV (UTF-8, ``\\n`` line ends) for ``recs``."""
    header = writeback_header(check_crm(crm))
    rows: list[list[object]] = [list(header)]
    for rec in recs:
        values = rec.as_dict()
        cells: list[object] = [rec.record_id]
        for name in header[1:]:
            value = values[name]
            cells.append(SALESFORCE_NULL if crm == "salesforce" and value == "" else value)
        rows.append(cells)
    return write_csv(rows).encode("utf-8")


def writeback_file_name(crm: str) -> str:
    """The file the write-back writes into ``--out DIR``."""
    return {
        "salesforce": "cosell-writeback-salesforce-opportunity.csv",
        "hubspot": "cosell-writeback-hubspot-deals.csv",
    }[check_crm(crm)]
