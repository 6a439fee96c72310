"""The Salesforce translation in the engine: the export's files read by the engine and translated in
SQL into the canonical tables the first import reads (issue 14: a million opportunities and twenty
million activities are too many rows to translate one by one in Python).

:mod:`cosell.crm.salesforce` is the reference: it reads every row in Python and names every
problem. This module is the same translation as relational steps, for the export it can take
whole, and it is held to the reference by tests/crm/test_salesforce_sql.py (the same tables, row
for row and in the same order, the same skips, warnings and counts). It never reports a problem
itself: it answers None, and the reference runs, whenever

- the export is a zip (only a folder's files are read by the engine where they are), a file is not
  UTF-8, the mapping reads 18-character ids or names a date format, or there is no User file;
- the reference would find a problem: a missing column, a stage the policy classes otherwise (the
  reference's own checks, run over the headers only), or any cell it would refuse (an unmapped
  picklist value or activity type, a checkbox or a date it cannot read): a statement per file
  looks for them before anything is imported, and the activity rows stop the import at one;
- the engine cannot read a file as the reference reads it (its shape, an invalid byte).

Row numbers are the reference's: a file's records in order from row 2 (a staged file's are its
table's row ids, its records read on every thread in the file's order; an activity file's are
``row_number() OVER ()`` over the engine's reader, which keeps the file's order). The large
activity files are never held as a table of their own: they are read into the touches table on
every thread, in any order; a warning's first row is found from its touches' places in the files
(:class:`cosell.crm.activity_files.Activities`: a numbered scan of the ids, kept for the warned
touches only), and the files are read again only when some rows were left out, to count them by
reason.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cosell.crm import salesforce, salesforce_activity, values
from cosell.crm.activity_files import (
    PROBLEM_MARK,
    Activities,
    NotInEngine,
    Stream,
    records_at_most,
    streamed_origin,
)
from cosell.crm.canonical import BESIDE, REQUIRED_TABLES, Skipped, Translation
from cosell.crm.mapping import VALUE_MAPS, CrmMapping
from cosell.crm.objects import ObjectFile, open_object
from cosell.crm.org import Org, domain_of
from cosell.crm.sources import Export, SourceFile, Table, read_header
from cosell.data.read import TableFile, csv_relation
from cosell.data.validate import typed_instant
from cosell.engine import Engine, EngineError
from cosell.engine.sql import in_list, lit
from cosell.errors import CosellError
from cosell.instants import ISO_PATTERN
from cosell.policy import Policy
from cosell.profiling import timed
from cosell.store.schema import TABLES_BY_NAME
from cosell.store.staging import text_table

__all__ = ["EngineTranslation", "NotInEngine", "translate_in_engine"]

_P = "_cosell_sf_"
# What Python's str.strip() removes (tests/crm/test_salesforce_sql.py checks the list).
SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
SPACES += "\u2028\u2029\u202f\u205f\u3000"
_OBJECTS = (
    "Account", "User", "Contact", "Lead", "Opportunity", "OpportunityHistory", "OpportunityFieldHistory",
    "OpportunityPartner", "Partner", "Task", "Event",
)  # fmt: skip
_STREAMED = ("Task", "Event")  # read where they are, never staged: the export's largest files
_LOOKUPS = ("partner_id", "partner_contact_id")
_EMPTY = "''"


@dataclass
class EngineTranslation:
    """The export translated in the engine: the canonical tables as translated files for the first
    import, and what the report says of them (their export files, the rows left out, where a
    canonical row came from). :meth:`drop` removes what it left in the engine."""

    con: Engine
    files: dict[str, TableFile]
    _skipped: list[Skipped]
    _sources: dict[str, list[str]]
    _columns: Translation
    _origins: dict[str, list[Callable[[int], tuple[str, int] | None]]] = field(default_factory=dict)
    _temp: list[str] = field(default_factory=list)
    _activities: Activities | None = None
    _views: list[str] = field(default_factory=list)
    _carefully: Callable[[], bool] | None = None

    def read_carefully(self) -> bool:
        """After a first import of this translation that did not apply: whether the touches read
        some activity cell as it is that has something to strip (:meth:`_Build._touches`: the
        import then refuses it); if so the touches are read again with every cell stripped, for
        the import to be tried once more, and True. False when the import refused something
        else (or was tried carefully already): the reference then runs."""
        again, self._carefully = self._carefully, None
        return again is not None and again()

    @property
    def skipped(self) -> tuple[Skipped, ...]:
        """The export rows left out on purpose, by file and reason."""
        return tuple(sorted(self._skipped, key=lambda s: (s.file, s.reason)))

    def settle(self) -> None:
        """Within the import, once the touches are in: count the activity rows left out, and where
        each touch came from. Raises :class:`NotInEngine` when the reference would leave the
        touches out altogether (every activity left out)."""
        activities = self._activities
        if activities is None or not activities.streams:
            return
        tally = activities.tally()
        self._skipped.extend(tally.skipped)
        before, origins, files = 0, [], []
        for stream, count, rows in zip(activities.streams, tally.kept, tally.left_out, strict=True):
            if count:
                origins.append(streamed_origin(stream.file, before, count, rows))
                files.append(stream.file)
            before += count
        self._origins["touches"], self._sources["touches"] = origins, files

    def sources(self, table: str) -> str:
        """The export files a table's rows came from, in order (``Task.csv+Event.csv``)."""
        return "+".join(self._sources.get(table, []))

    def locate_row(self, file: str, row: int, column: str | None) -> tuple[str, int, str | None]:
        """(file, row, column) in the export of a canonical file's row and column."""
        table = file.removesuffix(".csv")
        for origin in self._origins.get(table, []):
            found = origin(row - 2)
            if found is not None:
                return found[0], found[1], self._columns.column_in(table, found[0], column)
        return file, row, column

    def drop(self) -> None:
        if self._activities is not None:
            self._activities.drop()
        for name in reversed(self._views):
            self.con.execute(f"DROP VIEW IF EXISTS {name}")
        for name in reversed(self._temp):
            self.con.execute(f"DROP TABLE IF EXISTS {name}")
        self.con.execute(f"DROP MACRO IF EXISTS {_P}t")
        self.con.execute(f"DROP MACRO IF EXISTS {_P}ref")
        self.con.execute(f"DROP MACRO IF EXISTS {_P}flag")
        self.con.execute(f"DROP MACRO IF EXISTS {_P}plain")


def translate_in_engine(
    con: Engine, export: Export, mapping: CrmMapping, policy: Policy
) -> EngineTranslation | None:
    """The export translated by ``con`` into translated files for
    :func:`cosell.data.fast_load.import_first`, or None (nothing left behind) when the
    reference translation must run instead (see the module docstring). The caller drops it."""
    if not export.path.is_dir() or mapping.ids == "18":
        return None
    header = functools.cache(read_header)  # each file's header is read once, here and by _Build
    try:
        headers = salesforce.translate(export, mapping, policy, read=header)
    except CosellError:
        return None
    if headers.problems:
        return None
    out = _Build(con, export, mapping, policy, headers, header)
    try:
        return out.run()
    except (NotInEngine, EngineError):
        out.drop()
        return None


