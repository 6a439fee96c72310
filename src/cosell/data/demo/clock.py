"""The demo's fixed calendar and its random streams.

The dataset does not depend on today's date: deals are created from 2024-07-01 to 2026-10-31 and the
reports are meant to be run as of 2026-11-01T00:00:00Z. Times are integer seconds since the epoch.
Every part of the dataset draws from its own stream, keyed by the seed and a fixed label (and a chunk
number for per-chunk streams), so the output never depends on how the work is scheduled.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from cosell.data.demo.draws import Draws

DAY = 86_400
HOUR = 3_600

SPAN_START = int(datetime(2024, 7, 1, tzinfo=UTC).timestamp())
SPAN_END = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())  # deals are created before this
AS_OF = SPAN_END
# Nothing in the data is older (rates start here; touches start at most 120 days before the first deal).
DATA_START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
LOOKBACK = 180 * DAY  # the policy's default sourcing lookback
PROTECTION = 90 * DAY  # the policy's default protection window

# Labels of the random streams (the first number after the seed).
WORLD, PLAN, CHUNK, FINANCE, OVERLAP = 1, 2, 3, 4, 5


def stream(seed: int, *key: int) -> Draws:
    """An independent source of draws for ``(seed, *key)`` (PCG64; the same bits on every machine)."""
    return Draws(np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *key]))))


def instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def quarter_of(seconds: np.ndarray) -> np.ndarray:
    """Quarter number since 2000-Q1 of each instant (calendar quarters, UTC)."""
    months = np.asarray(seconds, dtype=np.int64).astype("datetime64[s]").astype("datetime64[M]")
    m = months.astype(np.int64)  # months since 1970-01
    return (m - 360) // 3


def month_of(seconds: np.ndarray) -> np.ndarray:
    """Month number since 1970-01 of each instant."""
    months = np.asarray(seconds, dtype=np.int64).astype("datetime64[s]").astype("datetime64[M]")
    return months.astype(np.int64)


def snap(seconds: np.ndarray) -> np.ndarray:
    """Round down to the whole minute, as CRMs record activity."""
    s = np.asarray(seconds, dtype=np.int64)
    return s - s % 60
