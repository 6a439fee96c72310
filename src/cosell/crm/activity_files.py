"""The Salesforce activity files (Task, Event) read by the engine where they are, never staged:
the export's largest files. What each file holds at most (counted in its bytes), which of its rows
became touches and which were left out and why (counted once, when first asked), and where a
touch stood in the files' order, which the reference's touches follow and a warning's first row is
counted in (:class:`cosell.data.read.RowPlaces`). Used by :mod:`cosell.crm.salesforce_sql`."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cosell.crm.canonical import Skipped
from cosell.engine import Engine

PROBLEM_MARK = "!"  # a row the reference would refuse: the engine's translation does not apply
_LEFT_OUT = "_cosell_sf_left_out"


class NotInEngine(Exception):
    """The engine's translation does not apply: the reference runs instead."""


# A touch's place in the activity files' order: its file's index times this, plus its row.
_PLACE = 2**40


@dataclass(frozen=True)
class Stream:
    """An activity file read where it is: at most how many records it holds
    (:func:`records_at_most`), how its rows are read and left out, and its rows' touch ids with
    their row numbers (``key``, ``_row``)."""

    file: str
    most: int
    scan: str
    reason: str
    ids: str


@dataclass
class Tally:
    """Per activity file: the rows that became touches, those left out (sorted), and why."""

    kept: list[int]
    left_out: list[list[int]]
    skipped: list[Skipped]


@dataclass
class Activities:
    """The activity files read into the touches table in any order (on every thread): what each
    kept and left out, counted once when first asked, and where a touch stands in the files' order,
    which the reference's touches follow and a warning's first row is counted in
    (:class:`cosell.data.read.RowPlaces`)."""

    con: Engine
    streams: list[Stream] = field(default_factory=list)
    _tally: Tally | None = None
    _left_out_table: str | None = None

    def tally(self) -> Tally:
        """The rows kept and left out of each file. When the touches are as many as the files
        hold records at most (the usual export: every row a touch, no record over two lines),
        every record became a touch and nothing is read again. Raises :class:`NotInEngine` when the reference
        would leave the touches out altogether (every activity left out)."""
        if self._tally is None:
            inserted = int(self.con.execute("SELECT count(*) FROM touches").fetchall()[0][0])
            if not inserted:
                raise NotInEngine
            tally = Tally([s.most for s in self.streams], [[] for _ in self.streams], [])
            if inserted != sum(tally.kept):
                for i, stream in enumerate(self.streams):
                    tally.kept[i], tally.left_out[i] = self._left_out(stream, tally.skipped)
            self._tally = tally
        return self._tally

    def _left_out(self, stream: Stream, skipped: list[Skipped]) -> tuple[int, list[int]]:
        """The rows of ``stream`` kept, and those left out (counted by reason into ``skipped``)."""
        found = self.con.execute(
            f"SELECT {stream.reason} AS reason, count(*), min(_row), list(_row) FILTER "
            f"(WHERE {stream.reason} IS NOT NULL) FROM ({stream.scan}) GROUP BY ALL ORDER BY 1 NULLS FIRST"
        ).fetchall()
        kept, rows = 0, list[int]()
        for why, count, first, some in found:
            if why == PROBLEM_MARK:  # (the import stops at such a row first)
                raise NotInEngine
            if why is None:
                kept = int(count)
            else:
                skipped.append(Skipped(stream.file, int(count), str(why), int(first)))
                rows.extend(int(r) for r in some)
        return kept, sorted(rows)

    @property
    def size(self) -> int:
        """At most how many records the activity files hold."""
        return sum(stream.most for stream in self.streams)

    def relation(self, first: int | None = None) -> str:
        """Each touch's id (``key``) and its place in the files' order (``place``, ordered as the
        files' rows are); with ``first``, of the files' first ``first`` records only (the numbered
        scan stops there). The rows left out are not touches; an id they share with a kept row
        (a deleted copy) must not give that touch their place."""
        tally = self.tally()
        parts, before = [], 0
        for i, (stream, left_out) in enumerate(zip(self.streams, tally.left_out, strict=True)):
            if first is not None and before >= first:
                break
            ids = stream.ids if first is None else f"SELECT * FROM ({stream.ids}) LIMIT {first - before}"
            before += stream.most  # (a prefix still: a file is read whole before the next one)
            rows = f"SELECT key, {i} * {_PLACE} + _row AS place FROM ({ids})"
            if left_out:
                rows += f" WHERE _row NOT IN (SELECT row FROM {self._left_out_rows()} WHERE part = {i})"
            parts.append(rows)
        return " UNION ALL ".join(f"({p})" for p in parts)

    def _left_out_rows(self) -> str:
        """A table of the rows left out (``part``, ``row``), made once."""
        if self._left_out_table is None:
            table = _LEFT_OUT
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (part INTEGER, row BIGINT)")
            for i, rows in enumerate(self.tally().left_out):
                if rows:  # one statement a file, its rows as one list (there may be millions)
                    self.con.execute(f"INSERT INTO {table} SELECT ?, unnest(?::BIGINT[])", [i, rows])
            self._left_out_table = table
        return self._left_out_table

    def row(self, place: int) -> int:
        """The touches' row (from 2, as a file's) of the touch at ``place``: the rows the files
        before it kept, then its file's rows before it that were not left out."""
        part, row = divmod(place, _PLACE)
        tally = self.tally()
        return sum(tally.kept[:part]) + (row - 2) - bisect.bisect_left(tally.left_out[part], row) + 2

    def drop(self) -> None:
        if self._left_out_table is not None:
            self.con.execute(f"DROP TABLE IF EXISTS {self._left_out_table}")

    def clear(self) -> None:
        """Forget the activity files and what was counted of them (they are read again)."""
        self.drop()
        self.streams.clear()
        self._tally = self._left_out_table = None


def records_at_most(path: Path) -> int:
    """At most how many records a CSV file holds past its header, as a CSV reader counts them: its
    line ends (``\\n``, ``\\r\\n`` or ``\\r``) but the header's, less one when the file does not
    end with one (its last record). Exactly its records when no record spans lines and no line
    is blank; counted in the bytes, several times faster than the engine's reader counts records."""
    lf = cr = crlf = 0
    last = b""  # the chunk before's last byte (a CRLF may straddle two chunks)
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            lf += chunk.count(b"\n")
            if b"\r" in chunk:
                cr += chunk.count(b"\r")
                crlf += chunk.count(b"\r\n")
            if last == b"\r" and chunk.startswith(b"\n"):
                crlf += 1
            last = chunk[-1:]
    ends = lf + cr - crlf
    return ends - 1 if last in (b"\n", b"\r") else ends


_CHUNK = 1 << 24


def streamed_origin(
    file: str, before: int, kept: int, left_out: list[int]
) -> Callable[[int], tuple[str, int] | None]:
    """Where the ``index``-th touch came from: the ``index - before``-th row ``file`` kept, its
    row that index from row 2 moved down by every row left out at or before it."""

    def origin(index: int) -> tuple[str, int] | None:
        nth = index - before
        if not 0 <= nth < kept:
            return None
        row, passed = nth + 2, 0
        while True:
            moved = bisect.bisect_right(left_out, row + passed) - passed
            if moved == 0:
                return file, row + passed
            passed += moved

    return origin
