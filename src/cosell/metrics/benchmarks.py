"""Published benchmark ranges of the CFO's numbers and a plain-words verdict against them.

SPEC section 5 quotes the ranges partner programs are usually measured against: partner-sourced
pipeline 15-25% of all pipeline created, partner-influenced share of closed-won revenue 20-35%,
partner deals closing 25-40% faster than direct ones, and partner revenue costing 40-60% less per
dollar than direct revenue. A verdict compares the value as printed (a percent to one decimal,
:func:`cosell.report_model.as_printed`; the figure builder rounds it) with the range, ends
included: ``below``, ``within`` or ``above``.

>>> verdict(Decimal("0.18"), BANDS["sourced_pipeline_share"])
'within'
>>> verdict_words("sourced_pipeline_share", "below")
'below the 15-25% benchmark for partner-sourced pipeline'
"""

from __future__ import annotations

from decimal import Decimal

from cosell.report_model import Band, Verdict

# Said in a CFO's words: where the range comes from, not which page of cosell's own specification.
_SOURCE = "typical range for established B2B partner programs, as quoted in the cosell metrics guide"

BANDS: dict[str, Band] = {
    "sourced_pipeline_share": Band(Decimal("0.15"), Decimal("0.25"), _SOURCE),
    "influenced_revenue_share": Band(Decimal("0.20"), Decimal("0.35"), _SOURCE),
    "cycle_reduction_pct": Band(Decimal("0.25"), Decimal("0.40"), _SOURCE),
    "cost_saving": Band(Decimal("0.40"), Decimal("0.60"), _SOURCE),
}

# What each range measures, in the words that follow "the 15-25% benchmark for ...".
_SUBJECT = {
    "sourced_pipeline_share": "partner-sourced pipeline",
    "influenced_revenue_share": "the partner-influenced share of closed-won revenue",
    "cycle_reduction_pct": "how much faster partner deals close",
    "cost_saving": "how much cheaper a partner dollar is than a direct one",
}


def verdict(value: Decimal | None, band: Band | None) -> Verdict | None:
    """``below``, ``within`` or ``above`` the band (ends included); None without a value or band."""
    if value is None or band is None:
        return None
    if value < band.low:
        return "below"
    if value > band.high:
        return "above"
    return "within"


def _percent(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}"


def band_text(band: Band) -> str:
    """``15-25%``."""
    return f"{_percent(band.low)}-{_percent(band.high)}%"


def verdict_words(key: str, value_verdict: Verdict | None) -> str:
    """The verdict as a phrase a CFO reads, e.g. ``within the 20-35% benchmark for ...``."""
    band = BANDS[key]
    subject = _SUBJECT[key]
    if value_verdict is None:
        return f"no value to compare with the {band_text(band)} benchmark for {subject}"
    return f"{value_verdict} the {band_text(band)} benchmark for {subject}"
