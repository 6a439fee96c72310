"""The CRM mapping file: how one company's Salesforce or HubSpot export reads as cosell's tables.

A TOML file (``cosell crm map init`` drafts one from the export itself; docs/crm-import.md
describes every key)::

    crm = "salesforce"            # or "hubspot"
    encoding = "utf-8"            # utf-8, utf-8-sig, cp1252 or latin-1 (a file may override it)
    timezone = "UTC"              # the zone of date-times written without an offset

    [fields]                      # the five declared fields: the CRM's names for them
    partner_source = "Partner_Source__c"
    [tiers]                       # partner_source picklist value -> none|sourced|influenced|accelerated
    "Partner Sourced" = "sourced"
    [stages]                      # stage -> open|won|lost (must agree with the policy's stages)
    "Closed Won" = "won"
    [files.Opportunity]           # one CRM object: its file, encoding, columns and date formats
    path = "report1700.csv"
    [files.Opportunity.columns]   # the name cosell reads -> the file's header (a report label)
    StageName = "Stage"
    [files.Opportunity.formats]   # the name cosell reads -> a strptime format (default ISO 8601)
    CloseDate = "%m/%d/%y"

Every problem is reported at once, each with its line in the file and its key.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cosell.crm.fields import DECLARED_FIELDS, HUBSPOT_OBJECT, SALESFORCE_OBJECT, is_result_field
from cosell.crm.sources import ENCODINGS
from cosell.crm.values import check_format
from cosell.errors import CosellError
from cosell.store.schema import (
    CRM_FIELDS,
    LEAD_SOURCES,
    OPPORTUNITY_TYPES,
    PARTNER_ROLES,
    PARTNER_SOURCES,
    PARTNER_TYPES,
    USER_ROLES,
)
from cosell.toml_text import NotToml, UnreadableFile, read_toml, read_toml_file

CRMS = ("salesforce", "hubspot")
STAGE_CLASSES = ("open", "won", "lost")
DEFAULT_FILE = "(default mapping)"  # the file name of the mapping used without --mapping
OBJECTS: dict[str, tuple[str, ...]] = {
    "salesforce": (
        "Opportunity",
        "OpportunityHistory",
        "OpportunityFieldHistory",
        "OpportunityPartner",
        "Partner",
        "Account",
        "Contact",
        "Lead",
        "Task",
        "Event",
        "User",
        "CurrencyType",
        "DatedConversionRate",
    ),
    "hubspot": (
        "deals",
        "companies",
        "contacts",
        "owners",
        "pipelines",
        "associations",
        "engagements",
        "calls",
        "meetings",
        "emails",
        "notes",
        "tasks",
    ),
}
# Value maps: TOML table -> the values its entries may take.
VALUE_MAPS: dict[str, tuple[str, ...]] = {
    "tiers": PARTNER_SOURCES,
    "stages": STAGE_CLASSES,
    "opportunity_types": OPPORTUNITY_TYPES,
    "lead_sources": LEAD_SOURCES,
    "partner_roles": PARTNER_ROLES,
}
_TOP = {"crm", "encoding", "timezone", "fields", "partners", "users", "activities", "currencies", "files"}
_TOP |= {"accounts", "leads", "ids"}
_TOP |= set(VALUE_MAPS)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class FileSpec:
    """How one CRM object's file reads: its path, encoding, column names and date formats."""

    path: str | None = None
    encoding: str | None = None
    columns: MappingType[str, str] = field(default_factory=dict)
    formats: MappingType[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CrmMapping:
    """A validated mapping file (see the module docstring); ``file`` names it in errors."""

    crm: str
    file: str = DEFAULT_FILE
    text: str = ""
    encoding: str = "utf-8"
    timezone: str = "UTC"
    ids: str = "as_written"
    fields: MappingType[str, str] = field(default_factory=dict)
    fields_if_present: bool = False  # the default mapping's: a mapping file's [fields] must all exist
    values: MappingType[str, MappingType[str, str]] = field(default_factory=dict)
    partner_flag_column: str | None = None
    partner_type_column: str | None = None
    partner_tier_column: str | None = None
    partner_joined_column: str | None = None
    segment_column: str | None = None
    lead_partner_contact_column: str | None = None
    partner_type_default: str = "co_sell"
    partner_types: MappingType[str, str] = field(default_factory=dict)
    role_column: str | None = None
    default_role: str = ""
    user_roles: MappingType[str, str] = field(default_factory=dict)
    kind_column: str | None = None
    kinds: MappingType[str, str] = field(default_factory=dict)
    partner_column: str | None = None
    default_currency: str = ""
    currency_codes: MappingType[str, str] = field(default_factory=dict)
    files: MappingType[str, FileSpec] = field(default_factory=dict)

    def spec(self, obj: str) -> FileSpec:
        return self.files.get(obj, FileSpec())

    def value_map(self, name: str) -> MappingType[str, str]:
        return self.values.get(name, {})

    @property
    def is_default(self) -> bool:  # the mapping used without --mapping
        return self.file == DEFAULT_FILE

    def where(self, *path: str) -> str:
        """``file line N, key`` for a key of this mapping (the line when it can be found)."""
        line = line_of(self.text, path) if self.text else None
        at = f"{self.file} line {line}" if line else self.file
        return f"{at}, {_dotted(path)}"


class MappingInvalid(CosellError):
    """The mapping file has problems; each names its line and key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def _dotted(path: tuple[str, ...] | list[str]) -> str:
    return ".".join(p if re.fullmatch(r"[A-Za-z0-9_-]+", p) else f'"{p}"' for p in path)


def line_of(text: str, path: tuple[str, ...] | list[str]) -> int | None:
    """The line of a key in TOML text: the table header of ``path[:-1]`` and then the key."""
    *table, key = path
    want_table = list(table)
    current: list[str] = []
    header = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$")
    for number, line in enumerate(text.splitlines(), start=1):
        m = header.match(line)
        if m:
            current = _split_key(m.group(1))
            if current == list(path):
                return number
            continue
        if current == want_table:
            k = line.split("=", 1)[0].strip() if "=" in line else None
            if k is not None and _split_key(k) == [key]:
                return number
    return None


def _split_key(text: str) -> list[str]:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([^.\s]+)', text)
    return [a or b or c for a, b, c in parts]


def load_mapping(path: str | Path, crm: str) -> CrmMapping:
    """Read and validate the mapping file at ``path`` for ``crm`` (salesforce or hubspot)."""
    file = str(path)
    try:
        text = read_toml_file(path, "a mapping")
    except UnreadableFile as exc:
        raise MappingInvalid([f"{file}: {exc}"]) from None
    return parse_mapping(text, crm, file)


def default_mapping(crm: str) -> CrmMapping:
    """The mapping used without a mapping file: every name and format the CRM's own, and the five
    declared fields under the names ``cosell blueprint`` installs, read where the deal file has them."""
    blueprint = {f.key: f.name_in(crm) for f in DECLARED_FIELDS}
    return CrmMapping(crm=crm, fields=blueprint, fields_if_present=True)


def parse_mapping(text: str, crm: str, file: str = "mapping.toml") -> CrmMapping:
    """Validate mapping TOML text; every problem at once in :class:`MappingInvalid`."""
    try:
        data = read_toml(text)
    except NotToml as exc:
        raise MappingInvalid([f"{file}: {exc}"]) from None
    checker = _Checker(text, file)
    result = checker.mapping(data, crm)
    if checker.problems:
        raise MappingInvalid(checker.problems)
    return result


class _Checker:
    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self._problems: list[tuple[int, str]] = []

    @property
    def problems(self) -> list[str]:
        """The problems in the order of their lines (those without a line first)."""
        return [text for _, text in sorted(self._problems, key=lambda p: p[0])]

    def fail(self, path: list[str], reason: str) -> None:
        line = line_of(self.text, path)
        at = f"{self.file} line {line}" if line else self.file
        self._problems.append((line or 0, f"{at}, {_dotted(path)}: {reason}"))

    def text_value(
        self, data: MappingType[str, Any], path: list[str], default: str | None = None
    ) -> str | None:
        value = data.get(path[-1], default)
        if value is None or isinstance(value, str):
            return value
        self.fail(path, f"must be text, not {type(value).__name__}")
        return default

    def table(self, data: MappingType[str, Any], path: list[str]) -> dict[str, Any]:
        value = data.get(path[-1], {})
        if isinstance(value, dict):
            return value
        self.fail(path, "must be a table")
        return {}

    def text_map(
        self, data: dict[str, Any], path: list[str], allowed: tuple[str, ...] = ()
    ) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in data.items():
            where = [*path, key]
            if not isinstance(value, str):
                self.fail(where, f"must be text, not {type(value).__name__}")
            elif allowed and value not in allowed:
                self.fail(where, f'"{value}" is not one of {", ".join(allowed)}')
            else:
                out[key] = value
        return out

    def unknown(self, data: MappingType[str, Any], known: set[str], path: list[str]) -> None:
        for key in sorted(set(data) - known):
            self.fail([*path, key], f"unknown key (known: {', '.join(sorted(known))})")

    def mapping(self, data: dict[str, Any], crm: str) -> CrmMapping:
        self.unknown(data, _TOP, [])
        declared = self.text_value(data, ["crm"], crm)
        if declared != crm:
            self.fail(["crm"], f'this mapping is for "{declared}", not {crm}')
        encoding = self.text_value(data, ["encoding"], "utf-8") or "utf-8"
        if encoding not in ENCODINGS:
            self.fail(["encoding"], f'"{encoding}" is not one of {", ".join(ENCODINGS)}')
        zone = self.text_value(data, ["timezone"], "UTC") or "UTC"
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.fail(["timezone"], f'"{zone}" is not a time zone name (like UTC or America/New_York)')
        ids = self.text_value(data, ["ids"], "as_written") or "as_written"
        if ids not in ("as_written", "18"):
            self.fail(["ids"], f'"{ids}" is not "as_written" or "18"')
        fields = self.text_map(self.table(data, ["fields"]), ["fields"])
        for key in fields:
            if key not in CRM_FIELDS:
                self.fail(["fields", key], f"is not one of the five fields ({', '.join(CRM_FIELDS)})")
        self.not_cosells_own(crm, fields, ["fields"])
        values = {
            name: self.text_map(self.table(data, [name]), [name], allowed)
            for name, allowed in VALUE_MAPS.items()
        }
        partners = self.table(data, ["partners"])
        known = {"flag_column", "type_column", "tier_column", "joined_column", "default_type", "types"}
        self.unknown(partners, known, ["partners"])
        accounts = self.table(data, ["accounts"])
        self.unknown(accounts, {"segment_column"}, ["accounts"])
        leads = self.table(data, ["leads"])
        self.unknown(leads, {"partner_contact_column"}, ["leads"])
        default_type = self.text_value(partners, ["partners", "default_type"], "co_sell") or ""
        if default_type not in PARTNER_TYPES:
            self.fail(
                ["partners", "default_type"], f'"{default_type}" is not one of {", ".join(PARTNER_TYPES)}'
            )
        users = self.table(data, ["users"])
        self.unknown(users, {"role_column", "default_role", "roles"}, ["users"])
        default_role = self.text_value(users, ["users", "default_role"], "") or ""
        if default_role and default_role not in USER_ROLES:
            self.fail(["users", "default_role"], f'"{default_role}" is not one of {", ".join(USER_ROLES)}')
        activities = self.table(data, ["activities"])
        self.unknown(activities, {"kind_column", "partner_column", "kinds"}, ["activities"])
        currencies = self.table(data, ["currencies"])
        self.unknown(currencies, {"default", "codes"}, ["currencies"])
        default_currency = self.text_value(currencies, ["currencies", "default"], "") or ""
        codes = self.text_map(self.table(currencies, ["currencies", "codes"]), ["currencies", "codes"])
        for key, code in [("default", default_currency)] if default_currency else []:
            if not _CURRENCY.match(code):
                self.fail(["currencies", key], f'"{code}" is not an ISO 4217 code (like USD)')
        for key, code in codes.items():
            if not _CURRENCY.match(code):
                self.fail(["currencies", "codes", key], f'"{code}" is not an ISO 4217 code (like USD)')
        return CrmMapping(
            crm=crm,
            file=self.file,
            text=self.text,
            encoding=encoding,
            timezone=zone,
            ids=ids,
            fields=fields,
            values=values,
            partner_flag_column=self.text_value(partners, ["partners", "flag_column"]),
            partner_type_column=self.text_value(partners, ["partners", "type_column"]),
            partner_tier_column=self.text_value(partners, ["partners", "tier_column"]),
            partner_joined_column=self.text_value(partners, ["partners", "joined_column"]),
            segment_column=self.text_value(accounts, ["accounts", "segment_column"]),
            lead_partner_contact_column=self.text_value(leads, ["leads", "partner_contact_column"]),
            partner_type_default=default_type,
            partner_types=self.text_map(
                self.table(partners, ["partners", "types"]), ["partners", "types"], PARTNER_TYPES
            ),
            role_column=self.text_value(users, ["users", "role_column"]),
            default_role=default_role,
            user_roles=self.text_map(self.table(users, ["users", "roles"]), ["users", "roles"], USER_ROLES),
            kind_column=self.text_value(activities, ["activities", "kind_column"]),
            partner_column=self.text_value(activities, ["activities", "partner_column"]),
            kinds=self.text_map(self.table(activities, ["activities", "kinds"]), ["activities", "kinds"]),
            default_currency=default_currency,
            currency_codes=codes,
            files=self.files(self.table(data, ["files"]), crm),
        )

    def not_cosells_own(self, crm: str, columns: MappingType[str, str], path: list[str]) -> None:
        # cosell's result fields are the write-back's: read as a rep's declaration, they would feed
        # cosell's output back as its input and a re-import after a write-back would change deals.
        for key, column in columns.items():
            if is_result_field(crm, column):
                self.fail(
                    [*path, key],
                    f'"{column}" is cosell\'s own field (`cosell writeback` fills it), not one a rep '
                    "fills in: name the CRM field that holds what the rep declared",
                )

    def files(self, data: dict[str, Any], crm: str) -> dict[str, FileSpec]:
        specs: dict[str, FileSpec] = {}
        for obj, raw in data.items():
            path = ["files", obj]
            if obj not in OBJECTS.get(crm, ()):
                self.fail(
                    path, f"is not an object cosell reads from {crm} ({', '.join(OBJECTS.get(crm, ()))})"
                )
                continue
            if not isinstance(raw, dict):
                self.fail(path, "must be a table")
                continue
            self.unknown(raw, {"path", "encoding", "columns", "formats"}, path)
            encoding = self.text_value(raw, [*path, "encoding"])
            if encoding is not None and encoding not in ENCODINGS:
                self.fail([*path, "encoding"], f'"{encoding}" is not one of {", ".join(ENCODINGS)}')
            columns = self.text_map(self.table(raw, [*path, "columns"]), [*path, "columns"])
            if obj in (SALESFORCE_OBJECT, HUBSPOT_OBJECT):
                self.not_cosells_own(crm, columns, [*path, "columns"])
            formats = self.text_map(self.table(raw, [*path, "formats"]), [*path, "formats"])
            for column, fmt in formats.items():
                reason = check_format(fmt) if fmt.lower() != "iso" else None
                if reason:
                    self.fail([*path, "formats", column], f'"{fmt}" {reason}')
            specs[obj] = FileSpec(
                path=self.text_value(raw, [*path, "path"]),
                encoding=encoding,
                columns=columns,
                formats={c: f for c, f in formats.items() if f.lower() != "iso"},
            )
        return specs
