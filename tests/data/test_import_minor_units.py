"""Amounts with more decimal places than their currency's minor unit: zeros are fine, digits are not.

A warehouse's ``decimal(18,2)`` column or a Salesforce export writes every amount with two decimals
whatever the currency, so JPY 573600 arrives as ``573600.00`` (SPEC section 1). The one rule lives
in :mod:`cosell.money`; the import checks it in SQL, and a property test keeps the two in step.
"""

from __future__ import annotations

import csv
import gzip
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from import_fixtures import base_tables, dataset
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.data.load import import_canonical
from cosell.data.validate import significant_fraction_digits_sql
from cosell.errors import ImportFailed, Problem
from cosell.money import fits_minor_unit, significant_fraction_digits
from cosell.store.workspace import open_workspace

runner = CliRunner()


def _opportunities(jpy: str, usd: str) -> list[dict[str, str]]:
    """The base deals with O1 (partner-sourced by P1) in JPY and O2 in USD."""
    rows = [dict(r) for r in base_tables()["opportunities"]]
    rows[0].update(currency="JPY", amount=jpy)
    rows[1].update(currency="USD", amount=usd)
    return rows


def _stored(folder: Path) -> list[tuple[str, Decimal, str]]:
    ws = open_workspace(":memory:")
    import_canonical(ws, folder)
    rows = ws.con.execute(
        "SELECT opportunity_id, amount, currency FROM cur_opportunities ORDER BY 1"
    ).fetchall()
    return [(str(o), Decimal(a), str(c)) for o, a, c in rows]


def _to_parquet_decimal(folder: Path, amounts: dict[str, str]) -> None:
    """Rewrite opportunities.csv as opportunities.parquet with amount a DECIMAL(18,2) column."""
    source = folder / "opportunities.csv"
    cases = " ".join(f"WHEN '{o}' THEN {a}" for o, a in amounts.items())
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * REPLACE ((CASE opportunity_id {cases} END)::DECIMAL(18,2) AS amount) "
        f"FROM read_csv('{source}', all_varchar = true)) TO '{folder / 'opportunities.parquet'}' "
        "(FORMAT parquet)"
    )
    source.unlink()
    described = dict(
        (str(r[0]), str(r[1]))
        for r in con.execute(f"DESCRIBE SELECT * FROM '{folder / 'opportunities.parquet'}'").fetchall()
    )
    assert described["amount"] == "DECIMAL(18,2)"


def test_parquet_decimal_column_with_jpy_and_usd_rows(tmp_path: Path) -> None:
    folder = dataset(tmp_path / "d", opportunities=_opportunities("573600", "1200.50"))
    _to_parquet_decimal(folder, {"O1": "573600", "O2": "1200.50"})
    assert _stored(folder) == [("O1", Decimal("573600"), "JPY"), ("O2", Decimal("1200.50"), "USD")]


def test_parquet_decimal_jpy_deal_is_credited_in_whole_yen(tmp_path: Path) -> None:
    folder = dataset(tmp_path / "d", opportunities=_opportunities("573600", "1200.50"))
    _to_parquet_decimal(folder, {"O1": "573600", "O2": "1200.50"})
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["attribute", "--data", str(folder), "--out", str(out), "--as-of", "2026-10-01T00:00:00Z"]
    )
    assert result.exit_code == 0, result.output
    with (out / "credits.csv").open(newline="") as f:
        credits = [
            (r["opportunity_id"], r["partner_id"], r["amount"], r["currency"]) for r in csv.DictReader(f)
        ]
    assert credits == [("O1", "P1", "573600", "JPY")]


def test_parquet_decimal_jpy_with_a_fraction_is_refused_naming_the_value(tmp_path: Path) -> None:
    folder = dataset(tmp_path / "d", opportunities=_opportunities("573600", "1200.50"))
    _to_parquet_decimal(folder, {"O1": "573600.50", "O2": "1200.50"})
    ws = open_workspace(":memory:")
    with pytest.raises(ImportFailed) as failed:
        import_canonical(ws, folder)
    reason = "has non-zero digits beyond the 0 decimal places JPY allows"
    assert failed.value.problems == [Problem("opportunities.parquet", 1, "amount", "573600.50", reason)]
    assert str(failed.value.problems[0]) == f'opportunities.parquet row 1, amount: "573600.50" {reason}'


