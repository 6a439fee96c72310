"""Multi-partner credit models (SPEC section 3), registered by name.

A model turns the partners of a partner-attributed deal (each with one role and its weight) and the
deal's associated partner-engagement touches at or before close into **shares**: exact
:class:`~fractions.Fraction` values that sum to exactly 1. :func:`split_amount` then splits the deal
amount in the currency's minor unit with the largest-remainder method.

Pure functions, no I/O: the reference implementation and the batch engine both call them.

>>> roles = [PartnerRole("P1", "sourcer", Decimal(50)), PartnerRole("P2", "influencer", Decimal(15))]
>>> split = compute_shares("role_weighted", roles, [], closed_at=0)
>>> [str(s) for s in split.shares.values()]
['10/13', '3/13']
>>> split_amount(Decimal("100.00"), "USD", roles, split.shares)
{'P1': Decimal('76.92'), 'P2': Decimal('23.08')}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction

from cosell.errors import UsageError, did_you_mean
from cosell.instants import MICROS_PER_DAY
from cosell.money import from_minor, largest_remainder, round_money, to_minor

DEFAULT_MODEL = "role_weighted"

# time_decay's powers of two are computed in this context (SPEC: 28 significant digits).
DECAY_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)
# A touch this many half-lives older than the reference weighs 0: 2^-10000 is about 10^-3010, a share
# no amount shows, and its exact fraction would cost seconds per deal (or underflow the Decimal to 0).
MAX_HALF_LIVES = 10_000


@dataclass(frozen=True)
class PartnerRole:
    """A partner on a deal with its one role and that role's weight in the policy."""

    partner_id: str
    role: str
    weight: Decimal


@dataclass(frozen=True)
class CreditTouch:
    """An associated partner-engagement touch at or before close, by a partner with a role."""

    touch_id: str
    occurred_at: int  # epoch microseconds
    partner_id: str


@dataclass(frozen=True)
class ModelSettings:
    """The policy values the models read."""

    position_weights: tuple[Decimal, Decimal, Decimal] = (Decimal(40), Decimal(20), Decimal(40))
    half_life_days: Decimal = Decimal(14)


@dataclass(frozen=True)
class Split:
    """Shares per partner (in the order of the roles given), and whether a touch model fell back."""

    model: str
    shares: Mapping[str, Fraction]
    fell_back: bool = False


# A model returns shares per partner, or None when it needs touches and the deal has none.
ModelFunction = Callable[
    [Sequence[PartnerRole], Sequence[CreditTouch], int, ModelSettings], dict[str, Fraction] | None
]


def _role_weighted(
    roles: Sequence[PartnerRole], touches: Sequence[CreditTouch], closed_at: int, settings: ModelSettings
) -> dict[str, Fraction]:
    total = sum((Fraction(r.weight) for r in roles), Fraction(0))
    if total == 0:  # every weight set to 0 in the policy: nothing to weigh, split evenly
        return _even(roles, touches, closed_at, settings)
    return {r.partner_id: Fraction(r.weight) / total for r in roles}


def _even(
    roles: Sequence[PartnerRole], touches: Sequence[CreditTouch], closed_at: int, settings: ModelSettings
) -> dict[str, Fraction]:
    return {r.partner_id: Fraction(1, len(roles)) for r in roles}


def _ordered(touches: Sequence[CreditTouch]) -> list[CreditTouch]:
    return sorted(touches, key=lambda t: (t.occurred_at, t.touch_id))


def _per_touch(roles: Sequence[PartnerRole], weighted: Sequence[tuple[str, Fraction]]) -> dict[str, Fraction]:
    shares = {r.partner_id: Fraction(0) for r in roles}
    for partner_id, weight in weighted:
        shares[partner_id] += weight
    return shares


def _first_touch(
    roles: Sequence[PartnerRole], touches: Sequence[CreditTouch], closed_at: int, settings: ModelSettings
) -> dict[str, Fraction] | None:
    if not touches:
        return None
    return _per_touch(roles, [(_ordered(touches)[0].partner_id, Fraction(1))])


def _last_touch(
    roles: Sequence[PartnerRole], touches: Sequence[CreditTouch], closed_at: int, settings: ModelSettings
) -> dict[str, Fraction] | None:
    if not touches:
        return None
    return _per_touch(roles, [(_ordered(touches)[-1].partner_id, Fraction(1))])


def _position_based(
    roles: Sequence[PartnerRole], touches: Sequence[CreditTouch], closed_at: int, settings: ModelSettings
) -> dict[str, Fraction] | None:
    ordered = _ordered(touches)
    n = len(ordered)
    if n == 0:
        return None
    if n == 1:
        return _per_touch(roles, [(ordered[0].partner_id, Fraction(1))])
    if n == 2:
        return _per_touch(roles, [(t.partner_id, Fraction(1, 2)) for t in ordered])
    first, middle, last = (Fraction(w) for w in settings.position_weights)
    total = first + middle + last
    each_middle = middle / total / (n - 2)
    weighted = [(ordered[0].partner_id, first / total), (ordered[-1].partner_id, last / total)]
    weighted += [(t.partner_id, each_middle) for t in ordered[1:-1]]
    return _per_touch(roles, weighted)


