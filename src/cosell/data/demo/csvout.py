"""Vectorised text formatting and the CSV writer of the demo generator.

Every value is built as an Arrow string array from integer numpy arrays (seconds, cents, ids), so a
million-row chunk is formatted without a per-row Python loop, and the CSV text is assembled by joining
whole columns. Output: UTF-8, a header row, ``,`` separators, ``\\n`` line ends, empty fields for
missing values, double quotes only around text that needs them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cosell.outfiles import output_file
from cosell.store.schema import TABLES_BY_NAME

_NEEDS_QUOTES = '[",\\r\\n]'


def _from_fixed(buf: np.ndarray) -> pa.Array:
    """A (rows, width) uint8 matrix of ASCII as an Arrow string array (zero-copy)."""
    rows, width = buf.shape
    offsets = np.arange(0, (rows + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(buf)))


_PAIRS = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], dtype=np.uint8)


def _put_digits(buf: np.ndarray, start: int, values: np.ndarray, width: int) -> None:
    v = values.astype(np.int64)
    end = start + width
    while end - start >= 2:
        v, pair = np.divmod(v, 100)
        buf[:, end - 2 : end] = _PAIRS[pair]
        end -= 2
    if end > start:
        buf[:, start] = 48 + v % 10


def ids(prefix: str, numbers: np.ndarray, width: int = 10) -> pa.Array:
    """``prefix`` followed by ``numbers`` zero-padded to ``width`` digits: ``006Dm0000000042``."""
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    buf = np.empty((len(numbers), len(head) + width), dtype=np.uint8)
    buf[:, : len(head)] = head
    _put_digits(buf, len(head), np.asarray(numbers), width)
    return _from_fixed(buf)


def instants(seconds: np.ndarray) -> pa.Array:
    """Seconds since the epoch as ISO 8601 UTC text: ``2026-03-02T15:20:00Z``."""
    s = np.asarray(seconds, dtype=np.int64)
    day = s // 86_400
    second_of_day = s - day * 86_400
    d64 = day.astype("datetime64[D]")
    months = d64.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    dom = (d64 - months.astype("datetime64[D]")).astype(np.int64) + 1
    buf = np.empty((len(s), 20), dtype=np.uint8)
    _put_digits(buf, 0, year, 4)
    _put_digits(buf, 5, month, 2)
    _put_digits(buf, 8, dom, 2)
    _put_digits(buf, 11, second_of_day // 3600, 2)
    _put_digits(buf, 14, second_of_day // 60 % 60, 2)
    _put_digits(buf, 17, second_of_day % 60, 2)
    buf[:, 4] = buf[:, 7] = ord("-")
    buf[:, 10] = ord("T")
    buf[:, 13] = buf[:, 16] = ord(":")
    buf[:, 19] = ord("Z")
    return _from_fixed(buf)


def dates(seconds: np.ndarray) -> pa.Array:
    """Midnight UTC of the day of each instant, as ISO 8601 text."""
    s = np.asarray(seconds, dtype=np.int64)
    return instants(s - s % 86_400)


def day_text(seconds: np.ndarray) -> pa.Array:
    """``YYYY-MM-DD`` of each instant (for free text such as activity logs)."""
    return pc.utf8_slice_codeunits(instants(seconds), 0, 10)


def money(minor_units: np.ndarray, digits: int = 2) -> pa.Array:
    """Integer minor units as a plain decimal with exactly ``digits`` decimals: ``48250.00``."""
    v = np.asarray(minor_units, dtype=np.int64)
    if np.any(v < 0):
        raise ValueError("the demo never writes negative amounts")
    if digits == 0:
        return pc.cast(pa.array(v), pa.string())
    scale = 10**digits
    whole = pc.cast(pa.array(v // scale), pa.string())
    fraction = pc.utf8_lpad(pc.cast(pa.array(v % scale), pa.string()), digits, "0")
    return pc.binary_join_element_wise(whole, fraction, ".")


def pick(labels: Sequence[str], codes: np.ndarray) -> pa.Array:
    """``labels[code]`` for each code; a negative code is a missing value."""
    c = np.asarray(codes, dtype=np.int64)
    index = pa.array(c, mask=c < 0)
    return pc.take(pa.array(list(labels), pa.string()), index)


def where(valid: np.ndarray, values: pa.Array) -> pa.Array:
    """``values`` where ``valid``, else missing."""
    if bool(np.all(valid)):
        return values
    return pc.if_else(pa.array(np.asarray(valid, dtype=bool)), values, pa.scalar(None, pa.string()))


def constant(text: str | None, rows: int) -> pa.Array:
    """The same text (or a missing value) on every row."""
    if text is None:
        return pa.nulls(rows, pa.string())
    return pick((text,), np.zeros(rows, dtype=np.int64))


def bools(values: np.ndarray) -> pa.Array:
    return pick(("false", "true"), np.asarray(values, dtype=np.int64))


def csv_text(text: str) -> str:
    """One value as CSV text: quoted (quotes doubled) only when it needs it."""
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in '",\r\n') else text


def _quoted(column: pa.Array) -> pa.Array:
    needs = pc.fill_null(pc.match_substring_regex(column, _NEEDS_QUOTES), False)
    if not pc.any(needs).as_py():
        return column
    escaped = pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', "")
    return pc.if_else(needs, escaped, column)


class TableWriter:
    """Writes one canonical table as CSV, chunk by chunk, in the schema's column order.

    The file is written under a temporary name in the folder and renamed onto ``<table>.csv`` when
    the writer closes (:func:`cosell.outfiles.output_file`); closed by an error (``__exit__`` with
    one, or :meth:`discard`) it leaves nothing, and a link at the name is refused.

    >>> # with TableWriter(Path("out"), "touches") as w: w.write({"touch_id": ..., ...})
    """

    def __init__(self, out_dir: Path, table: str, columns: Sequence[str] | None = None) -> None:
        # ``columns`` is only for files outside the schema (the demo's truth file).
        schema = TABLES_BY_NAME.get(table)
        self.name = table
        self.columns = tuple(columns) if schema is None and columns else schema.column_names if schema else ()
        if not self.columns:
            raise KeyError(table)
        self.path = out_dir / f"{table}.csv"
        self.rows = 0
        self._text = {c.name for c in schema.columns if c.kind == "text"} if schema else set(self.columns)
        self._placing: AbstractContextManager[Path] = output_file(self.path)
        self._file: BinaryIO = self._placing.__enter__().open("xb")
        self._file.write((",".join(self.columns) + "\n").encode("utf-8"))

    def write(self, columns: Mapping[str, pa.Array], safe: Collection[str] = ()) -> None:
        """Append rows; ``safe`` names text columns already known not to need quoting."""
        names = self.columns
        if set(columns) != set(names):
            raise ValueError(f"{self.name}: columns {sorted(set(columns) ^ set(names))} mismatch")
        arrays = [_quoted(columns[n]) if n in self._text and n not in safe else columns[n] for n in names]
        rows = len(arrays[0])
        if rows == 0:
            return
        if any(len(a) != rows for a in arrays):
            raise ValueError(f"{self.name}: columns of different lengths")
        line = pc.binary_join_element_wise(*arrays, ",", null_handling="replace", null_replacement="")
        line = pc.binary_join_element_wise(line, "", "\n")
        if isinstance(line, pa.ChunkedArray):  # pragma: no cover - compute returns plain arrays here
            line = line.combine_chunks()
        offsets = np.frombuffer(line.buffers()[1], dtype=np.int32)
        start, end = int(offsets[line.offset]), int(offsets[line.offset + len(line)])
        self._file.write(memoryview(line.buffers()[2])[start:end])
        self.rows += rows

    def close(self) -> None:
        """Finish the file and put it in place (closing twice is no error)."""
        self._end(None, None, None)

    def discard(self) -> None:
        """Remove what was written: a failed run leaves no partial file."""
        failed = RuntimeError(f"{self.name}: discarded")
        self._end(type(failed), failed, None)

    def _end(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._file.closed:
            return
        try:
            self._file.close()
        except BaseException as exc:  # the last bytes could not be written: place nothing
            self._placing.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._placing.__exit__(kind, value, tb)

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._end(kind, value, tb)
