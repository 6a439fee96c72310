"""The shape of every report: what the metrics compute and every format renders.

A :class:`Report` is a title, a few facts about how it was made (period, as-of, currency, policy
version) and an ordered list of :class:`Section`. A section holds headline :class:`Figure`s (a number
with its deal count, its benchmark band and a verdict), a :class:`Table` of typed cells and the
:class:`Chart`s that draw it. Renderers (table, json, csv, xlsx, html, pdf) take a report and never
compute a figure themselves, so every format shows the same numbers.

Values are typed: money and ratios are :class:`~decimal.Decimal`, counts ``int``, dates ``date``,
instants ``datetime`` (UTC), text ``str``; ``None`` means "no value" and is always explained by a
note (a figure with no deals says so; it is never 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from cosell.instants import display_instant
from cosell.money import minor_unit

Value = Decimal | int | str | date | datetime | None

# How a number is shown: money in the workspace currency, a ratio shown as a percent (0.25 -> 25.0%),
# a plain ratio (cost per dollar, 4 decimals), days, or a count. Text is text; an id (a deal id, a
# rule name, a plan version) is text that is never broken across lines, not even at its hyphens.
Unit = Literal["money", "percent", "ratio", "days", "count", "text", "id"]
Verdict = Literal["below", "within", "above"]


_DEALS = re.compile(r"\bdeals\b")  # the word a count of one makes singular


@dataclass(frozen=True)
class Band:
    """A published benchmark range, in the figure's unit (percent figures: 0.15 to 0.25)."""

    low: Decimal
    high: Decimal
    source: str = ""  # where the range comes from, in plain words


@dataclass(frozen=True)
class Figure:
    """One headline number with what it rests on."""

    key: str  # stable JSON key, snake_case
    label: str
    value: Decimal | None  # None: nothing to compute it from (see ``note``)
    unit: Unit
    deals: int | None = None  # how many deals it rests on
    deals_label: str = ""  # what ``deals`` counts, e.g. "deals created", "won + lost"
    note: str = ""  # confidence note ("only 4 deals"), "no deals closed in the period", ...
    band: Band | None = None
    verdict: Verdict | None = None
    beside: tuple[Figure, ...] = ()  # the figures shown next to it (direct rate, per-tier shares ...)

    def deals_text(self) -> str:
        """What the figure rests on, as people read it: "412 deals created", "1 won deal"; empty
        when it does not say. The machine formats keep ``deals`` and ``deals_label`` apart.

        >>> Figure("e", "Earnings", None, "money", 1, "won deals").deals_text()
        '1 won deal'
        """
        if self.deals is None:
            return ""
        label = self.deals_label or "deals"
        if self.deals == 1:
            label = _DEALS.sub("deal", label)
        return f"{self.deals:,} {label}"


@dataclass(frozen=True)
class Column:
    """A table column. The machine formats (json, csv, xlsx) give every column its own cell; the
    formats people read (table, html, pdf) print a column with ``under`` inside the cell of that
    column, on a line of its own ("Closed: 2026-09-15" under the deal id), and leave out a column
    that is not ``shown`` (a currency printed with its amount)."""

    key: str  # stable JSON key
    label: str
    unit: Unit = "text"
    # The terminal may leave it out when the table is too wide for it (and says so); every file
    # format shows it. For detail beside the columns a reader needs (an id beside a name).
    optional: bool = False
    under: str = ""  # the key of the column in whose cell people read this one
    currency_key: str = ""  # money in the currency named by this column of the row (else the report's)
    shown: bool = True  # False: machine formats only


def cell_currency(column: Column, row: dict[str, Value], currency: str) -> str:
    """The currency of a money cell: the row's own (``currency_key``) where it names one, else ``currency``."""
    own = row.get(column.currency_key) if column.currency_key else None
    return own if isinstance(own, str) and own else currency


def printed_columns(columns: tuple[Column, ...]) -> list[tuple[Column, tuple[Column, ...]]]:
    """The columns people read, each with the columns printed under it (in table order).

    >>> cols = (Column("deal", "Deal"), Column("closed", "Closed", under="deal"), Column("amount", "Amount"))
    >>> [(c.key, [u.key for u in under]) for c, under in printed_columns(cols)]
    [('deal', ['closed']), ('amount', [])]
    """
    keys = {c.key for c in columns}
    return [
        (c, tuple(u for u in columns if u.under == c.key and u.shown))
        for c in columns
        if c.shown and not (c.under and c.under in keys)
    ]


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[dict[str, Value], ...]  # keyed by Column.key


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[Decimal | None, ...]  # one per category; None: no value (a gap, not 0)


@dataclass(frozen=True)
class Chart:
    """A chart for html and pdf. ``kind``: bar (grouped), stacked (stacked bars) or line."""

    key: str
    title: str
    kind: Literal["bar", "stacked", "line"]
    categories: tuple[str, ...]  # x axis, e.g. fiscal quarters
    series: tuple[Series, ...]
    unit: Unit
    bands: tuple[tuple[str, Band], ...] = ()  # (series name, band) shaded behind a line chart
    y_label: str = ""
    # Bars run left to right with the categories down the side: for long names (partners), which
    # slanted under upright bars would leave the plot a sliver. The chart grows with the categories.
    horizontal: bool = False