def decay_weight(age_micros: int, half_life_days: Decimal) -> Decimal:
    """``2^(-age/half_life)`` with age in days, as a Decimal of 28 significant digits.

    >>> decay_weight(14 * 86_400_000_000, Decimal(14))
    Decimal('0.5')
    """
    return _power_of_half(_half_lives(age_micros, half_life_days))


def _power_of_half(half_lives: Decimal) -> Decimal:
    return DECAY_CONTEXT.power(Decimal(2), DECAY_CONTEXT.minus(half_lives))


def _half_lives(age_micros: int, half_life_days: Decimal) -> Decimal:
    ctx = DECAY_CONTEXT
    return ctx.divide(ctx.divide(Decimal(age_micros), Decimal(MICROS_PER_DAY)), half_life_days)


def _decay_weights(
    ordered: Sequence[CreditTouch], reference: int, half_life_days: Decimal
) -> list[tuple[str, Fraction]]:
    """Each touch's weight, its age counted back from ``reference``; a touch older than
    :data:`MAX_HALF_LIVES` weighs 0 (its exact fraction would have thousands of digits)."""
    ages = [(t.partner_id, _half_lives(reference - t.occurred_at, half_life_days)) for t in ordered]
    return [(p, Fraction(0) if h > MAX_HALF_LIVES else Fraction(_power_of_half(h))) for p, h in ages]


def _time_decay(
    roles: Sequence[PartnerRole], touches: Sequence[CreditTouch], closed_at: int, settings: ModelSettings
) -> dict[str, Fraction] | None:
    if not touches:
        return None
    ordered = _ordered(touches)
    weights = _decay_weights(ordered, closed_at, settings.half_life_days)
    total = sum((w for _, w in weights), Fraction(0))
    if total == 0:
        # Every touch is older than MAX_HALF_LIVES (a half-life of minutes over touches of months):
        # the same shares with the ages counted from the newest touch, which weighs 1.
        weights = _decay_weights(ordered, ordered[-1].occurred_at, settings.half_life_days)
        total = sum((w for _, w in weights), Fraction(0))
    return _per_touch(roles, [(p, w / total) for p, w in weights])


MODELS: dict[str, ModelFunction] = {
    "role_weighted": _role_weighted,
    "even": _even,
    "first_touch": _first_touch,
    "last_touch": _last_touch,
    "position_based": _position_based,
    "time_decay": _time_decay,
}
TOUCH_MODELS = frozenset({"first_touch", "last_touch", "position_based", "time_decay"})


def get_model(name: str) -> ModelFunction:
    """The model registered under ``name``; an unknown name raises UsageError with the closest one."""
    try:
        return MODELS[name]
    except KeyError:
        # Names are lower case: a name in capitals ("EVEN") is compared as written in lower case.
        hint = did_you_mean(name.lower(), list(MODELS), cutoff=0.4)
        known = ", ".join(MODELS)
        raise UsageError(f"unknown credit model {name!r}{hint}; known models: {known}") from None


def check_model(name: str) -> str:
    """The model name if it is known; else the registry's UsageError suggesting the closest one."""
    get_model(name)
    return name


def compute_shares(
    model: str,
    roles: Sequence[PartnerRole],
    touches: Sequence[CreditTouch],
    closed_at: int,
    settings: ModelSettings | None = None,
) -> Split:
    """Shares of each partner under ``model``; a touch model with no touch falls back to role_weighted.

    ``roles`` are the partners with a role (one each); ``touches`` the associated partner-engagement
    touches at or before close (``closed_at``) by those partners.
    """
    function = get_model(model)
    if not roles:
        return Split(model, {})
    settings = settings or ModelSettings()
    with_role = {r.partner_id for r in roles}
    usable = [t for t in touches if t.partner_id in with_role]
    shares = function(roles, usable, closed_at, settings)
    fell_back = shares is None
    if shares is None:
        shares = _role_weighted(roles, usable, closed_at, settings)
    ordered = {r.partner_id: shares[r.partner_id] for r in roles}
    if sum(ordered.values()) != 1:  # pragma: no cover - every model is exact
        raise AssertionError(f"{model} shares do not sum to 1")
    return Split(model, ordered, fell_back)


def split_amount(
    amount: Decimal, currency: str, roles: Sequence[PartnerRole], shares: Mapping[str, Fraction]
) -> dict[str, Decimal]:
    """Split ``amount`` by ``shares`` in the currency's minor unit (largest remainder).

    Ties on the remainder go to the larger role weight, then the smaller partner_id. The parts sum
    exactly to the amount (rounded to the minor unit first if it had more digits).
    """
    if not roles:
        return {}
    total = to_minor(round_money(amount, currency), currency)
    ordered = sorted(roles, key=lambda r: r.partner_id)
    parts = largest_remainder(
        total,
        [shares[r.partner_id] for r in ordered],
        [(-r.weight, r.partner_id) for r in ordered],
    )
    return {r.partner_id: from_minor(units, currency) for r, units in zip(ordered, parts, strict=True)}


def format_share(share: Fraction) -> str:
    """A share with six decimals, half-even: ``Fraction(1, 3)`` -> ``"0.333333"``."""
    millionths = round(share * 1_000_000)  # round() on a Fraction is exact and half-even
    return format(Decimal(millionths).scaleb(-6), "f")


def format_amount(amount: Decimal) -> str:
    """An amount already at the currency's minor unit, written with exactly those digits."""
    return format(amount, "f")
