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


def _variant(name: str, how: float, where: float, suffix: int) -> str:
    if how < 0.5:
        return name
    if how < 0.8:
        return name + LEGAL_SUFFIXES[suffix]
    if how < 0.9 and len(name) > 4:
        i = 1 + int(where * (len(name) - 3))
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]  # two letters swapped
    if how < 0.95:
        return name.upper()
    return "The " + name


def write_partner_accounts(out_dir: Path, world: World, plan: Plan, seed: int) -> int:
    rng = stream(seed, OVERLAP)
    n_partners, n_accounts = world.partners, world.accounts
    engaged = plan.origin != DIRECT
    key = plan.account[engaged] * n_partners + plan.partner[engaged]
    cells = n_accounts * n_partners
    worked = np.bincount(key, minlength=cells) > 0
    won = np.bincount(key[plan.status[engaged] == WON], minlength=cells) > 0
    open_ = np.bincount(key[plan.status[engaged] == OPEN], minlength=cells) > 0

    # Candidates: every account with its home partner, and a 3% sample of accounts for each partner.
    sample = max(1, n_accounts * 3 // 100)
    partner = np.concatenate([world.account_home_partner, np.repeat(np.arange(n_partners), sample)])
    account = np.concatenate([np.arange(n_accounts), rng.integers(0, n_accounts, n_partners * sample)])
    cell = account * n_partners + partner
    home = world.account_home_partner[account] == partner
    keep = rng.random(len(cell)) < np.where(worked[cell], 0.85, np.where(home, 0.5, 1.0))
    partner, account, cell = partner[keep], account[keep], cell[keep]
    m = len(cell)
    status = np.where(won[cell], 0, np.where(open_[cell], 2, rng.choice(3, size=m, p=[0.25, 0.6, 0.15])))
    how, where, suffix, shown = (
        rng.random(m),
        rng.random(m),
        rng.integers(0, len(LEGAL_SUFFIXES), m),
        rng.random(m),
    )
    names = [
        _variant(world.account_names[a], h, w, s)
        for a, h, w, s in zip(account.tolist(), how.tolist(), where.tolist(), suffix.tolist(), strict=True)
    ]
    domains: list[str | None] = [
        world.account_domains[a] if r < 0.75 else "www." + world.account_domains[a] if r < 0.85 else None
        for a, r in zip(account.tolist(), shown.tolist(), strict=True)
    ]
    # Companies we do not have.
    extra = max(2, n_accounts // 100) * n_partners
    words = (rng.integers(0, len(ACCOUNT_FIRST), extra), rng.integers(0, len(ACCOUNT_SECOND), extra),
             rng.integers(0, len(ACCOUNT_KIND), extra))  # fmt: skip
    for f, s2, k in zip(*(w.tolist() for w in words), strict=True):
        names.append(f"{ACCOUNT_FIRST[f]} {ACCOUNT_SECOND[s2]} {ACCOUNT_KIND[k]} Co")
        domains.append(f"{ACCOUNT_FIRST[f]}{ACCOUNT_SECOND[s2]}co.com".lower())
    partner = np.concatenate([partner, np.repeat(np.arange(n_partners), extra // n_partners)])
    status = np.concatenate([status, rng.choice(3, size=extra, p=[0.4, 0.5, 0.1])])

    seen: set[tuple[int, str]] = set()
    rows = []
    for i in sorted(range(len(names)), key=lambda i: (int(partner[i]), names[i])):
        if (int(partner[i]), names[i]) not in seen:
            seen.add((int(partner[i]), names[i]))
            rows.append(i)
    index = np.array(rows, dtype=np.int64)
    with csvout.TableWriter(out_dir, "partner_accounts") as w:
        w.write(
            {
                "partner_id": csvout.ids(PARTNER_PREFIX, partner[index] + 1),
                "name": pa.array([names[i] for i in rows], pa.string()),
                "domain": pa.array([domains[i] for i in rows], pa.string()),
                "status": csvout.pick(STATUSES, status[index]),
            }
        )
        return w.rows