class _Build:
    """One translation in the engine, step by step (each step a few statements)."""

    def __init__(
        self,
        con: Engine,
        export: Export,
        mapping: CrmMapping,
        policy: Policy,
        headers: Translation,
        header: Callable[[SourceFile, str], Table],
    ):
        self.con, self.export, self.mapping, self.policy = con, export, mapping, policy
        self.headers, self.header = headers, header
        self.temp: list[str] = []
        self.views: list[str] = []  # the staged files, each a view of its table numbered
        self.files: dict[str, TableFile] = {}
        self.sources: dict[str, list[str]] = {}
        self.skipped: list[Skipped] = []
        self.origins: dict[str, list[Callable[[int], tuple[str, int] | None]]] = {}
        self.objects: dict[str, ObjectFile] = {}
        self.activities = Activities(con)
        self.stripped: set[str] = set()  # objects staged with their cells stripped
        self.most: dict[str, Future[int]] = {}  # each activity file's records at most
        self.domains: Future[Any] | None = None  # each account website's domain (an Arrow table)
        self.careful = False  # every activity cell stripped, not read as it is (_touches)
        self.as_read: list[str] = []  # per activity file, its rows with a cell read as it is to strip
        # What the steps' column lookups found wrong (a column read that a header has twice): the
        # header-only translation finds it first; should a step read a column it does not, the
        # reference still runs.
        self.looked_up = Translation()

    def drop(self) -> None:
        self.result().drop()

    def result(self) -> EngineTranslation:
        return EngineTranslation(
            self.con,
            self.files,
            self.skipped,
            self.sources,
            self.headers,
            self.origins,
            self.temp,
            self.activities,
            self.views,
            self._read_carefully,
        )

    # -- reading ------------------------------------------------------------------------------

    def run(self) -> EngineTranslation:
        self._open()
        # The mapping's value maps handed to the engine as Arrow, the activity files' records
        # bounded in their bytes and the accounts' websites read as domains: Python, in a thread,
        # while the engine stages the files.
        with ThreadPoolExecutor(max_workers=1) as pool:
            maps = pool.submit(text_table, ("m", "k", "v"), self._maps())
            self.most = {
                name: pool.submit(records_at_most, self._path(self.objects[name]))
                for name in _STREAMED
                if name in self.objects
            }
            self._macros()
            for name in _OBJECTS:
                if name in self.objects and name not in _STREAMED:
                    with timed(f"salesforce stage {name}"):
                        self._stage(name)
                if name == "Account":
                    self.domains = pool.submit(_domains, self._websites())
            self._arrow("x_maps", maps.result())
            steps = (
                self._ids, self._accounts, self._users, self._partner_contacts, self._leads, self._opportunities,
                self._stage_history, self._field_history, self._opportunity_partners, self._touches,
                self._fx_rates, self._beside,
            )  # fmt: skip
            for step in steps:
                with timed(f"salesforce {step.__name__.strip('_')}"):
                    step()
        if self.looked_up.problems:
            raise NotInEngine
        self._release()
        return self.result()

    def _release(self) -> None:
        """Drop what the first import does not read (the staged files, the steps' own tables):
        the canonical tables and the activities' lookups stay, and the import of the activities
        has the memory the rest held."""
        read = {f"{_P}{name}" for name in ("x_maps", "x_id_account", "x_id_what", "x_id_who")}
        for name in reversed(self.views):
            self.con.execute(f"DROP VIEW IF EXISTS {name}")
        self.views.clear()
        for name in [t for t in self.temp if t not in read and not t.startswith(f"{_P}out_")]:
            self.con.execute(f"DROP TABLE IF EXISTS {name}")
            self.temp.remove(name)

    def _open(self) -> None:
        for name in _OBJECTS:
            f = open_object(
                self.export,
                name,
                self.mapping,
                salesforce.LABELS.get(name, {}),
                self.looked_up,
                read=self.header,
            )
            if f is None:
                continue
            encoding = f.spec.encoding or self.mapping.encoding
            if not encoding.startswith("utf-8") or f.spec.formats:
                raise NotInEngine
            self.objects[name] = f
        if "User" not in self.objects or "Opportunity" not in self.objects or "Account" not in self.objects:
            raise NotInEngine

    def _path(self, f: ObjectFile) -> Path:
        source = self.export.find(f.spec.path or f"{f.obj}.csv")
        if source is None or source.member is not None:
            raise NotInEngine
        return source.path

    def _read(self, f: ObjectFile, columns: str = "*") -> str:
        """The file's records as text (``columns`` of them: a window keeps every column it is
        given), each with its row number ``_row`` (from 2)."""
        return f"(SELECT row_number() OVER () + 1 AS _row, {columns} FROM {self._reader(f)})"

    def _reader(self, f: ObjectFile) -> str:
        """The file's records as text, columns ``c0, c1, ...``, read as the canonical import reads
        a CSV file."""
        return csv_relation(TableFile(f.obj, self._path(f), "csv"), f.table.header)

    def _stage(self, name: str) -> None:
        """Stage a file with its cells stripped once (each is read by several statements), as
        the view ``name`` of its records with their row numbers ``_row`` (from 2).

        The records are read on every thread into a fresh table in the file's order (as the
        first import stages a file: :mod:`cosell.data.read`), whose ``rowid`` then counts them
        from its first: numbering them with ``row_number() OVER ()`` as they are read runs on one
        thread (docs/benchmarks.md). A field history's rows have their field's name ``_name`` too
        (:meth:`_field_name`: read by every statement of theirs, not made a table of its own)."""
        f = self.objects[name]
        cells = [f"{_P}t(c{i}) AS c{i}" for i in range(len(f.table.header))]
        if name == "OpportunityFieldHistory":
            cells.append(f"{self._field_name(f)} AS _name")
        table = self._table(f"{name}_cells", f"SELECT {', '.join(cells)} FROM {self._reader(f)}")
        # (0 once committed; a large base within an open transaction)
        first = int(self.con.execute(f"SELECT coalesce(min(rowid), 0) FROM {table}").fetchall()[0][0])
        view = _P + name
        self.views.append(view)
        self.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT rowid - {first} + 2 AS _row, * FROM {table}"
        )
        self.stripped.add(name)

    def _table(self, name: str, select: str) -> str:
        table = _P + name
        self.temp.append(table)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select}")
        return table

    def _macros(self) -> None:
        # Python's strip(): a cell that starts and ends with a printable ASCII character is as it
        # is (nearly every cell, and ten times cheaper to test than to trim by a set of characters).
        # (Compared as bytes: a first byte from ! to ~, a last character from ! to ~.)
        plain = "x >= '!' AND x < chr(127) AND x[-1] BETWEEN '!' AND '~'"
        stripped = f"trim(x, {lit(SPACES)})"
        self.con.execute(
            f"CREATE OR REPLACE TEMP MACRO {_P}t(x) AS "
            f"CASE WHEN x IS NULL OR x = '' THEN '' WHEN {plain} THEN x ELSE {stripped} END"
        )
        # A lookup id (the cell is trimmed only when it must be).
        self.con.execute(
            f"CREATE OR REPLACE TEMP MACRO {_P}ref(x) AS "
            f"CASE WHEN x IS NULL OR x = '' THEN '' WHEN {plain} THEN {_lookup('x')} ELSE {_lookup(stripped)} END"
        )
        self.con.execute(f"CREATE OR REPLACE TEMP MACRO {_P}flag(x) AS {_checkbox(f'{_P}t(x)')}")
        self.con.execute(f"CREATE OR REPLACE TEMP MACRO {_P}plain(x) AS {plain}")

    def _maps(self) -> list[tuple[str, str, str]]:
        """The mapping's value maps as the rows of one table (``m``: which map, ``k``: the
        export's value, ``v``: the value it maps to)."""
        m = self.mapping
        rows: list[tuple[str, str, str]] = []
        maps: dict[str, Mapping[str, str]] = {name: m.value_map(name) for name in VALUE_MAPS}
        maps |= {
            "kinds": m.kinds,
            # (the kinds a cell read as it is may match: a key with something to strip matches
            # no stripped cell)
            "kinds_as_read": {k: v for k, v in m.kinds.items() if k == k.strip()},
            "currencies": m.currency_codes,
            "roles": m.user_roles,
            "types": m.partner_types,
        }
        for name, entries in maps.items():
            rows.extend((name, k, v) for k, v in entries.items())
        return rows

    def _rows(self, name: str, columns: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
        """A table of text ``rows`` handed from Python (in one batch, not a statement per row)."""
        return self._arrow(name, text_table(columns, rows))

    def _arrow(self, name: str, data: Any) -> str:
        """A table of the Arrow table ``data`` (:func:`cosell.store.staging.text_table`)."""
        self.con.register(_P + "arrow_in", data)
        try:
            return self._table(name, f"SELECT * FROM {_P}arrow_in")
        finally:
            self.con.unregister(_P + "arrow_in")

    # -- cells --------------------------------------------------------------------------------

    def col(self, f: ObjectFile, name: str | None) -> str | None:
        i = f.index(name) if name else None
        return None if i is None else f"c{i}"

    def text(self, f: ObjectFile, name: str | None) -> str:
        c = self.col(f, name)
        return "''" if c is None else c if f.obj in self.stripped else f"{_P}t({c})"

    def ref(self, f: ObjectFile, name: str | None) -> str:
        c = self.col(f, name)
        return "''" if c is None else _lookup(c) if f.obj in self.stripped else f"{_P}ref({c})"

    def flag(self, f: ObjectFile, name: str) -> tuple[str, str]:
        """(is set, is refused) of a checkbox; a file without the column has it unset."""
        c = self.col(f, name)
        if c is None:
            return "false", "false"
        value = _checkbox(c) if f.obj in self.stripped else f"{_P}flag({c})"
        return f"coalesce({value}, false)", f"({value} IS NULL)"

    def when(self, f: ObjectFile, name: str | None) -> tuple[str, str]:
        """(text, is refused) of a date or time read as ISO 8601 (no format: the engine's
        translation applies only then)."""
        t = self.text(f, name)
        return t, f"({t} <> '' AND NOT regexp_full_match({t}, {lit(ISO_PATTERN)}))"

    def instant(self, f: ObjectFile, name: str | None) -> str:
        """The text of a date or time that goes as it is into an instant column of every row it
        is read for (a lead's, a deal's, a field change's, a deal partner's), so not tested here:
        the first import refuses a row whose instant is not ISO 8601 by the reference's own
        pattern (:func:`cosell.data.validate.bad_row_condition`), and the reference then runs and
        names it, as when the translation refuses it (a regular expression on each of millions
        of cells, once here and once there, was the translation's dearest test)."""
        return self.text(f, name)

    def full_name(self, f: ObjectFile) -> str:
        """``Name``, else ``FirstName`` and ``LastName`` joined by a space (a User or Contact)."""
        first, last = self.text(f, "FirstName"), self.text(f, "LastName")
        name = self.text(f, "Name")
        return f"CASE WHEN {name} <> '' THEN {name} ELSE concat_ws(' ', nullif({first}, ''), nullif({last}, '')) END"

    def value(self, table: str, expr: str, alias: str, *, keep: bool = False) -> tuple[str, str, str]:
        """(join, value, is refused) of ``expr`` through the mapping's ``[table]`` (the reference's
        :func:`cosell.crm.stages.value_of`)."""
        join = f"LEFT JOIN {_P}x_maps {alias} ON {alias}.m = {lit(table)} AND {alias}.k = {expr}"
        entries = self.mapping.value_map(table)
        if keep:
            refused = f"({alias}.k IS NULL AND {expr} <> '')" if entries else "false"
            return join, expr, refused
        allowed = in_list(list(VALUE_MAPS[table]))
        value = (
            f"CASE WHEN {alias}.k IS NOT NULL THEN {alias}.v WHEN {expr} = '' THEN '' "
            f"WHEN lower({expr}) IN {allowed} THEN lower({expr}) END"
        )
        return join, value, f"({value} IS NULL)"

    # -- checks -------------------------------------------------------------------------------

    def _refuse_if(self, table: str, condition: str, joins: str = "") -> None:
        found = self.con.execute(f"SELECT 1 FROM {table} s {joins} WHERE {condition} LIMIT 1").fetchall()
        if found:
            raise NotInEngine

    def _deleted_skips(self, f: ObjectFile, table: str, where: str = "true") -> str:
        """Count the deleted rows of ``table`` (matching ``where``) as left out; the condition
        that keeps the others."""
        deleted, bad = self.flag(f, "IsDeleted")
        self._refuse_if(table, f"({where}) AND {bad}")
        self._skip(f, table, f"({where}) AND {deleted}", "IsDeleted is set")
        return f"NOT {deleted}"

    def _skip(self, f: ObjectFile, table: str, condition: str, reason: str, joins: str = "") -> None:
        row = self.con.execute(
            f"SELECT count(*), min(s._row) FROM {table} s {joins} WHERE {condition}"
        ).fetchall()
        if row and row[0][0]:
            self.skipped.append(Skipped(f.file, int(row[0][0]), reason, int(row[0][1])))

    # -- what the translation knows across objects ---------------------------------------------

    def _ids(self) -> None:
        """The ids the objects share: accounts (not deleted), partners (flagged or named), each
        deal's, contact's and converted lead's account (the last row of an id wins, as in the
        reference's dictionaries), and the accounts a deal or lead is on."""
        o = self.objects
        a, opp, user = o["Account"], o["Opportunity"], o["User"]
        keep_a = f"NOT {self.flag(a, 'IsDeleted')[0]}"
        flagged = self.flag(a, self.mapping.partner_flag_column or "IsPartner")[0]
        named = [
            f"SELECT {self.ref(opp, self.mapping.fields.get('partner_id'))} AS id FROM {_P}Opportunity "
            f"WHERE NOT {self.flag(opp, 'IsDeleted')[0]}"
            if "partner_id" in self._declared()
            else None,
            f"SELECT {self.ref(user, 'AccountId')} FROM {_P}User "
            f"WHERE {self.text(user, 'UserType')} IN {in_list(sorted(salesforce.PARTNER_USER_TYPES))}",
        ]
        if "Lead" in o:
            lead = o["Lead"]
            named.append(
                f"SELECT {self.ref(lead, 'PartnerAccountId')} FROM {_P}Lead WHERE NOT {self.flag(lead, 'IsDeleted')[0]}"
            )
        named.extend(self._opportunity_partner_ids())
        unions = " UNION ALL ".join(f"({q})" for q in named if q)
        self._table(
            "x_partner",
            f"SELECT DISTINCT id FROM (SELECT {self.ref(a, 'Id')} AS id FROM {_P}Account WHERE {keep_a} AND {flagged} "
            f"UNION ALL {unions}) WHERE id <> ''",
        )
        self._table("x_account", f"SELECT DISTINCT {self.ref(a, 'Id')} AS id FROM {_P}Account WHERE {keep_a}")
        deals = (
            f"SELECT {self.ref(opp, 'Id')} AS id, arg_max({self.ref(opp, 'AccountId')}, _row) AS account "
            f"FROM {_P}Opportunity WHERE NOT {self.flag(opp, 'IsDeleted')[0]} GROUP BY ALL"
        )
        self._table("x_deal", deals)
        customers = [f"SELECT account FROM {_P}x_deal"]
        # The last row of an id wins, as in the reference's dictionaries.
        self._last_account("x_contact", o.get("Contact"), "AccountId", keep_deleted=True)
        self._last_account("x_lead_account", o.get("Lead"), "ConvertedAccountId", keep_deleted=False)
        if "Lead" in o:
            customers.append(f"SELECT account FROM {_P}x_lead_account")
        self._table("x_customer", f"SELECT DISTINCT account AS id FROM ({' UNION ALL '.join(customers)})")
        # One row per id an activity may name, for each of its lookups: is it a customer account
        # (an account, not a partner), a partner, a deal (and its account, when a customer
        # account), a contact's or a converted lead's customer account, a contact of a partner.
        # Each lookup's table is made from the ids that can answer it, not from every id.
        ok = f"(SELECT id FROM {_P}x_account EXCEPT SELECT id FROM {_P}x_partner)"
        self._table("x_ok", ok)
        # (the two sets are distinct and share no id: one row an id)
        self._table(
            "x_id_account",
            f"SELECT id, true AS ok, false AS partner FROM {_P}x_ok "
            f"UNION ALL SELECT id, false, true FROM {_P}x_partner",
        )
        self._table(
            "x_id_what",
            f"""SELECT id, bool_or(ok) AS ok, bool_or(partner) AS partner, bool_or(deal) AS deal,
                max(deal_ok) AS deal_ok
            FROM (
                SELECT id, ok, partner, false AS deal, NULL AS deal_ok FROM {_P}x_id_account
                UNION ALL SELECT d.id, false, false, true, k.id FROM {_P}x_deal d LEFT JOIN {_P}x_ok k ON k.id = d.account
            ) GROUP BY id""",
        )
        self._table(
            "x_id_who",
            f"""SELECT id, max(contact_ok) AS contact_ok, max(lead_ok) AS lead_ok,
                bool_or(contact_partner) AS contact_partner
            FROM (
                SELECT c.id, k.id AS contact_ok, NULL AS lead_ok, p.id IS NOT NULL AS contact_partner
                    FROM {_P}x_contact c LEFT JOIN {_P}x_ok k ON k.id = c.account
                    LEFT JOIN {_P}x_partner p ON p.id = c.account
                UNION ALL SELECT l.id, NULL, k.id, false
                    FROM {_P}x_lead_account l LEFT JOIN {_P}x_ok k ON k.id = l.account
            ) GROUP BY id
            HAVING max(contact_ok) IS NOT NULL OR max(lead_ok) IS NOT NULL OR bool_or(contact_partner)""",
        )

    def _last_account(self, name: str, f: ObjectFile | None, column: str, *, keep_deleted: bool) -> None:
        """Table ``name``: each id of ``f`` with a non-empty ``column`` and that column's value in
        its last row (the reference reads contacts' deleted rows too, leads' not)."""
        if f is None:
            self._table(name, "SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS account WHERE false")
            return
        ident, account = self.ref(f, "Id"), self.ref(f, column)
        kept = "true" if keep_deleted else f"NOT {self.flag(f, 'IsDeleted')[0]}"
        self._table(
            name,
            f"SELECT {ident} AS id, arg_max({account}, _row) AS account FROM {_P}{f.obj} "
            f"WHERE {kept} AND {ident} <> '' AND {account} <> '' GROUP BY ALL",
        )

    def _declared(self) -> dict[str, str]:
        m, f = self.mapping, self.objects["Opportunity"]
        return {n: c for n, c in m.fields.items() if not m.fields_if_present or f.has(c)}

    def _partner_link_rows(self) -> str | None:
        """OpportunityPartner then Partner rows as (src, file, _row, opp, partner, role, ...)."""
        parts = []
        for src, name in enumerate(("OpportunityPartner", "Partner")):
            f = self.objects.get(name)
            if f is None:
                continue
            deleted, bad_deleted = self.flag(f, "IsDeleted")
            primary, bad_primary = self.flag(f, "IsPrimary")
            added = self.instant(f, "CreatedDate")  # (every link kept is imported)
            join, role, bad_role = self.value("partner_roles", self.text(f, "Role"), "r")
            parts.append(
                f"SELECT {src} AS src, {lit(f.file)} AS file, s._row, {self.ref(f, 'OpportunityId')} AS opp, "
                f"{self.ref(f, 'AccountToId')} AS partner, {role} AS role, {deleted} AS deleted, "
                f"{bad_deleted} AS bad_deleted, {primary} AS is_primary, {bad_primary} AS bad_primary, "
                f"{self.col(f, 'IsPrimary') is not None} AS has_primary, {added} AS added, "
                f"{bad_role} AS bad_role FROM {_P}{name} s {join}"
            )
        return " UNION ALL ".join(parts) if parts else None

    def _opportunity_partner_ids(self) -> list[str]:
        rows = self._partner_link_rows()
        if rows is None:
            return []
        self._table(
            "x_links",
            f"""SELECT *, row_number() OVER (PARTITION BY opp, partner, role ORDER BY src, _row) AS nth
            FROM ({rows}) WHERE opp <> '' AND NOT deleted""",
        )
        return [f"SELECT partner FROM {_P}x_links WHERE nth = 1"]

    # -- the canonical tables -----------------------------------------------------------------

    def _emit(
        self,
        table: str,
        parts: Iterable[tuple[str, str]],
        order: str = "_row",
        *,
        stripped: Iterable[str] = (),
    ) -> None:
        """A canonical table from ``parts`` (export file, SELECT of the table's columns by name
        plus ``_row``), kept in the reference's order; empty optional tables are left out.
        ``stripped``: the columns whose every cell is an export's cell stripped, a lookup's id
        or a constant without spaces (not a mapping's value): the import reads them as they are
        (:attr:`cosell.data.read.TableFile.stripped`), and trims the others."""
        columns = TABLES_BY_NAME[table].column_names
        parts = list(parts)
        if not parts:
            return
        selects = [
            f"SELECT {i} AS _part, {lit(file)} AS _file, * FROM ({select})"
            for i, (file, select) in enumerate(parts)
        ]
        made = self._table(
            "out_" + table,
            f"SELECT _file, _row, {', '.join(f'{c} AS c{i}' for i, c in enumerate(columns))} "
            f"FROM ({' UNION ALL '.join(selects)}) ORDER BY _part, {order}",
        )
        self._add(table, made, columns, frozenset(stripped))

    def _add(
        self, table: str, made: str, columns: tuple[str, ...], stripped: frozenset[str] = frozenset()
    ) -> None:
        counts = self.con.execute(
            f"SELECT _file, count(*), min(rowid) FROM {made} GROUP BY _file ORDER BY 3"
        ).fetchall()
        if not counts and table not in REQUIRED_TABLES:
            return
        self.sources[table] = [str(r[0]) for r in counts]
        cells = ", ".join(f"nullif(c{i}, '') AS c{i}" for i in range(len(columns)))
        relation = f"(SELECT {cells} FROM {made} ORDER BY rowid)"
        self.files[table] = TableFile(
            table, Path(f"{table}.csv"), "relation", relation, columns, stripped=stripped
        )
        self.origins[table] = [self._origin_of(made)]

    def _origin_of(self, made: str) -> Callable[[int], tuple[str, int] | None]:
        def origin(index: int) -> tuple[str, int] | None:
            found = self.con.execute(f"SELECT _file, _row FROM {made} WHERE rowid = ?", [index]).fetchall()
            return (str(found[0][0]), int(found[0][1])) if found else None

        return origin

    def _accounts(self) -> None:
        a, m = self.objects["Account"], self.mapping
        keep = self._deleted_skips(a, f"{_P}Account")
        _, bad_partner = self.flag(a, m.partner_flag_column or "IsPartner")
        joined, bad_joined = self.when(a, m.partner_joined_column)
        self._refuse_if(f"{_P}Account", f"{keep} AND ({bad_partner} OR {bad_joined})")
        website = self.text(a, "Website")
        assert self.domains is not None  # (read once the accounts were staged)
        domains = self._arrow("x_domain", self.domains.result())
        rows = f"""SELECT s._row, {self.ref(a, "Id")} AS id, {self.text(a, "Name")} AS name,
            coalesce(d.domain, '') AS domain,
            {self.text(a, m.segment_column) if m.segment_column else "''"} AS segment,
            {self.text(a, "Industry")} AS industry, {self.text(a, "BillingCountry")} AS country,
            {self.ref(a, "OwnerId")} AS owner_id, {self.text(a, m.partner_type_column or "Type")} AS _type,
            {self.text(a, m.partner_tier_column) if m.partner_tier_column else "''"} AS program_tier,
            {joined} AS joined_at
            FROM {_P}Account s LEFT JOIN {domains} d ON d.site = {website} WHERE {keep}"""
        self._emit(
            "partners",
            [(a.file, f"""SELECT r._row, r.id AS partner_id, r.name, r.domain,
                CASE WHEN t.k IS NOT NULL THEN t.v ELSE {lit(m.partner_type_default)} END AS partner_type,
                r.program_tier, r.joined_at
                FROM ({rows}) r LEFT JOIN {_P}x_maps t ON t.m = 'types' AND t.k = r._type
                WHERE r.id IN (SELECT id FROM {_P}x_partner)""")],
        )  # fmt: skip
        self._emit(
            "accounts",
            [(a.file, f"""SELECT _row, id AS account_id, name, domain, segment, industry, country, owner_id
                FROM ({rows}) WHERE id NOT IN (SELECT id FROM {_P}x_partner) OR id IN (SELECT id FROM {_P}x_customer)""")],
        )  # fmt: skip

    def _websites(self) -> list[str]:
        """The accounts' websites, each once (their domains are read in Python)."""
        website = self.text(self.objects["Account"], "Website")
        sites = self.con.execute(f"SELECT DISTINCT {website} FROM {_P}Account WHERE {website} <> ''")
        return [str(site) for (site,) in sites.fetchall()]

    def _users(self) -> None:
        u, m = self.objects["User"], self.mapping
        uid = self.ref(u, "Id")
        name = self.full_name(u)
        by_column = "r3.v" if m.role_column else "NULL"
        mapped = f"coalesce(nullif(r1.v, ''), nullif(r2.v, ''), {by_column})"
        partner_user = f"{self.text(u, 'UserType')} IN {in_list(sorted(salesforce.PARTNER_USER_TYPES))}"
        self._emit(
            "users",
            [(u.file, f"""SELECT s._row, {uid} AS user_id, {name} AS name, {self.text(u, 'Email')} AS email,
                coalesce(nullif(CASE WHEN {partner_user} THEN coalesce(nullif({mapped}, ''), 'partner') ELSE {mapped} END, ''),
                    {lit(m.default_role)}) AS role,
                CASE WHEN {partner_user} THEN {self.ref(u, 'AccountId')} ELSE '' END AS partner_id
                FROM {_P}User s
                LEFT JOIN {_P}x_maps r1 ON r1.m = 'roles' AND r1.k = {uid}
                LEFT JOIN {_P}x_maps r2 ON r2.m = 'roles' AND r2.k = left({uid}, 15)
                LEFT JOIN {_P}x_maps r3 ON r3.m = 'roles' AND r3.k = {self.text(u, m.role_column)}""")],
        )  # fmt: skip

    def _partner_contacts(self) -> None:
        c = self.objects.get("Contact")
        if c is None:
            return
        account = self.ref(c, "AccountId")
        deleted, bad = self.flag(c, "IsDeleted")
        of_partner = f"{account} IN (SELECT id FROM {_P}x_partner)"
        self._refuse_if(f"{_P}Contact", f"{of_partner} AND {bad}")
        name = self.full_name(c)
        self._emit(
            "partner_contacts",
            [(c.file, f"""SELECT _row, {self.ref(c, 'Id')} AS contact_id, {account} AS partner_id, {name} AS name,
                {self.text(c, 'Email')} AS email FROM {_P}Contact WHERE {of_partner} AND NOT {deleted}""")],
        )  # fmt: skip

    def _leads(self) -> None:
        lead = self.objects.get("Lead")
        if lead is None:
            return
        keep = self._deleted_skips(lead, f"{_P}Lead")
        join, source, bad_source = self.value("lead_sources", self.text(lead, "LeadSource"), "v")
        created, converted = self.instant(lead, "CreatedDate"), self.instant(lead, "ConvertedDate")
        self._refuse_if(f"{_P}Lead", f"{keep} AND {bad_source}", join)  # (the rows imported)
        contact = self.mapping.lead_partner_contact_column
        self._emit(
            "leads",
            [(lead.file, f"""SELECT s._row, {self.ref(lead, 'Id')} AS lead_id, {created} AS created_at,
                {self.text(lead, 'Company')} AS company, {self.text(lead, 'Email')} AS email,
                {self.ref(lead, 'ConvertedAccountId')} AS account_id, {source} AS source,
                {self.ref(lead, 'PartnerAccountId')} AS partner_id,
                {self.ref(lead, contact) if contact else "''"} AS partner_contact_id,
                {self.ref(lead, 'ConvertedOpportunityId')} AS converted_opportunity_id,
                {converted} AS converted_at FROM {_P}Lead s {join} WHERE {keep}""")],
            stripped=set(TABLES_BY_NAME["leads"].column_names) - {"source"},
        )  # fmt: skip

    def _read_carefully(self) -> bool:
        """:meth:`EngineTranslation.read_carefully`."""
        if self.careful or not self.as_read:
            return False
        try:
            found = self.con.execute(" UNION ALL ".join(f"({q} LIMIT 1)" for q in self.as_read)).fetchall()
        except EngineError:  # (a file the engine cannot read: the reference names its problem)
            return False
        if not found:
            return False
        self.careful = True
        self.activities.clear()
        self._touches()
        return True

    def _opportunities(self) -> None:
        f, m = self.objects["Opportunity"], self.mapping
        keep = self._deleted_skips(f, f"{_P}Opportunity")
        declared = self._declared()
        joins, refused = [], []

        def mapped(table: str, expr: str, alias: str, keep_value: bool = False) -> str:
            join, value, bad = self.value(table, expr, alias, keep=keep_value)
            joins.append(join)
            refused.append(bad)
            return value

        def flag(name: str) -> str:
            value, bad = self.flag(f, name)
            refused.append(bad)
            return "''" if self.col(f, name) is None else f"CASE WHEN {value} THEN 'true' ELSE 'false' END"

        currency = self.text(f, "CurrencyIsoCode")
        joins.append(f"LEFT JOIN {_P}x_maps cur ON cur.m = 'currencies' AND cur.k = {currency}")
        source_lead, source_join = "''", ""
        if "Lead" in self.objects:
            lead = self.objects["Lead"]
            source_join = (
                f"LEFT JOIN (SELECT {self.ref(lead, 'ConvertedOpportunityId')} AS opp, min({self.ref(lead, 'Id')}) AS lead "
                f"FROM {_P}Lead WHERE NOT {self.flag(lead, 'IsDeleted')[0]} "
                f"AND {self.ref(lead, 'ConvertedOpportunityId')} <> '' GROUP BY ALL) sl ON sl.opp = {self.ref(f, 'Id')}"
            )
            source_lead = "coalesce(sl.lead, '')"
        columns = {
            "opportunity_id": self.ref(f, "Id"),
            "account_id": self.ref(f, "AccountId"),
            "created_at": self.instant(f, "CreatedDate"),
            "amount": self.text(f, "Amount"),
            "currency": f"coalesce(nullif(CASE WHEN cur.k IS NOT NULL THEN cur.v ELSE {currency} END, ''), "
            f"{lit(m.default_currency)})",
            "stage": mapped("stages", self.text(f, "StageName"), "st", keep_value=True),
            "owner_id": self.ref(f, "OwnerId"),
            "close_date": self.instant(f, "CloseDate"),
            "is_closed": flag("IsClosed"),
            "is_won": flag("IsWon"),
            "opportunity_type": mapped("opportunity_types", self.text(f, "Type"), "ot"),
            "source_lead_id": source_lead,
        }
        if "partner_source" in declared:
            columns["partner_source"] = mapped("tiers", self.text(f, declared["partner_source"]), "ti")
        for name in _LOOKUPS:
            if name in declared:
                columns[name] = self.ref(f, declared[name])
        if "partner_engagement_date" in declared:
            columns["partner_engagement_date"] = self.instant(f, declared["partner_engagement_date"])
        if "partner_activity_log" in declared:
            columns["partner_activity_log"] = self.text(f, declared["partner_activity_log"])
        for name in TABLES_BY_NAME["opportunities"].column_names:
            columns.setdefault(name, "''")
        # (the refusal reads no source lead: their join, a group of every lead, is the output's)
        body = f"FROM {_P}Opportunity s {' '.join(joins)} {source_join} WHERE {keep}"
        self._refuse_if(f"{_P}Opportunity", f"{keep} AND ({' OR '.join(refused)})", " ".join(joins))
        select = ", ".join(f"{expr} AS {name}" for name, expr in columns.items())
        # The mapping's values (and its default currency) are trimmed by the import, as ever.
        of_mapping = {"currency", "opportunity_type", "partner_source"}  # (the stage is the export's)
        self._emit(
            "opportunities", [(f.file, f"SELECT s._row, {select} {body}")], stripped=set(columns) - of_mapping
        )

    def _stage_history(self) -> None:
        f = self.objects.get("OpportunityHistory")
        if f is None:
            return
        table = f"{_P}OpportunityHistory"
        keep = self._deleted_skips(f, table)
        text = self.text(f, "CreatedDate")
        join, stage, bad_stage = self.value("stages", self.text(f, "StageName"), "st", keep=True)
        at = typed_instant(text)
        # Refused before the entries are ordered: a stage the mapping does not have, an instant
        # the engine cannot read (no order).
        self._refuse_if(table, f"{keep} AND ({bad_stage} OR ({text} <> '' AND {at} IS NULL))", join)
        # Each entry's place among its deal's (_nth), in the order the entries are read in.
        self._table(
            "x_entries",
            f"""SELECT *, stage IS NOT DISTINCT FROM lag(stage) OVER w AS again, row_number() OVER w AS _nth
            FROM (SELECT s._row, {self.ref(f, "OpportunityId")} AS opp, {self.text(f, "Id")} AS id, {stage} AS stage,
                {text} AS entered_at, {at} AS _at FROM {table} s {join} WHERE {keep} AND {text} <> '')
            WINDOW w AS (PARTITION BY opp ORDER BY _at, id, _row)""",
        )
        # An instant that is not ISO 8601, or that the engine reads and Python's datetime does not
        # (hour 24, year 0), is refused: here for an entry left out as a repeat; an entry kept
        # goes into stage_history.entered_at as it is, where the first import refuses it by the
        # same rules (no regular expression on every entry here).
        iso = f"regexp_full_match(entered_at, {lit(ISO_PATTERN)})"
        odd = "regexp_matches(entered_at, '^0000|^.{10}[T ]24')"
        self._refuse_if(f"{_P}x_entries", f"again AND (NOT {iso} OR {odd})")
        self._skip(
            f, f"{_P}x_entries", "again", "the deal was already in this stage (its entry is an earlier row)"
        )
        # The deals in the order of their first row kept, each deal's entries in their order
        # (its first row kept by a group, not a window: no sort of the entries by deal).
        self._emit(
            "stage_history",
            [
                (
                    f.file,
                    f"""SELECT e._row, e.opp AS opportunity_id, e.stage, e.entered_at, e._nth, f._first
                FROM {_P}x_entries e JOIN (SELECT opp, min(_row) AS _first FROM {_P}x_entries
                WHERE NOT again GROUP BY opp) f ON f.opp = e.opp WHERE NOT e.again""",
                )
            ],
            order="_first, _nth",
            stripped=("opportunity_id", "stage", "entered_at"),  # (the stage is the export's)
        )

    def _field_history(self) -> None:
        f = self.objects.get("OpportunityFieldHistory")
        if f is None:
            return
        table = f"{_P}OpportunityFieldHistory"  # (with each row's _name: _stage)
        self._skip(f, table, "_name IS NULL", "not one of the five declared fields")
        keep = self._deleted_skips(f, table, "_name IS NOT NULL")
        lookups = in_list(list(_LOOKUPS))
        names_row = (
            f"_name IN {lookups} AND {self.text(f, 'DataType')} NOT IN ('EntityId', 'Lookup')"
            if f.has("DataType")
            else "false"
        )
        read = f"_name IS NOT NULL AND {keep}"
        self._skip(
            f, table, f"{read} AND {names_row}", "the names row of a lookup change (its ids row is read)"
        )
        read = f"{read} AND NOT ({names_row})"
        old, new = self.text(f, "OldValue"), self.text(f, "NewValue")
        join_old, tier_old, bad_old = self.value("tiers", old, "o")
        join_new, tier_new, bad_new = self.value("tiers", new, "n")
        # (a change left out as made twice has the instant of the one imported)
        at = self.instant(f, "CreatedDate")
        source = "_name = 'partner_source'"
        joins = f"{join_old} {join_new}"
        self._refuse_if(table, f"{read} AND {source} AND ({bad_old} OR {bad_new})", joins)
        self._table(
            "x_changes",
            f"""SELECT s._row, {self.ref(f, "OpportunityId")} AS opportunity_id, _name AS field,
                CASE WHEN {source} THEN {tier_old} ELSE {old} END AS old_value,
                CASE WHEN {source} THEN {tier_new} ELSE {new} END AS new_value,
                {at} AS changed_at, {self.ref(f, "CreatedById")} AS changed_by
            FROM {table} s {joins} WHERE {read}""",
        )
        # A change after the first row of the same (a group's least row, not a window's sort):
        # only the changes made more than once are kept aside (usually none, or a few), and each
        # row is looked up among them, not every change joined to its group.
        same = " AND ".join(
            f"f.{c} IS NOT DISTINCT FROM c.{c}" for c in ("opportunity_id", "field", "changed_at")
        )
        self._table(
            "x_repeated",
            f"SELECT opportunity_id, field, changed_at, min(_row) AS _first FROM {_P}x_changes "
            "GROUP BY ALL HAVING count(*) > 1",
        )
        changes = (
            f"(SELECT c.*, coalesce(c._row > f._first, false) AS again FROM {_P}x_changes c "
            f"LEFT JOIN {_P}x_repeated f ON {same})"
        )
        self._skip(f, changes, "again", "a second row for the same change")
        self._emit(
            "field_history",
            [(f.file, f"SELECT * FROM {changes} WHERE NOT again")],
            stripped=("opportunity_id", "field", "changed_at", "changed_by"),
        )

    def _field_name(self, f: ObjectFile) -> str:
        """The declared field a field history row changed (``partner_source`` ...), else NULL."""
        fields = {column.lower(): name for name, column in self.mapping.fields.items()}
        return "CASE lower({t}) {w} END".format(
            t=self.text(f, "Field"), w=" ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in fields.items())
        ) if fields else "NULL::VARCHAR"  # fmt: skip

    def _opportunity_partners(self) -> None:
        rows = self._partner_link_rows()
        if rows is None:
            return
        for src, name in enumerate(("OpportunityPartner", "Partner")):
            f = self.objects.get(name)
            if f is None:
                continue
            every = f"(SELECT * FROM ({rows}) WHERE src = {src})"
            self._skip(f, every, "opp = ''", "an account-to-account relationship (no OpportunityId)")
            self._refuse_if(every, "opp <> '' AND bad_deleted")
            self._skip(f, every, "opp <> '' AND deleted", "IsDeleted is set")
            self._refuse_if(every, "opp <> '' AND NOT deleted AND bad_role")
            links = f"(SELECT * FROM {_P}x_links WHERE src = {src})"
            self._skip(f, links, "nth > 1", "the same deal, partner and role as an earlier row")
            self._refuse_if(links, "nth = 1 AND bad_primary")
        self._emit(
            "opportunity_partners",
            [(str(file), f"""SELECT _row, opp AS opportunity_id, partner AS partner_id, role, added AS added_at,
                CASE WHEN NOT has_primary THEN '' WHEN is_primary THEN 'true' ELSE 'false' END AS is_primary
                FROM {_P}x_links WHERE nth = 1 AND file = {lit(file)}""")
             for file, _src in self.con.execute(f"SELECT DISTINCT file, src FROM {_P}x_links ORDER BY src").fetchall()
             ],
        )  # fmt: skip

    def _touches(self) -> None:
        m = self.mapping
        relations: list[str] = []
        for name in _STREAMED:
            f = self.objects.get(name)
            if f is None:
                continue
            event = name == "Event"
            kind_column = m.kind_column or ("Type" if f.has("Type") else "TaskSubtype")
            names = ("ActivityDateTime", "StartDateTime", "ActivityDate") if event else ("ActivityDate",)
            dated = [n for n in (*names, "CreatedDate") if f.has(n)]
            deleted, bad_deleted = self.flag(f, "IsDeleted")
            known = in_list(sorted(self.policy.known_kinds))
            partner = "partner_raw" if m.partner_column else (
                "CASE WHEN iw.partner THEN what WHEN ia.partner THEN account ELSE '' END"
            )  # fmt: skip
            # Unless careful, the lookups' cells, the dates, the kind, the owner and the partner
            # are read as they are (NULL when empty), not stripped: nearly every export has
            # nothing to strip, and the test on every cell is most of what the translation adds
            # to the touches (docs/benchmarks.md). Such a cell that has something to strip is
            # never taken for another: a lookup's is found by no lookup (its ids are stripped)
            # and stops the import here (``unread``); a date is not ISO 8601, a kind no kind, an
            # owner no user and a partner no partner to the first import, which refuses it. The
            # import is then tried again with every cell stripped (:meth:`_read_carefully`). The
            # Id and the Subject, which nothing checks, are always stripped.
            as_read = not self.careful
            raw = {n: c for n in (*dated, "WhatId", "WhoId", "AccountId", kind_column, "OwnerId", m.partner_column)
                   if n and (c := self.col(f, n))}  # fmt: skip
            if as_read:
                dates = [raw[n] for n in dated]
                what, who, account = (raw.get(n, "NULL::VARCHAR") for n in ("WhatId", "WhoId", "AccountId"))
                kind_text = f"coalesce({raw.get(kind_column, 'NULL')}, '')"
                owner, partner_raw = (
                    _lookup(raw[n]) if n in raw else _EMPTY for n in ("OwnerId", m.partner_column)
                )
                kinds = "kinds_as_read"
                plain = " AND ".join(f"coalesce({_P}plain({c}), true)" for c in raw.values())
                self.as_read.append(f"SELECT 1 FROM {self._reader(f)} WHERE NOT ({plain or 'true'})")
            else:
                dates = [f"nullif({self.text(f, n)}, {_EMPTY})" for n in dated]
                what, who, account = (self.ref(f, n) for n in ("WhatId", "WhoId", "AccountId"))
                kind_text, owner = self.text(f, kind_column), self.ref(f, "OwnerId")
                partner_raw = self.ref(f, m.partner_column) if m.partner_column else _EMPTY
                kinds = "kinds"
            occurred = f"coalesce({', '.join(dates)}, '')" if dates else _EMPTY
            # Each cell is read once (an inner projection), then looked up.
            cells = f"""{self.ref(f, "Id")} AS touch_id, {what} AS what, {who} AS who, {account} AS account,
                {kind_text} AS kind_text, {occurred} AS occurred, {deleted} AS deleted, {bad_deleted} AS bad_deleted,
                {owner} AS owner, {self.text(f, "Subject")} AS subject, {partner_raw} AS partner_raw"""
            unread = "false"
            if as_read:
                missed = " OR ".join(
                    f"({j}.id IS NULL AND {c} IS NOT NULL AND NOT {_P}plain({c}))"
                    for j, c in (("ia", "account"), ("iw", "what"), ("ih", "who"))
                )
                # (a CASE: the cell is tested only where no lookup found it)
                unread = f"CASE WHEN {missed} THEN true ELSE false END"
            kind = f"CASE WHEN km.k IS NOT NULL THEN km.v WHEN lower(kind_text) IN {known} THEN lower(kind_text) END"
            # Each lookup reads only the ids that can answer it (a smaller hash table); an empty
            # cell (most WhoId) is no key at all, never looked up (no id of theirs is empty).
            looked_up = f"""SELECT b.*, {kind} AS kind,
                CASE WHEN ia.ok THEN account WHEN iw.deal_ok IS NOT NULL THEN iw.deal_ok WHEN iw.ok THEN what
                WHEN ih.contact_ok IS NOT NULL THEN ih.contact_ok WHEN ih.lead_ok IS NOT NULL THEN ih.lead_ok
                END AS customer,
                {partner} AS partner, coalesce(ih.contact_partner, false) AS contact_partner,
                coalesce(iw.deal, false) AS deal, {unread} AS unread
                FROM (@CELLS@) b
                LEFT JOIN {_P}x_id_account ia ON ia.id = nullif(account, '')
                LEFT JOIN {_P}x_id_what iw ON iw.id = nullif(what, '')
                LEFT JOIN {_P}x_id_who ih ON ih.id = nullif(who, '')
                LEFT JOIN {_P}x_maps km ON km.m = '{kinds}' AND km.k = kind_text"""
            scan = looked_up.replace("@CELLS@", f"SELECT {cells} FROM {self._reader(f)}")
            numbered = looked_up.replace("@CELLS@", f"SELECT _row, {cells} FROM {self._read(f)}")
            bad_date = f"(occurred <> '' AND NOT regexp_full_match(occurred, {lit(ISO_PATTERN)}))"
            reason = (
                f"CASE WHEN bad_deleted OR unread THEN '{PROBLEM_MARK}' WHEN deleted THEN 'IsDeleted is set' "
                "WHEN customer IS NULL THEN 'no customer account (WhatId, AccountId and WhoId name none in the export)' "
                f"WHEN {bad_date} OR kind IS NULL THEN '{PROBLEM_MARK}' END"
            )
            touch = (
                "touch_id", "occurred", "customer",
                "CASE WHEN partner <> '' OR contact_partner THEN 'partner' ELSE 'direct' END", "kind",
                "CASE WHEN deal THEN what ELSE '' END", "partner",
                "CASE WHEN contact_partner THEN who ELSE '' END", "owner", "subject",
            )  # fmt: skip
            most = self.most[name].result()
            if not most:  # (a header alone)
                continue
            # A row the reference would refuse stops the import (the reference then runs); a row it
            # leaves out is counted after the import (:meth:`EngineTranslation.settle`). A date
            # that is not ISO 8601, or a kind neither mapped nor known (no kind), is refused by the
            # first import's own checks of occurred_at and kind (required): not looked for here.
            out = [f"nullif({e}, {_EMPTY})" for e in touch]
            stop = "bad_deleted" if unread == "false" else "bad_deleted OR unread"
            out[0] = f"CASE WHEN {stop} THEN error('cosell: a bad row') ELSE {out[0]} END"
            relations.append(
                f"SELECT {', '.join(f'{c} AS c{i}' for i, c in enumerate(out))} "
                f"FROM ({scan}) WHERE {stop} OR (NOT deleted AND customer IS NOT NULL)"
            )
            # The ids alone through the numbering.
            ids = f"SELECT {self.ref(f, 'Id')} AS key, _row FROM {self._read(f, self.col(f, 'Id') or 'NULL')}"
            self.activities.streams.append(Stream(f.file, most, numbered, reason, ids))
        if not relations:
            return
        columns = TABLES_BY_NAME["touches"].column_names
        # Read on every thread, in any order: a warning's first row is found from its touches'
        # places in the files (self.activities), as the reference counts it.
        every = ", ".join(f"c{i}" for i in range(len(columns)))
        relation = f"(SELECT {every} FROM ({' UNION ALL '.join(f'({r})' for r in relations)}))"
        # Every cell is a stripped cell of the export, an id from the lookups (stripped cells of
        # the staged files), a constant, or a cell read as it is that the import refuses unless
        # it has nothing to strip: all but the kind, which may be the mapping's value, read as
        # it is too when no kind the mapping gives has what the import's trim removes.
        padded = self.con.execute(
            f"SELECT count(*) FROM {_P}x_maps WHERE m = 'kinds' AND v IS DISTINCT FROM trim(v)"
        ).fetchall()[0][0]
        stripped = frozenset(columns) - ({"kind"} if padded else set())
        self.files["touches"] = TableFile(
            "touches", Path("touches.csv"), "relation", relation, columns, places=self.activities,
            stripped=stripped,
        )  # fmt: skip

    def _fx_rates(self) -> None:
        # A deal's dates are not tested by the translation (:meth:`instant`): a month that is not
        # one is left out here (the first import then refuses its deal, and the reference runs).
        months = self.con.execute(
            f"""SELECT m FROM (SELECT DISTINCT substr(x, 1, 7) AS m FROM (
                SELECT c2 AS x FROM {_P}out_opportunities UNION ALL SELECT c7 FROM {_P}out_opportunities
                {f"UNION ALL SELECT c2 FROM {_P}out_stage_history" if f"{_P}out_stage_history" in self.temp else ""}
            ) WHERE length(x) >= 7) WHERE regexp_full_match(m, '[0-9]{{4}}-[0-9]{{2}}') ORDER BY 1"""
        ).fetchall()
        out = self.headers  # the header-only translation: its columns, and now the rates' rows
        org = Org(months=salesforce_activity.months_used([str(r[0]) for r in months]))

        def obj(name: str) -> ObjectFile | None:
            return open_object(self.export, name, self.mapping, salesforce.LABELS.get(name, {}), out)

        salesforce_activity.fx_rates(obj("CurrencyType"), obj("DatedConversionRate"), self.policy, org, out)
        if out.problems:
            raise NotInEngine
        rows = list(out.rows("fx_rates"))
        if not rows:
            return
        texts = []
        for i, r in enumerate(rows):
            file, row, _ = out.locate_row("fx_rates.csv", i + 2, None)
            texts.append((file, str(row), *r))
        self._rows("fx_in", ("_file", "_row", "c0", "c1", "c2"), texts)
        made = self._table("out_fx_rates", f"SELECT _file, _row::BIGINT AS _row, c0, c1, c2 FROM {_P}fx_in")
        self._add("fx_rates", made, TABLES_BY_NAME["fx_rates"].column_names)

    def _beside(self) -> None:
        for table in BESIDE:
            source = self.export.find(f"{table}.csv")
            if source is not None:
                self.files[table] = TableFile(table, source.path, "csv")


def _domains(websites: list[str]) -> Any:
    """Each website (``site``) with its domain (``domain``: :func:`cosell.crm.org.domain_of`, as
    the reference reads it), as an Arrow table for the engine."""
    return text_table(("site", "domain"), [(site, domain_of(site)) for site in websites])


def _lookup(text: str) -> str:
    """A stripped cell as a lookup id: the all-zero id (15 or 18 characters) is empty."""
    return f"(CASE WHEN {text} IN {in_list(sorted(values.EMPTY_IDS))} THEN '' ELSE {text} END)"


def _checkbox(text: str) -> str:
    """A stripped cell as a checkbox: true, false, or NULL when the reference would refuse it."""
    true, false = in_list(sorted(values.TRUE_WORDS)), in_list(sorted(values.FALSE_WORDS))
    return f"(CASE WHEN lower({text}) IN {true} THEN true WHEN lower({text}) IN {false} THEN false END)"
