"""Every golden case through the reference implementation: attribution and credits, row for row."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from golden import GOLDEN_DIR, as_dicts, case_names, expected, load_case, run_case


@pytest.mark.parametrize("name", case_names())
def test_golden_case(name: str) -> None:
    case = load_case(name)
    rows, credits = run_case(case)
    want_rows, want_credits = expected(case)
    assert want_rows, f"{name}: expected_attribution.csv is empty"
    assert as_dicts(rows, list(want_rows[0])) == want_rows
    columns = ["opportunity_id", "partner_id", "role", "share", "amount", "currency"]
    assert as_dicts(credits, columns) == want_credits


def test_every_case_has_a_readme_line() -> None:
    readme = (GOLDEN_DIR / "README.md").read_text()
    for name in case_names():
        assert f"`{name}`" in readme, name
