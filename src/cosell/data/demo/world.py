"""The cast of the demo: accounts, partners, partner contacts and users.

These tables are small (at most a few hundred thousand rows) and are built up front from one stream;
the deals, touches and everything per deal are generated later in chunks against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from cosell.data.demo import csvout
from cosell.data.demo.clock import WORLD, stream
from cosell.data.demo.draws import Draws
from cosell.data.demo.names import (
    ACCOUNT_FIRST,
    ACCOUNT_KIND,
    ACCOUNT_SECOND,
    COUNTRIES,
    CURRENCIES,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    OUR_DOMAIN,
    PARTNERS,
)
from cosell.store.schema import PARTNER_TYPES

SEGMENTS = ("SMB", "MM", "ENT", "")
SEGMENT_SHARE = (0.50, 0.32, 0.15, 0.03)
TIER_WEIGHT = {"gold": 3.0, "silver": 1.5, "registered": 0.6}
_NAME_CYCLES = ("", " Group", " Holdings", " International", " Global", " Americas", " Europe", " North")

ACCOUNT_PREFIX, PARTNER_PREFIX, CONTACT_PREFIX, USER_PREFIX = "001Dm", "001Pa", "003Pa", "005Dm"


def account_count(size: int) -> int:
    """A few hundred accounts at the default size, about one per six deals, capped at 200,000."""
    return max(30, min(size // 6, 200_000))


@dataclass(frozen=True)
class World:
    """Who is in the dataset: accounts, partners, contacts and users, as arrays indexed by number."""

    account_segment: np.ndarray  # index into SEGMENTS
    account_currency: np.ndarray  # index into CURRENCIES
    account_owner: np.ndarray  # user number of the owning AE
    account_home_partner: np.ndarray  # the partner that works this account, when one does
    account_names: tuple[str, ...]
    account_domains: tuple[str, ...]
    partner_type: np.ndarray  # index into PARTNER_TYPES
    partner_weight: np.ndarray
    contact_start: np.ndarray  # first contact number of each partner
    contact_count: np.ndarray
    ae: np.ndarray  # user numbers by role
    sdr: np.ndarray
    partner_managers: np.ndarray
    partner_ops: np.ndarray
    integration_user: int
    counts: dict[str, int]

    @property
    def accounts(self) -> int:
        return len(self.account_segment)

    @property
    def partners(self) -> int:
        return len(self.partner_type)

    def account_name_array(self) -> pa.Array:
        return pa.array(self.account_names, pa.string())

    def account_domain_array(self) -> pa.Array:
        return pa.array(self.account_domains, pa.string())


def _person(rng: Draws) -> tuple[str, str]:
    return str(rng.choice(FIRST_NAMES)), str(rng.choice(LAST_NAMES))


def _accounts(rng: Draws, n: int) -> tuple[list[str], list[str], np.ndarray]:
    space = len(ACCOUNT_FIRST) * len(ACCOUNT_SECOND) * len(ACCOUNT_KIND)
    perm = rng.permutation(space)
    country = rng.choice(len(COUNTRIES), size=n, p=[c[1] for c in COUNTRIES])
    names, domains = [], []
    for k in range(n):
        combo = int(perm[k % space])
        first = ACCOUNT_FIRST[combo % len(ACCOUNT_FIRST)]
        second = ACCOUNT_SECOND[combo // len(ACCOUNT_FIRST) % len(ACCOUNT_SECOND)]
        kind = ACCOUNT_KIND[combo // (len(ACCOUNT_FIRST) * len(ACCOUNT_SECOND))]
        cycle = _NAME_CYCLES[min(k // space, len(_NAME_CYCLES) - 1)]
        tail = "" if k < space * len(_NAME_CYCLES) else f" {k // space}"
        names.append(f"{first} {second} {kind}{cycle}{tail}")
        slug = f"{first}{second}{kind}{cycle}{tail}".lower().replace(" ", "")
        domains.append(slug + COUNTRIES[country[k]][3])
    return names, domains, country


def build_world(out_dir: Path, size: int, seed: int) -> World:
    """Draw the cast and write accounts.csv, partners.csv, partner_contacts.csv and users.csv."""
    rng = stream(seed, WORLD)
    counts: dict[str, int] = {}

    # Users: our people first, then partner users (numbers are the ids' digits).
    n_ae = max(8, min(round(size / 110), 3000))
    roles: list[tuple[str, int]] = [("admin", 2), ("finance", 2), ("partner_ops", 2)]
    roles += [
        ("partner_manager", max(4, min(40, size // 20_000 + 5))),
        ("ae", n_ae),
        ("sdr", max(3, n_ae // 3)),
    ]
    user_role: list[str] = []
    user_name: list[str] = []
    user_email: list[str] = []
    user_partner: list[int] = []
    seen: dict[str, int] = {}

    def add_user(role: str, first: str, last: str, domain: str, partner: int) -> None:
        local = f"{first}.{last}".lower()
        seen[local + domain] = seen.get(local + domain, 0) + 1
        if seen[local + domain] > 1:
            local += str(seen[local + domain])
        user_role.append(role)
        user_name.append(f"{first} {last}")
        user_email.append(f"{local}@{domain}")
        user_partner.append(partner)

    add_user("admin", "Integration", "User", OUR_DOMAIN, -1)
    for role, n in roles:
        for _ in range(n - 1 if role == "admin" else n):
            add_user(role, *_person(rng), OUR_DOMAIN, -1)
    for p, (_, domain, _, tier, _) in enumerate(PARTNERS):
        for _ in range({"gold": 2, "silver": 1, "registered": 0}[tier]):
            add_user("partner", *_person(rng), domain, p)
    role_arr = np.array(user_role)
    numbers = np.arange(1, len(user_role) + 1, dtype=np.int64)
    partner_arr = np.array(user_partner, dtype=np.int64)
    with csvout.TableWriter(out_dir, "users") as w:
        w.write(
            {
                "user_id": csvout.ids(USER_PREFIX, numbers),
                "name": pa.array(user_name, pa.string()),
                "email": pa.array(user_email, pa.string()),
                "role": pa.array(user_role, pa.string()),
                "partner_id": csvout.where(partner_arr >= 0, csvout.ids(PARTNER_PREFIX, partner_arr + 1)),
            }
        )
        counts["users"] = w.rows

    # Partners and their contacts.
    n_partners = len(PARTNERS)
    partner_type = np.array([PARTNER_TYPES.index(p[2]) for p in PARTNERS], dtype=np.int64)
    partner_weight = np.array([TIER_WEIGHT[p[3]] for p in PARTNERS]) * rng.lognormal(0.0, 0.35, n_partners)
    joined = np.array([np.datetime64(p[4], "s").astype(np.int64) for p in PARTNERS], dtype=np.int64)
    with csvout.TableWriter(out_dir, "partners") as w:
        w.write(
            {
                "partner_id": csvout.ids(PARTNER_PREFIX, np.arange(1, n_partners + 1)),
                "name": pa.array([p[0] for p in PARTNERS], pa.string()),
                "domain": pa.array([p[1] for p in PARTNERS], pa.string()),
                "partner_type": pa.array([p[2] for p in PARTNERS], pa.string()),
                "program_tier": pa.array([p[3] for p in PARTNERS], pa.string()),
                "joined_at": csvout.instants(joined),
            }
        )
        counts["partners"] = w.rows
    contact_count = rng.integers(3, 7, n_partners)
    contact_start = np.concatenate([[0], np.cumsum(contact_count)[:-1]]).astype(np.int64)
    c_names, c_emails, c_partner = [], [], []
    for p, (_, domain, _, _, _) in enumerate(PARTNERS):
        taken: set[str] = set()
        while len(taken) < contact_count[p]:
            first, last = _person(rng)
            if f"{first}.{last}" in taken:
                continue
            taken.add(f"{first}.{last}")
            c_names.append(f"{first} {last}")
            c_emails.append(f"{first}.{last}@{domain}".lower())
            c_partner.append(p)
    with csvout.TableWriter(out_dir, "partner_contacts") as w:
        w.write(
            {
                "contact_id": csvout.ids(CONTACT_PREFIX, np.arange(1, len(c_names) + 1)),
                "partner_id": csvout.ids(PARTNER_PREFIX, np.array(c_partner) + 1),
                "name": pa.array(c_names, pa.string()),
                "email": pa.array(c_emails, pa.string()),
            }
        )
        counts["partner_contacts"] = w.rows

    # Accounts.
    n = account_count(size)
    names, domains, country = _accounts(rng, n)
    segment = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARE)
    currency = np.array([CURRENCIES.index(c[2]) for c in COUNTRIES])[country]
    ae = numbers[role_arr == "ae"]
    owner = ae[rng.integers(0, len(ae), n)]
    home = rng.choice(n_partners, size=n, p=partner_weight / partner_weight.sum())
    industry = rng.integers(0, len(INDUSTRIES), n)
    with csvout.TableWriter(out_dir, "accounts") as w:
        w.write(
            {
                "account_id": csvout.ids(ACCOUNT_PREFIX, np.arange(1, n + 1)),
                "name": pa.array(names, pa.string()),
                "domain": pa.array(domains, pa.string()),
                "segment": csvout.where(segment < 3, csvout.pick(SEGMENTS, segment)),
                "industry": csvout.pick(INDUSTRIES, industry),
                "country": csvout.pick([c[0] for c in COUNTRIES], country),
                "owner_id": csvout.ids(USER_PREFIX, owner),
            }
        )
        counts["accounts"] = w.rows

    return World(
        account_segment=segment,
        account_currency=currency,
        account_owner=owner,
        account_home_partner=home,
        account_names=tuple(names),
        account_domains=tuple(domains),
        partner_type=partner_type,
        partner_weight=partner_weight,
        contact_start=contact_start,
        contact_count=contact_count.astype(np.int64),
        ae=ae,
        sdr=numbers[role_arr == "sdr"],
        partner_managers=numbers[role_arr == "partner_manager"],
        partner_ops=numbers[role_arr == "partner_ops"],
        integration_user=1,
        counts=counts,
    )
