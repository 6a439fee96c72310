"""A period that has not ended, has not begun, or lies beyond the data: the note every report prints."""

from __future__ import annotations

from datetime import UTC, datetime

from cosell.metrics.context import coverage
from cosell.periods import parse_period


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_period_over_and_inside_the_data_is_complete() -> None:
    c = coverage(parse_period("2026-Q3"), at("2026-11-01"), at("2026-10-31T20:37"))
    assert (c.ended, c.complete, c.note) == (True, True, "")
    # Date-only close dates are midnight: a deal closed on the period's last day reaches it.
    c = coverage(parse_period("2026-09"), at("2026-11-01"), at("2026-09-30"))
    assert (c.complete, c.note) == (True, "")


def test_a_period_that_has_not_ended_says_what_its_figures_cover() -> None:
    c = coverage(parse_period("2026-Q4"), at("2026-11-01"), at("2026-10-31T20:37"))
    assert (c.ended, c.complete) == (False, False)
    assert c.note == (
        "2026-Q4 has not ended at the as-of instant (2026-11-01 00:00:00 UTC): its figures cover "
        "2026-10-01 to 2026-11-01 00:00:00 UTC only and will change."
    )
    # ... and when the data stops well before the as-of instant, says that too.
    c = coverage(parse_period("2026-Q4"), at("2026-12-03T10:29:43"), at("2026-10-31T20:37"))
    assert c.note.endswith(
        "The data ends before that: the newest deal in the data was created or closed 2026-10-31 20:37:00 UTC."
    )


def test_a_period_not_begun_or_beyond_the_data() -> None:
    c = coverage(parse_period("2027-Q2"), at("2026-11-01"), at("2026-10-31"))
    assert (
        c.note
        == "2027-Q2 has not begun at the as-of instant (2026-11-01 00:00:00 UTC): nothing in it is known yet."
    )
    c = coverage(parse_period("2026-11"), at("2027-02-01"), at("2026-10-31T20:37"))
    assert (c.ended, c.complete) == (True, False)
    assert c.note == (
        "2026-11 lies beyond the data: the newest deal in the data was created or closed "
        "2026-10-31 20:37:00 UTC, before 2026-11 began."
    )
    c = coverage(parse_period("2026-Q4"), at("2027-02-01"), at("2026-10-31T20:37"))
    assert c.note == (
        "The data ends within 2026-Q4: the newest deal in the data was created or closed "
        "2026-10-31 20:37:00 UTC; its figures cover 2026-Q4 up to then."
    )
    c = coverage(parse_period("2026-Q3"), at("2026-11-01"), None)
    assert c.note == "2026-Q3 lies beyond the data: there are no deals in the data."
