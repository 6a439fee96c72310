"""Money in the workspace currency, converted at the rate of a period, in the database.

SPEC section 5: each deal's amount is converted once at the rate of the period in which it was
created (pipeline) or closed (revenue), never at today's rate: the month's rate, else the fiscal
quarter's; the workspace currency's rate is 1; a missing rate is an input error naming the currency
and the period. The converted amount is rounded once, half away from zero, to the workspace
currency's minor unit, and every sum adds these rounded amounts.
"""

from __future__ import annotations

from cosell.engine import Engine
from cosell.errors import CosellError
from cosell.money import minor_unit
from cosell.policy import Policy
from cosell.report_model import counted


class MissingRate(CosellError):
    """No FX rate for a currency in a period (neither the month nor its quarter)."""


def fiscal_quarter_sql(instant_sql: str, start_month: int) -> str:
    """SQL for the fiscal quarter label (``2026-Q3``) of a TIMESTAMPTZ expression (UTC session)."""
    m = f"month({instant_sql})"
    offset = f"(({m} - {start_month} + 12) % 12)"
    year = (
        f"year({instant_sql})"
        if start_month == 1
        else f"(year({instant_sql}) + CASE WHEN {m} >= {start_month} THEN 1 ELSE 0 END)"
    )
    return f"(CAST({year} AS VARCHAR) || '-Q' || CAST({offset} // 3 + 1 AS VARCHAR))"


def converted_amounts_sql(
    source_sql: str, instant_column: str, policy: Policy, fx_table: str = "v_fx_rates"
) -> str:
    """SELECT over ``source_sql`` (with ``opportunity_id``, ``amount``, ``currency`` and
    ``instant_column``) adding ``rate_period``, ``rate`` (NULL when missing) and ``amount_ws`` (the
    amount in the workspace currency, rounded half away from zero to its minor unit)."""
    ws = policy.workspace_currency
    month = f"strftime(s.{instant_column}, '%Y-%m')"
    quarter = fiscal_quarter_sql(f"s.{instant_column}", policy.fiscal_year_start_month)
    rate = f"CASE WHEN s.currency = '{ws}' THEN CAST(1 AS DECIMAL(38,12)) ELSE coalesce(fm.rate, fq.rate) END"
    return f"""
        SELECT s.*,
            CASE WHEN s.currency = '{ws}' THEN NULL WHEN fm.rate IS NOT NULL THEN {month} ELSE {quarter} END
                AS rate_period,
            {rate} AS rate,
            {convert_sql("s.amount", rate, policy)} AS amount_ws
        FROM ({source_sql}) s
        LEFT JOIN {fx_table} fm ON fm.currency = s.currency AND fm.period = {month}
        LEFT JOIN {fx_table} fq ON fq.currency = s.currency AND fq.period = {quarter}
    """


def check_rates(con: Engine, converted_sql: str) -> None:
    """Raise :class:`MissingRate` naming the first currency and period without a rate."""
    missing = con.execute(
        f"SELECT currency, rate_period, count(*) FROM ({converted_sql}) WHERE rate IS NULL "
        "GROUP BY ALL ORDER BY currency, rate_period LIMIT 1"
    ).fetchall()
    if missing:
        currency, period, deals = missing[0]
        raise MissingRate(
            f"fx_rates has no rate for {currency} in {period} (nor its month): needed by {counted(deals, 'deal')}"
        )


def month_index_sql(instant_sql: str) -> str:
    """SQL for an instant's month as one integer, ``year * 12 + month - 1`` (UTC session): months
    compare, group and join as integers, and every period is a range of them."""
    return f"(year({instant_sql}) * 12 + month({instant_sql}) - 1)"


def monthly_rates_sql(pairs_sql: str, policy: Policy, fx_table: str = "v_fx_rates") -> str:
    """SELECT over ``pairs_sql`` (distinct ``currency``, ``month_index``) adding ``month`` and
    ``quarter`` (the labels rates are looked up under) and ``rate``: the month's rate, else the
    fiscal quarter's, 1 for the workspace currency, NULL when missing. The same lookup as
    :func:`converted_amounts_sql`, made once per currency and month instead of once per deal, so a
    million deals join a small table on two integers-and-codes."""
    ws = policy.workspace_currency
    at = "make_timestamptz(CAST(p.month_index // 12 AS BIGINT), CAST(p.month_index % 12 + 1 AS BIGINT), 1, 0, 0, 0)"
    quarter = fiscal_quarter_sql(at, policy.fiscal_year_start_month)
    return f"""
        SELECT p.currency, p.month_index, strftime({at}, '%Y-%m') AS month, {quarter} AS quarter,
            CASE WHEN p.currency = '{ws}' THEN CAST(1 AS DECIMAL(38,12)) ELSE coalesce(fm.rate, fq.rate) END
                AS rate
        FROM ({pairs_sql}) p
        LEFT JOIN {fx_table} fm ON fm.currency = p.currency AND fm.period = strftime({at}, '%Y-%m')
        LEFT JOIN {fx_table} fq ON fq.currency = p.currency AND fq.period = {quarter}
    """


def convert_sql(amount_sql: str, rate_sql: str, policy: Policy) -> str:
    """SQL for an amount converted at a rate and rounded once, half away from zero, to the workspace
    currency's minor unit (DuckDB's ROUND on DECIMAL); :func:`converted_amounts_sql` uses it too.

    The amount keeps its stored type DECIMAL(18,4) (money has at most four decimals) and the rate
    DECIMAL(38,12), so the exact product is a DECIMAL(38,16) with room for 22 integer digits: a
    14-digit amount at a rate in the millions does not overflow (DECIMAL(38,12) times
    DECIMAL(38,12) would leave 14)."""
    digits = minor_unit(policy.workspace_currency)
    product = f"CAST({amount_sql} AS DECIMAL(18,4)) * CAST({rate_sql} AS DECIMAL(38,12))"
    return f"CAST(round({product}, {digits}) AS DECIMAL(38,{digits}))"