@dataclass(frozen=True)
class Section:
    key: str  # stable JSON key; also the xlsx sheet name (shortened) and the csv section column
    title: str
    figures: tuple[Figure, ...] = ()
    table: Table | None = None
    charts: tuple[Chart, ...] = ()
    notes: tuple[str, ...] = ()
    # Numbered sentences printed as the section's body text (html and pdf): (number, text), such as
    # ("2.3", "Direct first: ..."). The rules appendix is made of them.
    clauses: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Coverage:
    """Whether a report's period is over and inside the data, with the note that says when not.

    ``ended``: the period ended at or before the as-of instant. ``data_until``: the newest instant a
    deal read was created or closed at (None: no deal). ``complete``: ended, and the data reaches
    the period's last day. ``note`` is empty when complete."""

    period: str
    start: datetime
    end: datetime
    as_of: datetime
    ended: bool
    data_until: datetime | None
    complete: bool
    note: str = ""


@dataclass(frozen=True)
class Alert:
    """Something a reader must not miss (a negative balance carried, a payout blocked). Every format
    shows the raised alerts before the sections, marked, and marks the figure one is about; json
    lists every alert of the report, raised or not, so that a machine reads an explicit field."""

    key: str  # stable JSON key
    label: str  # "Payouts blocked"
    raised: bool
    text: str = ""  # what happened and what follows, in plain words
    figure: str = ""  # the key of the figure it is about (marked wherever it is printed)


@dataclass(frozen=True)
class Report:
    key: str  # "cfo", "qbr", "partners", "statement"
    title: str
    subtitle: str
    currency: str
    facts: tuple[tuple[str, str], ...]  # (label, value): period, as-of, policy version, attribution run ...
    sections: tuple[Section, ...] = field(default_factory=tuple)
    as_of: datetime | None = None  # the instant the report reads (facts print it for people)
    coverage: Coverage | None = None  # the period's: not ended, beyond the data (None: no period)
    alerts: tuple[Alert, ...] = ()
    # What a paged format prints on the right of every page's header; empty: the period and the
    # as-of instant. A document with neither (the rules appendix) names what it covers here.
    running: str = ""

    @property
    def raised(self) -> tuple[Alert, ...]:
        """The alerts raised, in order."""
        return tuple(a for a in self.alerts if a.raised)

    @property
    def alert_figures(self) -> frozenset[str]:
        """The keys of the figures a raised alert is about."""
        return frozenset(a.figure for a in self.raised if a.figure)

    @property
    def period(self) -> str:
        """The period label (the first word of the Period fact, ``2026-Q3``), for file names;
        ``report`` when there is none."""
        for label, value in self.facts:
            if label == "Period" and value.split():
                return value.split()[0]
        return "report"


NO_VALUE = "n/a"


def display(value: Value, unit: Unit, currency: str, *, bare: bool = False) -> str:
    """A value as a person reads it: ``1,234.50 USD``, ``15.4%``, ``0.2312``, ``49.2 days``
    (``bare``: without the currency code and the word days, for table cells under a header)."""
    if value is None:
        return NO_VALUE
    if isinstance(value, datetime):
        return display_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    number = Decimal(value)
    if unit == "money":
        digits = minor_unit(currency)
        text = f"{_q(number, digits):,.{digits}f}"
        return text if bare else f"{text} {currency}"
    if unit == "percent":
        return f"{as_printed(number, unit, currency) * 100:.1f}%"
    if unit == "ratio":
        return f"{as_printed(number, unit, currency):.4f}"
    if unit == "days":
        return f"{as_printed(number, unit, currency):.1f}" + ("" if bare else " days")
    if unit == "count":
        return f"{int(number):,}"
    return str(value)


def counted(n: int, noun: str) -> str:
    """A count with its noun, singular for one, thousands separated.

    >>> counted(1, "partner"), counted(1_250, "entry"), counted(2, "direct touch")
    ('1 partner', '1,250 entries', '2 direct touches')
    """
    if n == 1:
        return f"{n:,} {noun}"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return f"{n:,} {noun[:-1]}ies"
    return f"{n:,} {noun}{'es' if noun.endswith(('ch', 'sh', 's', 'x')) else 's'}"


# The places a number of each unit is printed to: a percent, kept as a fraction, to 3 (0.153 is
# 15.3%), a ratio to 4, days to 1; money to its currency's minor unit.
PRINTED_PLACES: dict[Unit, int] = {"percent": 3, "ratio": 4, "days": 1}


def as_printed(number: Decimal, unit: Unit, currency: str) -> Decimal:
    """``number`` as :func:`display` prints it, half away from zero: what a reader can check a
    verdict against (0.149999 prints 15.0%, and is within a 15-25% benchmark).

    >>> as_printed(Decimal("0.149999"), "percent", "USD"), as_printed(Decimal("18.25"), "days", "USD")
    (Decimal('0.150'), Decimal('18.3'))
    """
    if unit == "money":
        return _q(number, minor_unit(currency))
    places = PRINTED_PLACES.get(unit)
    return number if places is None else _q(number, places)


def _q(value: Decimal, digits: int) -> Decimal:
    """Half away from zero to ``digits`` places (display only: values are already rounded once)."""
    return half_away(value, Decimal(1).scaleb(-digits))


def half_away(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded half away from zero to the places of ``step``; a value that rounds to zero
    is zero, never a signed zero (``-0.0000``, ``-0.0%``), whatever the sign it had.

    >>> half_away(Decimal("-0.00004"), Decimal("0.0001")), half_away(Decimal("-0.03125"), Decimal("0.0001"))
    (Decimal('0.0000'), Decimal('-0.0313'))
    """
    q = value.quantize(step, rounding=ROUND_HALF_UP)
    return q.copy_abs() if q.is_zero() else q
