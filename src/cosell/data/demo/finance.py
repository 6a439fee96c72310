"""Exchange rates and the cost tables of the demo: fx_rates, program_costs and direct_costs.

Costs are set from the designed closed-won revenue of each quarter (partner-attributed for the program,
direct for the direct motion) so that the program costs about 0.24 per partner dollar and the direct
motion about 0.52 per direct dollar: a partner dollar 40 to 60% cheaper, as in mature programs.
The last, partial quarter (2026-Q4, October only) has monthly rows and no incentives row, so a report
can fall back on ledger payouts there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from cosell.data.demo import csvout, draws
from cosell.data.demo.clock import AS_OF, FINANCE, SPAN_START, month_of, quarter_of, stream

FIRST_MONTH = int(month_of(np.array([SPAN_START]))[0]) - 6  # 2024-01: six months of older rates
LAST_MONTH = int(month_of(np.array([AS_OF - 1]))[0])  # 2026-10
FX_START = {"EUR": 1.085, "GBP": 1.270}
FX_BOUNDS = {"EUR": (1.02, 1.18), "GBP": (1.20, 1.36)}
RATE_DIGITS = 6

PROGRAM_COST_PER_PARTNER_DOLLAR = 0.24
DIRECT_COST_PER_DIRECT_DOLLAR = 0.52
PROGRAM_SPLIT = {"headcount": 0.50, "tech": 0.12, "incentives": 0.28, "travel": 0.10}


@dataclass(frozen=True)
class FxTable:
    """Monthly rates in millionths of a US dollar per unit, for USD (always 1), EUR and GBP."""

    rates: np.ndarray  # (3, months) int64, row order of names.CURRENCIES

    def rate(self, currency: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        month = np.clip(month_of(seconds) - FIRST_MONTH, 0, self.rates.shape[1] - 1)
        return np.asarray(self.rates[currency, month])


def _period_month(month: int) -> str:
    return f"{1970 + month // 12}-{month % 12 + 1:02d}"


def _period_quarter(quarter: int) -> str:
    return f"{2000 + quarter // 4}-Q{quarter % 4 + 1}"


def build_fx(out_dir: Path, seed: int) -> tuple[FxTable, int]:
    """Draw monthly EUR and GBP rates (random walks) and write fx_rates.csv."""
    rng = stream(seed, FINANCE, 0)
    months = LAST_MONTH - FIRST_MONTH + 1
    rates = np.full((3, months), 10**RATE_DIGITS, dtype=np.int64)
    for row, code in ((1, "EUR"), (2, "GBP")):
        low, high = FX_BOUNDS[code]
        level = FX_START[code]
        for m in range(months):
            level = min(high, max(low, level * float(draws.exp(rng.normal(0.0, 0.012)))))
            rates[row, m] = round(level * 10**RATE_DIGITS)
    currency = np.repeat(np.array([1, 2]), months)
    month = np.tile(np.arange(FIRST_MONTH, LAST_MONTH + 1), 2)
    with csvout.TableWriter(out_dir, "fx_rates") as w:
        w.write(
            {
                "currency": csvout.pick(("USD", "EUR", "GBP"), currency),
                "period": pa.array([_period_month(int(m)) for m in month], pa.string()),
                "rate": csvout.money(rates[1:].ravel(), RATE_DIGITS),
            }
        )
        return FxTable(rates), w.rows


def write_costs(
    out_dir: Path, seed: int, close: np.ndarray, amount_usd: np.ndarray, won: np.ndarray, partner: np.ndarray
) -> tuple[int, int]:
    """Write program_costs.csv and direct_costs.csv from the designed won revenue per quarter."""
    rng = stream(seed, FINANCE, 1)
    first_q = int(quarter_of(np.array([SPAN_START]))[0])
    last_q = int(quarter_of(np.array([AS_OF - 1]))[0])
    n_q = last_q - first_q + 1
    q = quarter_of(close[won]) - first_q
    usd = amount_usd[won].astype(np.float64) / 100.0
    is_partner = partner[won]
    partner_rev = np.bincount(q[is_partner], weights=usd[is_partner], minlength=n_q)[:n_q]
    direct_rev = np.bincount(q[~is_partner], weights=usd[~is_partner], minlength=n_q)[:n_q]
    # A ramping program still pays its people: never below a third of the average quarter.
    partner_base = np.maximum(partner_rev, partner_rev.mean() / 3)
    direct_base = np.maximum(direct_rev, direct_rev.mean() / 3)

    def cents(dollars: float) -> int:
        return round(dollars / 100.0) * 10_000  # whole hundreds of dollars

    program: list[tuple[str, str, str, int]] = []
    direct: list[tuple[str, str, int]] = []
    for i in range(n_q):
        quarter = first_q + i
        label = _period_quarter(quarter)
        partial = quarter == last_q
        total = partner_base[i] * PROGRAM_COST_PER_PARTNER_DOLLAR * rng.uniform(0.92, 1.08)
        months = [quarter * 3 + 360 + k for k in range(3)]
        months = [m for m in months if m <= LAST_MONTH]
        for category, share in PROGRAM_SPLIT.items():
            amount = total * share * rng.uniform(0.95, 1.05)
            if category == "incentives" and partial:
                continue  # not yet booked: payouts from the ledger stand in
            if category == "tech" or partial:
                for m in months:
                    code = {"headcount": "HC", "tech": "TECH", "travel": "TRV"}[category]
                    period = _period_month(m)
                    program.append((f"PGC-{period}-{code}", period, category, cents(amount / len(months))))
            else:
                code = {"headcount": "HC", "incentives": "INC", "travel": "TRV"}[category]
                program.append((f"PGC-{label}-{code}", label, category, cents(amount)))
        if label.endswith("Q2") and not partial:
            program.append((f"PGC-{label}-SUMMIT", label, "other", cents(total * 0.04)))
        direct_total = direct_base[i] * DIRECT_COST_PER_DIRECT_DOLLAR * rng.uniform(0.92, 1.08)
        if partial:
            for m in months:
                direct.append((f"DC-{_period_month(m)}", _period_month(m), cents(direct_total / len(months))))
        else:
            direct.append((f"DC-{label}", label, cents(direct_total)))
    with csvout.TableWriter(out_dir, "program_costs") as w:
        w.write(
            {
                "cost_id": pa.array([r[0] for r in program], pa.string()),
                "period": pa.array([r[1] for r in program], pa.string()),
                "category": pa.array([r[2] for r in program], pa.string()),
                "amount": csvout.money(np.array([r[3] for r in program], dtype=np.int64)),
            }
        )
        n_program = w.rows
    with csvout.TableWriter(out_dir, "direct_costs") as w:
        w.write(
            {
                "cost_id": pa.array([r[0] for r in direct], pa.string()),
                "period": pa.array([r[1] for r in direct], pa.string()),
                "amount": csvout.money(np.array([r[2] for r in direct], dtype=np.int64)),
            }
        )
        return n_program, w.rows
