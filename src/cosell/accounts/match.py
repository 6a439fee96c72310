"""Match a partner's account list (partner_accounts) to our accounts (SPEC section 7).

::

    result = match_accounts(ours, theirs)           # rows in, matches and review candidates out
    result.matches                                  # one per partner row that matched, with method
    result.review                                   # candidates a person should look at, never counted

Each partner row is matched to at most one of our accounts, by the first method that finds one:

1. ``domain``: the registrable domains are equal (``www.acme.co.uk`` = ``acme.co.uk``;
   :func:`cosell.accounts.domains.registrable_domain`). Score 100. A free-mail domain
   (``gmail.com``: :mod:`cosell.accounts.free_mail`) names no company and is read as no domain.
2. ``name``: the normalised names are equal (:func:`cosell.accounts.names.normalise_name`: legal
   forms, case, punctuation, accents, "The", "&"). Score 100. A name with no letter or digit
   ("-", "?") or a placeholder ("Unknown", "N/A", "TBD":
   :data:`cosell.accounts.names.PLACEHOLDER_NAMES`) is no name: it matches no name, only a domain.
3. ``fuzzy_name``: the name similarity (:func:`cosell.accounts.names.similarity`, 0 to 100) is at
   least ``threshold`` (:data:`FUZZY_THRESHOLD`) and the names have the same words up to a typo
   in each (:func:`cosell.accounts.names.same_words`): "Nortwhind Bay Logistics" is Northwind Bay
   Logistics, "Crescent Vale Financial" is not Crescent Dale Financial, and "Goldman Sachs Group"
   is a question for a person, not a typo of "Goldman Sachs".

A name or fuzzy match is not counted when both sides give a domain and the two domains' names
differ (``acme-logistics.com`` against ``acmefreight.com``; ``acme.de`` against ``acme.com`` agree):
the partner row is then a review candidate with the reason ``domains_differ`` (dropped altogether
when the words differ too: another company). A best candidate
scoring at least ``floor`` (:data:`REVIEW_FLOOR`) that is not counted is a review candidate with
the reason ``below_threshold`` (under ``threshold``) or ``words_differ`` (a word added, missing
or more than a typo away). Review candidates are listed, never counted as overlap.

Ties are broken the same way on every machine: the best score, then the stronger method (domain,
name, fuzzy_name), then (for several accounts on one domain) the more alike name, then the
smallest account_id. The result does not depend on the order of the rows.

Fuzzy matching compares a partner name only with our names one word away from it
(:mod:`cosell.accounts.near`): every pair the fuzzy rule can count with at most one misspelt word
is among them (two misspelt words are not matched), and 100,000 accounts take seconds, not the hours
of comparing every pair. Pure: rows in, values out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from cosell.accounts.free_mail import company_domain
from cosell.accounts.names import name_tokens, same_words, score_names, score_normalised
from cosell.accounts.near import near_candidates

# Chosen on the labelled pairs (tests/accounts/fixtures/name_pairs.csv; benchmarks/name_matching.py
# prints precision and recall at each threshold): with the same-words guard, 80 is the highest
# threshold with the best F1 (a transposed letter in a five-letter name, Itnel, scores 80). Under 70
# a candidate shares too little of the name to be worth a reviewer's time.
FUZZY_THRESHOLD = 80.0
REVIEW_FLOOR = 70.0
METHODS = ("domain", "name", "fuzzy_name")
REVIEW_REASONS = ("below_threshold", "words_differ", "domains_differ")


@dataclass(frozen=True)
class OurAccount:
    """One of our accounts, as matching needs it."""

    account_id: str
    name: str
    domain: str | None = None


@dataclass(frozen=True)
class PartnerAccount:
    """One row of partner_accounts: a company on a partner's own list, with the partner's status."""

    partner_id: str
    name: str
    domain: str | None
    status: str


@dataclass(frozen=True, order=True)
class AccountMatch:
    """A partner row and the account of ours it was matched to (or, in review, might be)."""

    partner_id: str
    partner_name: str
    partner_domain: str | None
    status: str  # the partner's status (customer, prospect, open_opportunity)
    account_id: str
    account_name: str
    account_domain: str | None
    method: str  # domain, name or fuzzy_name
    score: float  # 100 for domain and name; the name similarity for fuzzy_name
    name_score: float  # the name similarity, whatever the method
    reason: str = ""  # review candidates only: one of REVIEW_REASONS


@dataclass(frozen=True)
class MatchResult:
    """Every partner row's outcome: matched (counted), for review (not counted) or neither."""

    matches: tuple[AccountMatch, ...]
    review: tuple[AccountMatch, ...]
    unmatched: int  # partner rows with no candidate at or above the floor
    partner_rows: int
    threshold: float
    floor: float
    by_method: dict[str, int] = field(default_factory=dict)


