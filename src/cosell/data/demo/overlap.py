"""partner_accounts: each partner's own account list, for account-overlap matching.

A partner lists most accounts it works with us on (customer when a deal with it was won, else open
opportunity or prospect), a sample of our other accounts, and companies we do not have. Names are
as the partner keeps them: often with a legal suffix, sometimes a typo, upper case or a leading
"The"; domains sometimes with ``www.`` or missing, so matching has to be fuzzy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from cosell.data.demo import csvout
from cosell.data.demo.clock import OVERLAP, stream
from cosell.data.demo.names import ACCOUNT_FIRST, ACCOUNT_KIND, ACCOUNT_SECOND, LEGAL_SUFFIXES
from cosell.data.demo.plan import DIRECT, OPEN, WON, Plan
from cosell.data.demo.world import PARTNER_PREFIX, World

STATUSES = ("customer", "prospect", "open_opportunity")


def _variant(rng: np.random.Generator, name: str) -> str:
    r = rng.random()
    if r < 0.5:
        return name
    if r < 0.8:
        return name + LEGAL_SUFFIXES[int(rng.integers(0, len(LEGAL_SUFFIXES)))]
    if r < 0.9 and len(name) > 4:
        i = int(rng.integers(1, len(name) - 2))
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]  # two letters swapped
    if r < 0.95:
        return name.upper()
    return "The " + name


def write_partner_accounts(out_dir: Path, world: World, plan: Plan, seed: int) -> int:
    rng = stream(seed, OVERLAP)
    n_partners = world.partners
    engaged = plan.origin != DIRECT
    key = plan.account[engaged] * n_partners + plan.partner[engaged]
    cells = world.accounts * n_partners
    worked = np.bincount(key, minlength=cells) > 0
    won = np.bincount(key[plan.status[engaged] == WON], minlength=cells) > 0
    open_ = np.bincount(key[plan.status[engaged] == OPEN], minlength=cells) > 0

    partner_col: list[int] = []
    names: list[str] = []
    domains: list[str | None] = []
    statuses: list[int] = []
    for p in range(n_partners):
        seen: set[str] = set()

        def add(name: str, domain: str | None, status: int, p: int = p, seen: set[str] = seen) -> None:
            if name in seen:
                return
            seen.add(name)
            partner_col.append(p)
            names.append(name)
            domains.append(domain)
            statuses.append(status)

        home = np.flatnonzero(world.account_home_partner == p)
        others = rng.choice(world.accounts, size=max(1, world.accounts * 3 // 100), replace=False)
        for a in np.concatenate([home, others]):
            cell = int(a) * n_partners + p
            if not rng.random() < (
                0.85 if worked[cell] else 0.5 if world.account_home_partner[a] == p else 1.0
            ):
                continue
            if won[cell]:
                status = 0
            elif open_[cell]:
                status = 2
            else:
                status = int(rng.choice(3, p=[0.25, 0.6, 0.15]))
            r = rng.random()
            domain = world.account_domains[a]
            shown = domain if r < 0.75 else "www." + domain if r < 0.85 else None
            add(_variant(rng, world.account_names[a]), shown, status)
        for _ in range(max(2, world.accounts // 100)):
            first = ACCOUNT_FIRST[int(rng.integers(0, len(ACCOUNT_FIRST)))]
            second = ACCOUNT_SECOND[int(rng.integers(0, len(ACCOUNT_SECOND)))]
            kind = ACCOUNT_KIND[int(rng.integers(0, len(ACCOUNT_KIND)))]
            name = f"{first} {second} {kind} Co"
            add(name, f"{first}{second}co.com".lower(), int(rng.choice(3, p=[0.4, 0.5, 0.1])))

    order = sorted(range(len(names)), key=lambda i: (partner_col[i], names[i]))
    with csvout.TableWriter(out_dir, "partner_accounts") as w:
        w.write(
            {
                "partner_id": csvout.ids(PARTNER_PREFIX, np.array([partner_col[i] + 1 for i in order])),
                "name": pa.array([names[i] for i in order], pa.string()),
                "domain": pa.array([domains[i] for i in order], pa.string()),
                "status": csvout.pick(STATUSES, np.array([statuses[i] for i in order])),
            }
        )
        return w.rows
