"""A read scoped to its reader (``--by USER``: SPEC section 9, a partner user sees only its own
partner's) refuses an empty or blank reader: ``--by "$PARTNER_USER"`` with the variable unset
reaches cosell as an empty text, which would read as no reader, the local operator, and show every
partner's registrations, referrals and pay."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app

runner = CliRunner()
READS = [
    ("registrations", "list"),
    ("registrations", "show", "a0RDm0000000001"),
    ("referrals", "list"),
    ("referrals", "show", "REF-000001"),
    ("payouts", "list"),
    ("payouts", "ledger"),
    ("payouts", "statement", "--partner", "001Pa0000000010", "--period", "2026-09"),
]


def invoke(workspace: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--workspace", str(workspace)], env={"COLUMNS": "80"})
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output


@pytest.mark.parametrize("read", READS, ids=[" ".join(r[:2]) for r in READS])
def test_an_empty_reader_is_bad_usage_and_shows_nothing(small_demo: Path, read: tuple[str, ...]) -> None:
    code, everything = invoke(small_demo, *read)
    assert code == 0, everything  # without --by: the local operator reads it all
    for empty in ("", "  "):
        code, out = invoke(small_demo, *read, "--by", empty)
        assert code == 2, out
        assert "--by" in out and "not an empty text" in " ".join(out.split()), out
        # Nothing of what the operator reads is shown: no id of a row.
        assert "a0RDm" not in out and "REF-0" not in out and "PR-0" not in out and "001Pa" not in out, out