class _Side(NamedTuple):  # a tuple: built 300,000 times at the demo's largest size
    """A name and domain prepared once: normalised name, compact name, registrable domain and the
    name of that domain (its first label)."""

    norm: str
    compact: str
    words: tuple[str, ...]  # the words without "and", as same_words reads them
    domain: str | None
    label: str | None


def _prepare(name: str, domain: str | None, domains: dict[str, str | None] | None = None) -> _Side:
    """``domains`` remembers the registrable domain of each domain text already seen (a partner's
    list repeats our accounts' domains), which halves the Public Suffix List look-ups."""
    found = None
    if domain:
        if domains is None:
            found = company_domain(domain)
        elif domain in domains:
            found = domains[domain]
        else:
            found = domains[domain] = company_domain(domain)
    tokens = name_tokens(name)
    words = tuple(t for t in tokens if t != "and")
    return _Side(" ".join(tokens), "".join(tokens), words, found, found.split(".", 1)[0] if found else None)


def _rank(m: AccountMatch) -> tuple[float, int, float, str]:
    return (-m.score, METHODS.index(m.method), -m.name_score, m.account_id)


def _conflict(a: _Side, b: _Side) -> bool:
    return a.label is not None and b.label is not None and a.label != b.label


def match_accounts(
    ours: Sequence[OurAccount],
    theirs: Sequence[PartnerAccount],
    *,
    threshold: float = FUZZY_THRESHOLD,
    floor: float = REVIEW_FLOOR,
) -> MatchResult:
    """Match every partner row to at most one of our accounts (see the module docstring).

    ``matches`` and ``review`` are sorted by partner_id, partner name, domain and status, so the
    same rows in any order give the same result.
    """
    if not 0 <= floor <= threshold <= 100:
        raise ValueError(f"need 0 <= floor ({floor}) <= threshold ({threshold}) <= 100")
    accounts = sorted(ours, key=lambda a: a.account_id)
    rows = sorted(theirs, key=lambda r: (r.partner_id, r.name, r.domain or "", r.status))
    domains: dict[str, str | None] = {}
    mine = [_prepare(a.name, a.domain, domains) for a in accounts]
    by_domain: dict[str, list[int]] = defaultdict(list)
    by_name: dict[str, list[int]] = defaultdict(list)
    for i, side in enumerate(mine):
        if side.domain:
            by_domain[side.domain].append(i)
        if side.compact:  # no letter or digit ("-", "?"), or a placeholder: no name, it matches none
            by_name[side.compact].append(i)

    sides = [_prepare(r.name, r.domain, domains) for r in rows]
    candidates: list[list[AccountMatch]] = [[] for _ in rows]
    fuzzy: list[int] = []
    for k, (row, side) in enumerate(zip(rows, sides, strict=True)):
        for method, found in (
            ("domain", by_domain.get(side.domain or "", ())),
            ("name", by_name.get(side.compact, ())),
        ):
            candidates[k].extend(
                c for i in found if (c := _candidate(row, side, accounts[i], mine[i], method))
            )
            if candidates[k]:
                break  # a domain match is counted whatever else is found; a name match is closer than any fuzzy one
        if not candidates[k]:
            fuzzy.append(k)
    near_ours = near_candidates([sides[k].words for k in fuzzy], [m.words for m in mine])
    for k, near in zip(fuzzy, near_ours, strict=True):
        candidates[k].extend(
            c for i in near if (c := _candidate(rows[k], sides[k], accounts[i], mine[i], "fuzzy_name"))
        )

    matches: list[AccountMatch] = []
    review: list[AccountMatch] = []
    unmatched = 0
    for options in candidates:
        counted = [c for c in options if c.method == "domain" or (c.score >= threshold and not c.reason)]
        if counted:
            matches.append(min(counted, key=_rank))
            continue
        rest = [c for c in options if c.name_score >= floor]
        if not rest:
            unmatched += 1
            continue
        best = min(rest, key=_rank)
        review.append(replace(best, reason=best.reason or "below_threshold"))
    by_method = {m: sum(x.method == m for x in matches) for m in METHODS}
    return MatchResult(tuple(matches), tuple(review), unmatched, len(rows), threshold, floor, by_method)


