"""What every report starts from: the as-of and known-at instants (:mod:`cosell.asof`), the period
asked for, and the deal table.

:func:`open_metrics` builds the as-of views and the deal table once; the report builders
(:mod:`cosell.reports.cfo`, ``qbr``, ``partners``) then ask for numbers of as many periods as they
need. Periods are given by label (``2026-Q3`` or ``2026-08``); the default is the last complete
fiscal quarter before the as-of instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cosell import clock
from cosell.engine import Engine
from cosell.errors import UsageError
from cosell.instants import display_instant
from cosell.metrics.deals import DealFacts, build_deal_facts
from cosell.periods import Period, fiscal_quarter, month, parse_period
from cosell.policy import Policy
from cosell.report_model import Coverage, Report, Section

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Metrics:
    """An open metrics context: the deal table and the calendar of one report."""

    facts: DealFacts

    @property
    def policy(self) -> Policy:
        return self.facts.policy

    @property
    def currency(self) -> str:
        return self.facts.policy.workspace_currency

    @property
    def start_month(self) -> int:
        return self.facts.policy.fiscal_year_start_month

    def period(self, label: str | None, *, quarter_only: bool = False, option: str = "--period") -> Period:
        """The period of a label, or the last complete fiscal quarter before the as-of instant."""
        if label is None:
            return previous_quarter(fiscal_quarter(self.facts.as_of, self.start_month), self.start_month)
        try:
            period = parse_period(label.strip(), self.start_month)
        except ValueError as exc:
            raise UsageError(f"{option}: {exc}") from None
        if quarter_only and not period.is_quarter:
            raise UsageError(f"{option}: {label!r} is a month; give a fiscal quarter like 2026-Q3")
        return period

    def quarter_of(self, period: Period) -> Period:
        """The fiscal quarter a period is in (itself for a quarter)."""
        return period if period.is_quarter else fiscal_quarter(period.start, self.start_month)

    def quarters_ending(self, period: Period, count: int) -> list[Period]:
        """``count`` fiscal quarters, oldest first, ending with the quarter ``period`` is in."""
        quarters = [self.quarter_of(period)]
        while len(quarters) < count:
            quarters.insert(0, previous_quarter(quarters[0], self.start_month))
        return quarters

    def months_ending(self, period: Period, count: int) -> list[Period]:
        """``count`` months, oldest first, ending with the month ``period`` is (a month) or ends
        with (a quarter)."""
        months = [month(period.end - _TICK)]
        while len(months) < count:
            months.insert(0, month(months[0].start - _TICK))
        return months

    @property
    def as_of_text(self) -> str:
        """The as-of instant as printed (``2026-11-01 00:00:00 UTC``), marked "(now)" when neither it
        nor the known-at instant was given (the clock's)."""
        return display_instant(self.facts.as_of) + ("" if self.facts.as_of_given else " (now)")

    @property
    def known_at_text(self) -> str:
        """The knowledge instant as printed (ISO 8601 UTC), or "everything recorded so far"."""
        known = self.facts.known_at
        return "everything recorded so far" if known is None else display_instant(known)

    def facts_rows(self, period: Period) -> tuple[tuple[str, str], ...]:
        """The facts every report prints: period, as-of, currency, calendar, policy, attribution."""
        f = self.facts
        as_of = self.as_of_text
        deals = f"{f.deals:,} attributed"
        if f.unattributed:
            deals += f"; {f.unattributed:,} known but not yet attributed, left out (run `cosell attribute`)"
        # Without --as-of, T is K: the versions known then. With it, the run evaluated at T.
        read = (
            f"the run evaluated as of the as-of instant and the changes recorded after it (newest run {f.run_id}"
            if f.evaluated
            else f"versions known at the as-of instant (newest run {f.run_id}"
        )
        return (
            ("Period", f"{period.label} ({period.days})"),
            ("As of", as_of),
            ("Data known at", self.known_at_text),
            ("Currency", self.currency),
            ("Fiscal year starts", _MONTHS[self.start_month - 1]),
            ("Policy", self.policy.version),
            (
                "Attribution",
                f"{read}, made {display_instant(f.run_at)}; policy {', '.join(f.attribution_policies) or '-'})",
            ),
            ("Deals", deals),
        )

    def report(
        self, key: str, title: str, subtitle: str, period: Period, sections: tuple[Section, ...]
    ) -> Report:
        """A report on ``period`` with what every report of this context states beside its sections:
        the currency, the as-of instant, the period's coverage and :meth:`facts_rows`."""
        return Report(
            key=key,
            title=title,
            subtitle=subtitle,
            currency=self.currency,
            as_of=self.facts.as_of,
            coverage=self.coverage(period),
            facts=self.facts_rows(period),
            sections=sections,
        )

    def coverage(self, period: Period) -> Coverage:
        """Whether ``period`` is over at the as-of instant and inside the data, and the note a
        report prints when it is not (:func:`coverage`)."""
        return coverage(period, self.facts.as_of, self.facts.data_until)


def coverage(period: Period, as_of: datetime, data_until: datetime | None) -> Coverage:
    """The coverage of ``period`` read at ``as_of`` from deals whose newest event is ``data_until``.

    A period is complete when it ended at or before ``as_of`` and the data reaches its last day
    (the newest deal was created or closed at most a day before the period's end: date-only close
    dates are the midnight that starts the last day). Otherwise the note says which: not begun, not
    ended (its figures cover part of it and will change), beyond the data (it began after the
    newest deal), or the data ends within it (more than a day before its end, or before the as-of
    instant while it runs).
    """
    label, when = period.label, display_instant(as_of)
    # The data reaches far enough when its newest deal falls on the last day that could be known:
    # the period's last day, or the day before the as-of instant while the period runs.
    last_day = min(as_of, period.end) - timedelta(days=1)
    newest = (
        "there are no deals in the data"
        if data_until is None
        else (f"the newest deal in the data was created or closed {display_instant(data_until)}")
    )
    notes = []
    if as_of <= period.start:
        notes.append(f"{label} has not begun at the as-of instant ({when}): nothing in it is known yet.")
    elif as_of < period.end:
        notes.append(
            f"{label} has not ended at the as-of instant ({when}): its figures cover "
            f"{period.start.date().isoformat()} to {when} only and will change."
        )
    if as_of > period.start:
        if data_until is None:
            notes.append(f"{label} lies beyond the data: {newest}.")
        elif data_until < period.start:
            notes.append(f"{label} lies beyond the data: {newest}, before {label} began.")
        elif data_until < last_day and as_of < period.end:
            notes.append(f"The data ends before that: {newest}.")
        elif data_until < last_day:
            notes.append(f"The data ends within {label}: {newest}; its figures cover {label} up to then.")
    return Coverage(
        period=label,
        start=period.start,
        end=period.end,
        as_of=as_of,
        ended=as_of >= period.end,
        data_until=data_until,
        complete=not notes,
        note=" ".join(notes),
    )


def previous_quarter(quarter: Period, start_month: int) -> Period:
    return fiscal_quarter(quarter.start - _TICK, start_month)


def open_metrics(
    con: Engine,
    policy: Policy,
    as_of: datetime | None,
    known_at: datetime | None = None,
) -> Metrics:
    """Build the views and the deal table evaluated as of ``as_of`` (T) from the data known at
    ``known_at`` (K), :mod:`cosell.asof`.

    One instant alone is the numbers as they stood then (T = K); neither reads every row and
    attribution version recorded, as of :func:`cosell.clock.now`. Given both, the attribution read
    is the run evaluated as of T (and the changes recorded after it); else each deal's newest
    version known at K. T decides the default period."""
    given = as_of if as_of is not None else known_at
    # "Now" is kept to the whole second: it is printed to the second, and it only places the
    # default period (every row and version recorded so far is read).
    instant = clock.now(given) if given is not None else clock.now().replace(microsecond=0)
    # One instant alone is passed as the as-of instant: build_deal_facts reads it as K too.
    both = known_at if as_of is not None else None
    return Metrics(build_deal_facts(con, policy, instant, as_of_given=given is not None, known_at=both))
