"""Batch engine, step 3: acceleration against direct-only cohort baselines.

One windowed median per cohort level: baseline deals and candidates are stacked in one relation
(candidates carry a NULL duration, so they never count), partitioned by the level's key and the
stage, ordered by close time, over a RANGE frame of ``baseline_window_days``; each candidate reads
the count and median of the direct-only won deals that closed in ``[X - window, X]``. Medians of
integer microseconds are exact in a double below 2^53; we keep twice the median as an integer.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cosell.attribution.engine_base import Placeholders, Runner, instant, lit, union_all
from cosell.attribution.engine_plan import STAGE_ENTRIES_OUTPUT

LEVELS = (("1", ("segment", "band")), ("2", ("segment",)), ("3", ()))


def _periods(x_us: ir.IntegerValue, p: Placeholders) -> tuple[ir.StringValue, ir.StringValue]:
    """Month label and fiscal-quarter label of an instant (as :func:`cosell.periods.rate_periods`)."""
    ts = instant(x_us)
    year = ts.year()
    mon = ts.month()
    month_label = ts.strftime("%Y-%m")
    off = ((mon - p.fiscal_start_month) % 12 + 12) % 12
    fiscal_year = (year * 12 + mon - 1 - off + 11) // 12
    quarter_label = fiscal_year.cast("string").lpad(4, "0") + "-Q" + (off // 3 + 1).cast("string")
    return month_label, quarter_label


def with_band(run: Runner, p: Placeholders, deals: ir.Table) -> ir.Table:
    """Deals with ``band``: amount converted at its close-period rate, banded by the policy edges."""
    fx = run.table("v_fx_rates")
    rates = fx.select(fx_currency=fx.currency, fx_period=fx.period, rate=fx.rate)
    month_label, quarter_label = _periods(deals.x_us, p)
    d = deals.mutate(month_label=month_label, quarter_label=quarter_label)
    rm = rates.rename(m_currency="fx_currency", m_period="fx_period", m_rate="rate")
    rq = rates.rename(q_currency="fx_currency", q_period="fx_period", q_rate="rate")
    d = d.left_join(rm, (d.currency == rm.m_currency) & (d.month_label == rm.m_period))
    d = d.left_join(rq, (d.currency == rq.q_currency) & (d.quarter_label == rq.q_period))
    rate = ibis.ifelse(
        d.currency == p.workspace_currency, lit(1, "decimal(38,12)"), ibis.coalesce(d.m_rate, d.q_rate)
    )
    d = d.mutate(rate=rate)
    # DECIMAL(18,4) x DECIMAL(38,12) is an exact DECIMAL(38,16): a 14-digit amount at an 8-digit
    # rate fits (as cosell.fx.convert_sql); two DECIMAL(38,12) would overflow past 14 digits.
    converted = d.amount.cast("decimal(18,4)") * d.rate
    band = lit(0, "int64")
    for edge in p.band_edges:
        band = band + ibis.ifelse(converted >= edge, 1, 0)
    band = ibis.ifelse(d.rate.isnull(), ibis.null("int64"), band)
    return d.select(*deals.columns, band=band, month_label="month_label", quarter_label="quarter_label")


def check_rates(run: Runner, p: Placeholders, candidates: ir.Table, baseline: ir.Table) -> None:
    """A missing FX rate is an input error where a band is needed: a candidate's own amount, and a
    baseline deal of a candidate's segment inside its window (level 1 compares bands).

    When several are missing, the error names the one the reference implementation meets first:
    the first candidate by opportunity_id that needs one, its own rate before its window's, the
    window's earliest-closing deal first (ties by opportunity_id), and names the deal whose band
    needs it (:func:`cosell.attribution.timeline.amount_band` says the same)."""
    label = ("currency", "month_label", "quarter_label")
    own = candidates.filter(candidates.band.isnull())
    own = own.select(
        *label, c_opp=own.opp_id, seq=lit(0, "int64"), b_x=ibis.null("int64"), b_opp=ibis.null("string")
    )
    b = baseline.filter(baseline.band.isnull()).rename(b_opp="opp_id", b_x="x_us", b_segment="segment")
    c = candidates.select(c_opp="opp_id", c_x="x_us", c_segment="segment")
    used = b.join(c, (b.b_segment == c.c_segment) & (b.b_x >= c.c_x - p.baseline_us) & (b.b_x <= c.c_x))
    used = used.select(*label, "c_opp", seq=lit(1, "int64"), b_x=used.b_x, b_opp=used.b_opp)
    # The sort and the limit of the check are one query, so the row named is the first in order;
    # it names the deal whose band needs the rate (the baseline deal's own, or the candidate's).
    first = union_all([own, used]).order_by(["c_opp", "seq", "b_x", "b_opp"])
    first = first.mutate(deal=ibis.coalesce(first.b_opp, first.c_opp))
    reason = "no rate for {currency} in {month_label} or {quarter_label}: needed by deal {deal}'s amount band"
    run.check(first, ("fx_rates", "rate", None, reason))


def build_acceleration(
    run: Runner, p: Placeholders, deals: ir.Table, candidates: ir.Table, baseline: ir.Table
) -> ir.Table:
    """Per candidate (won, not sourced, with E): cohort, size, twice the median, remaining, ACC.

    ``candidates``: opp_id, c_us, x_us, e_us, first_stage, segment, band.
    ``baseline``: opp_id, c_us, x_us, segment, band (direct-only won deals).
    Returns opp_id, cohort, cohort_size, m2, remaining, acc, whole_cycle, no_baseline, s (the stage
    at E) and first_t (its first entry).
    """
    tl = run.table("_cosell_eng_timeline")
    # The stage O was in at E, and the first time O entered it.
    ct = tl.join(candidates.select("opp_id", "c_us", "e_us", "first_stage"), "opp_id")
    at_e = ct.filter(ct.t <= ct.e_us)
    latest = ibis.row_number().over(group_by=at_e.opp_id, order_by=[ibis.desc(at_e.seq)])
    at_e = at_e.mutate(pos=latest).filter(lambda x: x.pos == 0).select("opp_id", stage_at_e=lambda x: x.stage)
    c = candidates.left_join(at_e, "opp_id").drop("opp_id_right")
    c = c.mutate(s=ibis.ifelse(c.e_us <= c.c_us, c.first_stage, ibis.coalesce(c.stage_at_e, c.first_stage)))
    # The first entry into each stage, of the candidates and the baseline deals only (a fraction
    # of the deals' timelines), read by both.
    needed = union_all([candidates.select("opp_id"), baseline.select("opp_id")])
    tl_needed = tl.semi_join(needed, "opp_id")
    firsts = run.step(
        "acc_firsts", tl_needed.group_by(["opp_id", "stage"]).aggregate(first_t=tl_needed.t.min())
    )
    c = c.left_join(firsts, (c.opp_id == firsts.opp_id) & (c.s == firsts.stage)).drop("opp_id_right", "stage")
    c = run.step("acc_cand", c.drop("stage_at_e"))

    b_stage = baseline.join(firsts, "opp_id")
    base_stage = b_stage.select(
        opp_id=ibis.null("string"),
        segment=b_stage.segment,
        band=b_stage.band,
        s=b_stage.stage,
        x=b_stage.x_us,
        dur=b_stage.x_us - b_stage.first_t,
    )
    base_cycle = baseline.select(
        opp_id=ibis.null("string"),
        segment=baseline.segment,
        band=baseline.band,
        x=baseline.x_us,
        dur=baseline.x_us - baseline.c_us,
    )
    if run.dialect.client_median:
        # The client's medians pay for loading numpy and Arrow (about half a second): only worth
        # it with many candidates. Both ways make the same tables (test_dialect_paths).
        run.guard("client_median", c.aggregate(many=c.count() >= run.dialect.client_median_min_rows))
        with run.only("client_median"):
            stage_stats, cycle_stats = _client_medians(run, base_stage, base_cycle, c)
        with run.only("client_median", False):
            _engine_medians(run, base_stage, base_cycle, c, p)
    else:
        stage_stats, cycle_stats = _engine_medians(run, base_stage, base_cycle, c, p)
    # Kept for the store: the baseline deals' first entries (their rows in every stage cohort) and
    # each candidate's into its stage s, which an incremental re-run reads for the deals that did
    # not change (docs/incremental.md). The two sets are apart: a candidate is partner-engaged.
    # Made after the medians' step: it reads none of their tables, so it runs beside the client's.
    entries = firsts.semi_join(baseline.select("opp_id"), "opp_id").select("opp_id", "stage", "first_t")
    run.output(STAGE_ENTRIES_OUTPUT, union_all([entries, c.select("opp_id", stage=c.s, first_t=c.first_t)]))

    j = c.join(stage_stats, "opp_id").join(cycle_stats, "opp_id")
    min_n = p.min_cohort_size
    choices = [("stage", lvl) for lvl, _ in LEVELS] + [("cycle", lvl) for lvl, _ in LEVELS]
    cohort = ibis.cases(
        *((j[f"{kind}_n{lvl}"] >= min_n, f"{kind}:{lvl}") for kind, lvl in choices),
        else_=ibis.null("string"),
    )
    size = ibis.cases(
        *((j[f"{kind}_n{lvl}"] >= min_n, j[f"{kind}_n{lvl}"]) for kind, lvl in choices),
        else_=ibis.null("int64"),
    )
    m2 = ibis.cases(
        *((j[f"{kind}_n{lvl}"] >= min_n, j[f"{kind}_m{lvl}"]) for kind, lvl in choices),
        else_=ibis.null("float64"),
    )
    j = j.mutate(cohort=cohort, cohort_size=size.cast("int64"), m2=(m2 * 2).cast("int64"))
    whole = j.cohort.startswith("cycle")
    remaining = ibis.ifelse(
        j.cohort.isnull(), ibis.null("int64"), ibis.ifelse(whole, j.x_us - j.c_us, j.x_us - j.first_t)
    )
    j = j.mutate(remaining=remaining, whole_cycle=ibis.coalesce(whole, False), no_baseline=j.cohort.isnull())
    keep_numerator, keep_denominator = p.keep
    big = "decimal(38,0)"
    r2 = (j.remaining * 2).cast(big)
    fast_pct = r2 * keep_denominator <= j.m2.cast(big) * keep_numerator
    fast_days = (j.m2 - j.remaining * 2) >= p.twice_min_days_us
    j = j.mutate(acc=ibis.coalesce(fast_pct & fast_days, False))
    out = j.select("opp_id", "cohort", "cohort_size", "m2", "remaining", "acc", "whole_cycle", "no_baseline",
                   "s", "first_t")  # fmt: skip  # s and its first entry S: stored as evidence (engine_record)
    return run.step("acceleration", out)


def _engine_medians(
    run: Runner, base_stage: ir.Table, base_cycle: ir.Table, c: ir.Table, p: Placeholders
) -> tuple[ir.Table, ir.Table]:
    """The counts and medians by the engine: over a RANGE window, or per group where the
    dialect has no windowed median."""
    stage_rows = _with_candidates(base_stage, c.select("opp_id", "segment", "band", "s", x=c.x_us))
    cycle_rows = _with_candidates(base_cycle, c.select("opp_id", "segment", "band", x=c.x_us))
    return _windowed(run, "acc_stage", stage_rows, ("s",), p), _windowed(run, "acc_cycle", cycle_rows, (), p)


def _client_medians(
    run: Runner, base_stage: ir.Table, base_cycle: ir.Table, cand: ir.Table
) -> tuple[ir.Table, ir.Table]:
    """The same counts and medians computed in the client (:mod:`cosell.attribution.engine_median`)
    from the baseline rows and the candidates, fetched once: exact integer order statistics, far
    cheaper than a windowed median that evaluates every baseline row's frame too."""
    from cosell.attribution.engine_median import stats_columns

    run.fetch("median_stage_base", base_stage.select("segment", "band", "s", "x", "dur"))
    run.fetch("median_cycle_base", base_cycle.select("segment", "band", "x", "dur"))
    run.fetch("median_cand", cand.select("opp_id", "segment", "band", "s", x=cand.x_us))
    made = run.python(
        "cohort_medians",
        {"acc_stage": ibis.schema(stats_columns("stage")), "acc_cycle": ibis.schema(stats_columns("cycle"))},
    )
    return made["acc_stage"], made["acc_cycle"]