@pytest.mark.parametrize("compressed", [False, True], ids=["csv", "csv.gz"])
def test_csv_jpy_with_zero_decimals_is_whole_yen(tmp_path: Path, compressed: bool) -> None:
    folder = dataset(tmp_path, opportunities=_opportunities("573600.00", "1200.5000"))
    if compressed:
        text = (folder / "opportunities.csv").read_text(encoding="utf-8")
        with gzip.open(folder / "opportunities.csv.gz", "wt", encoding="utf-8") as out:
            out.write(text)
        (folder / "opportunities.csv").unlink()
    assert _stored(folder) == [("O1", Decimal("573600"), "JPY"), ("O2", Decimal("1200.50"), "USD")]


def test_csv_jpy_with_a_fraction_is_refused_naming_the_value(tmp_path: Path) -> None:
    folder = dataset(tmp_path, opportunities=_opportunities("573600.50", "1200.501"))
    ws = open_workspace(":memory:")
    with pytest.raises(ImportFailed) as failed:
        import_canonical(ws, folder)
    assert failed.value.problems == [
        Problem(
            "opportunities.csv",
            2,
            "amount",
            "573600.50",
            "has non-zero digits beyond the 0 decimal places JPY allows",
        ),
        Problem(
            "opportunities.csv",
            3,
            "amount",
            "1200.501",
            "has non-zero digits beyond the 2 decimal places USD allows",
        ),
    ]


def test_trailing_zeros_are_the_same_version(tmp_path: Path) -> None:
    ws = open_workspace(":memory:")
    import_canonical(ws, dataset(tmp_path / "a", opportunities=_opportunities("573600", "1200.5")))
    again = import_canonical(
        ws, dataset(tmp_path / "b", opportunities=_opportunities("573600.00", "1200.50"))
    )
    counts = {t.table: t for t in again.tables}["opportunities"]
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 0, 2)


def test_costs_follow_the_same_rule(tmp_path: Path) -> None:
    costs = [
        {"cost_id": "", "period": "2026-Q1", "category": "headcount", "amount": "185000.0000"},
        {"cost_id": "", "period": "2026-Q1", "category": "tech", "amount": "5000.001"},
    ]
    folder = dataset(tmp_path, program_costs=costs)
    ws = open_workspace(":memory:")
    with pytest.raises(ImportFailed) as failed:
        import_canonical(ws, folder)
    assert failed.value.problems == [
        Problem(
            "program_costs.csv",
            3,
            "amount",
            "5000.001",
            "has non-zero digits beyond the 2 decimal places USD allows",
        )
    ]


# Plain decimals as the import's pattern accepts them: sign, digits, optional point and fraction.
_plain_decimals = st.builds(
    lambda sign, whole, point, fraction: f"{sign}{whole}{point}{fraction if point else ''}",
    st.sampled_from(["", "-", "+"]),
    st.from_regex(r"[0-9]{1,14}", fullmatch=True),
    st.sampled_from(["", "."]),
    st.from_regex(r"[0-9]{0,8}", fullmatch=True),
)


_SQL = duckdb.connect()


@settings(max_examples=200, deadline=None)
@given(text=_plain_decimals, currency=st.sampled_from(["JPY", "USD", "KWD", "CLF"]))
def test_sql_and_python_apply_the_same_rule(text: str, currency: str) -> None:
    row = _SQL.execute(f"SELECT {significant_fraction_digits_sql('?')}", [text]).fetchone()
    assert row is not None
    assert int(row[0]) == significant_fraction_digits(text) == significant_fraction_digits(Decimal(text))
    fraction = text.partition(".")[2]
    expected = len(fraction.rstrip("0")) <= {"JPY": 0, "USD": 2, "KWD": 3, "CLF": 4}[currency]
    assert fits_minor_unit(text, currency) == fits_minor_unit(Decimal(text), currency) == expected
