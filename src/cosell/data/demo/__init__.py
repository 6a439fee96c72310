"""The demo dataset generator: a realistic co-sell CRM export in the canonical format.

``generate_dataset(out_dir, size, seed)`` writes one CSV per table of SPEC section 1 and returns a
:class:`DemoManifest` (row counts, planted data-hygiene failures with their opportunity ids, the time
span and the as-of instant to run reports at). Modules, by what they generate:

- ``world``: accounts, partners, partner contacts, users;
- ``plan``: the designed truth of every deal (origin, partner, stage path, outcome, planted failure);
- ``chunk``: per-chunk moments shared by the writers below;
- ``leads``: leads and deal registrations; ``touches``: touches; ``deals``: opportunities, stage
  history, field history, opportunity partners and ``demo_truth.csv``;
- ``overlap``: partner account lists; ``finance``: FX rates, program and direct costs;
- ``csvout``: vectorised formatting and the CSV writer; ``clock``: the fixed calendar and streams.
"""

from __future__ import annotations

from cosell.data.demo.clock import AS_OF, SPAN_END, SPAN_START
from cosell.data.demo.generate import DemoManifest, generate_dataset
from cosell.data.demo.plan import ORIGINS, PLANT_KINDS

__all__ = [
    "AS_OF",
    "DEMO_USER",
    "ORIGINS",
    "PLANT_KINDS",
    "SPAN_END",
    "SPAN_START",
    "DemoManifest",
    "generate_dataset",
]

# Who the demo's own writes (its import of the sample, its plan, postings and payout runs) are
# recorded as made by: how a workspace an earlier demo made is told apart from a real one.
DEMO_USER = "demo"