# Candidates enter the windows as a pair of sentinels, one below and one above every duration:
# symmetric padding leaves the median of the real durations unchanged, and a window without NULLs
# keeps DuckDB on its fast windowed-quantile path (NULLs or FILTER make it quadratic).
_SENTINEL = 2**60


def _with_candidates(base: ir.Table, cand: ir.Table) -> ir.Table:
    base = base.mutate(real=ibis.literal(1, "int64"))
    low = cand.mutate(dur=ibis.literal(-_SENTINEL, "int64"), real=ibis.literal(0, "int64"))
    high = cand.mutate(
        opp_id=ibis.null("string"), dur=ibis.literal(_SENTINEL, "int64"), real=ibis.literal(0, "int64")
    )
    return union_all([base, low.select(*base.columns), high.select(*base.columns)])


def _windowed(run: Runner, name: str, rows: ir.Table, extra: tuple[str, ...], p: Placeholders) -> ir.Table:
    """Count and median of durations over ``[x - window, x]`` for each candidate row, per level."""
    kind = "stage" if extra else "cycle"
    rows = run.step(name + "_rows", rows)
    if not run.dialect.windowed_median:
        return run.step(name, _grouped(rows, kind, extra, p))
    stats: dict[str, ir.Value] = {}
    for lvl, keys in LEVELS:
        w = ibis.range_window(
            preceding=p.baseline_us,
            following=0,
            group_by=[rows[k] for k in (*keys, *extra)],
            order_by=rows.x,
        )
        stats[f"{kind}_n{lvl}"] = rows.real.sum().over(w)
        stats[f"{kind}_m{lvl}"] = rows.dur.median().over(w).cast("float64")
    out = rows.mutate(**stats)
    out = out.filter(out.opp_id.notnull()).select("opp_id", *stats)
    return run.step(name, out)