def _candidate(
    row: PartnerAccount, side: _Side, account: OurAccount, mine: _Side, method: str
) -> AccountMatch | None:
    """The candidate, with the reason it cannot count; None when it is not worth a reviewer's time
    (another word and another domain: another company)."""
    # No name on either side (a domain match) scores 0, as names.similarity says.
    name_score = score_names((side.compact, side.norm), (mine.compact, mine.norm))
    other_words = method == "fuzzy_name" and not same_words(side.norm, mine.norm)
    reason = ""
    if method != "domain" and _conflict(side, mine):
        if other_words:
            return None
        reason = "domains_differ"  # a domain match stands on its own; a name match is doubted
    elif other_words:
        reason = "words_differ"
    return AccountMatch(
        partner_id=row.partner_id,
        partner_name=row.name,
        partner_domain=row.domain,
        status=row.status,
        account_id=account.account_id,
        account_name=account.name,
        account_domain=account.domain,
        method=method,
        score=name_score if method == "fuzzy_name" else 100.0,
        name_score=name_score,
        reason=reason,
    )


def pair_decision(left: str, right: str, *, threshold: float = FUZZY_THRESHOLD) -> tuple[str | None, float]:
    """The rule on two names alone (no domains, no candidate search): ``("name", 100.0)``,
    ``("fuzzy_name", score)`` at or above ``threshold`` with the same words, else ``(None, score)``.
    :func:`match_accounts` agrees on every pair it compares; it does not compare names with two
    misspelt words (:mod:`cosell.accounts.near`).

    >>> pair_decision("ACME, Inc.", "Acme Corporation")
    ('name', 100.0)
    >>> pair_decision("General Electric", "General Mills")[0] is None
    True
    """
    a, b = _prepare(left, None), _prepare(right, None)
    if not a.compact or not b.compact:
        return None, 0.0  # no letter or digit, or a placeholder: no name to compare
    if a.compact == b.compact:
        return "name", 100.0
    score = score_normalised(a.norm, b.norm)
    return ("fuzzy_name", score) if score >= threshold and same_words(a.norm, b.norm) else (None, score)


def statuses_of(matches: Iterable[AccountMatch]) -> dict[tuple[str, str], str]:
    """Each (partner_id, account_id)'s status on the partner's list; when the partner lists the
    account more than once, the strongest: customer, then open_opportunity, then prospect."""
    strength = {"customer": 0, "open_opportunity": 1, "prospect": 2}
    out: dict[tuple[str, str], str] = {}
    for m in matches:
        key = (m.partner_id, m.account_id)
        if key not in out or strength.get(m.status, 9) < strength.get(out[key], 9):
            out[key] = m.status
    return out
