"""Slack markup to plain text, form layouts, and exact instants from ts strings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cosell.referrals.slack_markup import form_lines, has_labelled_field, plain_text
from cosell.referrals.slack_messages import ts_instant

HANDLES = {"U01": "alice.partner"}


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("*Company:* Globex", "Company: Globex"),
        ("<mailto:jane@globex.com|jane@globex.com>", "jane@globex.com"),
        ("<mailto:jane@globex.com>", "jane@globex.com"),
        ("<https://www.globex.com|globex.com>", "globex.com"),
        ("<https://www.globex.com>", "https://www.globex.com"),
        ("Hi <@U01>, and <@U99>", "Hi @alice.partner, and @U99"),  # an unknown id stays an id
        ("<@U01|alice>", "@alice.partner"),
        ("see <#C01|partners> <!here> <!subteam^S01|@sales>", "see #partners @here @sales"),
        ("Smith &amp; Sons &lt;b&gt; &amp;lt;", "Smith & Sons <b> &lt;"),
        ("_Jane_ ~Doe~ `code` ```block```", "Jane Doe code block"),
        (
            "jane_doe@globex.com and snake_case_name and 2*3*4",
            "jane_doe@globex.com and snake_case_name and 2*3*4",
        ),
        ("line one\n*line two*", "line one\nline two"),
    ],
)
def test_plain_text(text: str, plain: str) -> None:
    assert plain_text(text, HANDLES) == plain


def test_a_form_label_alone_on_its_line_takes_the_next_line() -> None:
    lines = [
        "New referral",
        "Company name",
        "",
        "Umbrella Corp",
        "Email:",
        "a@b.com",
        "Just words",
        "Contact: Jo",
    ]
    assert form_lines(lines) == [
        "New referral",
        "Company name: Umbrella Corp",
        "",
        "",
        "Email: a@b.com",
        "",
        "Just words",
        "Contact: Jo",
    ]
    # a label followed by another label is not a value
    assert form_lines(["Company", "Contact: Jo"]) == ["Company", "Contact: Jo"]
    assert has_labelled_field(["Company name: Umbrella"]) and not has_labelled_field(
        ["Notes: soon", "https://x.com"]
    )


@pytest.mark.parametrize(
    ("ts", "instant"),
    [
        ("1772460000.000100", datetime(2026, 3, 2, 14, 0, 0, 100, tzinfo=UTC)),
        ("1772465400.000007", datetime(2026, 3, 2, 15, 30, 0, 7, tzinfo=UTC)),
        ("1772480000.5", datetime(2026, 3, 2, 19, 33, 20, 500000, tzinfo=UTC)),
        ("1772480000", datetime(2026, 3, 2, 19, 33, 20, tzinfo=UTC)),
        ("0.999999", datetime(1970, 1, 1, 0, 0, 0, 999999, tzinfo=UTC)),
    ],
)
def test_ts_instant_is_exact(ts: str, instant: datetime) -> None:
    assert ts_instant(ts) == instant


@pytest.mark.parametrize(
    "ts", ["", "abc", "1.1234567", "-1.000001", "1e9", "17:30", " 1.5", "253402300800", "999999999999.9"]
)
def test_ts_instant_refuses_what_is_not_a_ts(ts: str) -> None:
    # Found by fuzzing: a ts past the year 9999 raised OverflowError, shown as a traceback; it is
    # outside the supported years 1900 to 2999 (cosell.instants), like one past 2999.
    with pytest.raises(ValueError, match=r"is not a Slack ts|is outside the years 1900 to 2999"):
        ts_instant(ts)


# Every second from the epoch to the last of the supported years (2999-12-31T23:59:59Z).
@given(st.integers(min_value=0, max_value=32_503_679_999), st.integers(min_value=0, max_value=999_999))
def test_ts_instant_keeps_every_microsecond(seconds: int, micro: int) -> None:
    found = ts_instant(f"{seconds}.{micro:06d}")
    assert found.microsecond == micro
    assert found.replace(microsecond=0).timestamp() == seconds  # whole seconds: exact in a float
    assert found.tzinfo is UTC