def _grouped(rows: ir.Table, kind: str, extra: tuple[str, ...], p: Placeholders) -> ir.Table:
    """The same counts and medians for an engine without a windowed median (PostgreSQL): each
    candidate joined to the baseline deals of its level inside its window, a grouped median per
    candidate, joined back. The window's frame is the same: same keys (NULL matching NULL, as a
    window partition groups them), ``x`` in ``[x - window, x]``; the sentinels are left out."""
    cand = rows.filter(rows.opp_id.notnull())
    base = rows.filter(rows.real == 1)
    out = cand.select("opp_id")
    for lvl, keys in LEVELS:
        on = [cand[k].identical_to(base[k]) for k in (*keys, *extra)]
        on += [base.x >= cand.x - p.baseline_us, base.x <= cand.x]
        inside = cand.join(base, on).select(c_opp=cand.opp_id, dur=base.dur)
        stats = inside.group_by("c_opp").aggregate(
            **{
                f"{kind}_n{lvl}": inside.dur.count().cast("int64"),
                f"{kind}_m{lvl}": inside.dur.median().cast("float64"),
            }
        )
        out = out.left_join(stats, out.opp_id == stats.c_opp).drop("c_opp")
        out = out.mutate(**{f"{kind}_n{lvl}": ibis.coalesce(out[f"{kind}_n{lvl}"], 0)})
    return out
