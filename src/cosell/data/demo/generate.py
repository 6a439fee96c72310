"""Write a whole demo dataset: the cast, the plan, the chunks, the finance tables and the manifest."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

import numpy as np

from cosell.data.demo import csvout
from cosell.data.demo.chunk import Counters, open_chunk
from cosell.data.demo.clock import AS_OF, CHUNK, DATA_START, SPAN_END, SPAN_START, instant, stream
from cosell.data.demo.deals import TRUTH_COLUMNS, write_deals
from cosell.data.demo.finance import build_fx, write_costs
from cosell.data.demo.leads import write_leads, write_registrations
from cosell.data.demo.overlap import write_partner_accounts
from cosell.data.demo.plan import DIRECT, PLANT_KINDS, WON, build_plan
from cosell.data.demo.touches import write_touches
from cosell.data.demo.world import build_world
from cosell.instants import format_instant
from cosell.outfiles import write_file
from cosell.store.schema import TABLE_NAMES

CHUNK_SIZE = 20_000  # deals per chunk: part of the output's definition, do not change per run
CHUNKED_TABLES = (
    "leads",
    "deal_registrations",
    "touches",
    "opportunities",
    "stage_history",
    "field_history",
    "opportunity_partners",
)
# The most opportunities a dataset can hold: their ids carry ten digits (006Dm0000000042).
MAX_SIZE = 9_999_999_999
TRUTH_FILE = "demo_truth"
MANIFEST_FILE = "demo_manifest.json"


@dataclass(frozen=True)
class DemoManifest:
    """What a generated demo dataset holds.

    ``planted`` maps each data-hygiene failure kind to the ids of the opportunities it was planted on
    (``confirmed_after_close`` lists won deals whose partner_source a rep confirmed only after the
    close: stage-gate violations that are not reconciliation findings). ``as_of`` is the instant the
    reports should be run at; ``data_start`` is the earliest instant in the data.
    """

    out_dir: Path
    size: int
    seed: int
    counts: Mapping[str, int]
    planted: Mapping[str, tuple[str, ...]]
    span_start: datetime
    span_end: datetime
    data_start: datetime
    as_of: datetime

    def to_json(self) -> str:
        return json.dumps(
            {
                "size": self.size,
                "seed": self.seed,
                "counts": dict(self.counts),
                "planted": {k: list(v) for k, v in self.planted.items()},
                "span_start": format_instant(self.span_start),
                "span_end": format_instant(self.span_end),
                "data_start": format_instant(self.data_start),
                "as_of": format_instant(self.as_of),
            },
            indent=2,
            sort_keys=True,
        )


def generate_dataset(
    out_dir: Path, size: int = 3000, seed: int = 7, progress: Callable[[int], None] | None = None
) -> DemoManifest:
    """Write a realistic canonical dataset of ``size`` opportunities to ``out_dir``.

    One CSV per table of SPEC section 1, plus ``demo_truth.csv`` (each deal's designed origin and
    planted failure) and ``demo_manifest.json``. The same ``size`` and ``seed`` give byte-identical
    files. ``progress`` is called with the number of opportunities finished at each step.
    Memory stays bounded: deals are written in chunks of 20,000.
    """
    if not 1 <= size <= MAX_SIZE:
        raise ValueError(f"size must be from 1 to {MAX_SIZE:,}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    world = build_world(out_dir, size, seed)
    fx, fx_rows = build_fx(out_dir, seed)
    plan = build_plan(world, fx, size, seed)
    counts: dict[str, int] = dict(world.counts)
    counts["fx_rates"] = fx_rows
    counts["partner_accounts"] = write_partner_accounts(out_dir, world, plan, seed)
    counts["program_costs"], counts["direct_costs"] = write_costs(
        out_dir, seed, plan.close, plan.amount_usd, plan.status == WON, plan.origin != DIRECT
    )

    writers = {name: csvout.TableWriter(out_dir, name) for name in CHUNKED_TABLES}
    writers[TRUTH_FILE] = csvout.TableWriter(out_dir, TRUTH_FILE, TRUTH_COLUMNS)
    counters = Counters()
    try:
        for number, first in enumerate(range(0, size, CHUNK_SIZE)):
            last = min(size, first + CHUNK_SIZE)
            chunk = open_chunk(number, first, plan.part(first, last), world, stream(seed, CHUNK, number))
            source_lead = write_leads(chunk, writers["leads"], counters)
            write_registrations(chunk, writers["deal_registrations"], counters)
            write_touches(chunk, writers["touches"], counters)
            write_deals(chunk, writers, source_lead)
            if progress is not None:
                progress(last - first)
    except BaseException:
        # A run that failed part-way (a full disk, an interrupt) places none of these files.
        for writer in writers.values():
            writer.discard()
        raise
    for writer in writers.values():
        writer.close()
    counts.update({name: w.rows for name, w in writers.items() if name != TRUTH_FILE})

    planted = {
        kind: tuple(f"006Dm{i + 1:010d}" for i in np.flatnonzero(plan.plant == code))
        for code, kind in enumerate(PLANT_KINDS)
    }
    manifest = DemoManifest(
        out_dir=out_dir,
        size=size,
        seed=seed,
        counts=MappingProxyType({name: counts[name] for name in TABLE_NAMES}),
        planted=MappingProxyType(planted),
        span_start=instant(SPAN_START),
        span_end=instant(SPAN_END),
        data_start=instant(DATA_START),
        as_of=instant(AS_OF),
    )
    write_file(out_dir / MANIFEST_FILE, (manifest.to_json() + "\n").encode("utf-8"))
    return manifest
