"""The attribution policy: one versioned TOML file of windows, thresholds, kinds, bands and weights.

Every setting is declared once in :data:`SETTINGS` (dotted key, default, help). The same table
feeds the defaults, the commented file written by ``cosell policy init``, validation on load (errors
name the key) and the docs test that fails when a setting is undocumented.

A policy's version is ``<label>@<hash>``: the label is human (``label = "fy27-rules"``), the hash is
the first 12 hex digits of the SHA-256 of the effective settings, so comments and layout do not
change it but any value does. Every result records it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from cosell.errors import PolicyError, did_you_mean
from cosell.money import is_currency, significant_fraction_digits
from cosell.shown import control_character
from cosell.toml_text import NotToml, UnreadableFile, read_toml, read_toml_file, shown_value

PARTNER_ENGAGEMENT_KINDS = (
    "referral", "intro", "joint_call", "joint_presentation", "reference", "procurement_assist",
    "exec_sponsor", "event_invite", "event_speaking", "mention", "implementation",
)  # fmt: skip
DIRECT_ENGAGEMENT_KINDS = (
    "outbound_sequence", "outbound_call", "outbound_email_reply", "inbound_form", "inbound_call",
    "demo_request", "event_attendance",
)  # fmt: skip
NOT_ENGAGEMENT_KINDS = ("marketing_email_sent", "internal_note")
ROLES = ("sourcer", "co_seller", "reseller", "influencer", "servicer")


# The credit models of attribution/credit.py, by name (a test keeps the two lists equal; the policy
# is core and does not import a capability).
CREDIT_MODELS = ("role_weighted", "even", "first_touch", "last_touch", "position_based", "time_decay")

# Bounds on numbers, so that a policy that checks never overflows a duration or a fraction later.
MAX_DAYS = 36_500  # a hundred years
MAX_COUNT = 1_000_000_000
MAX_DECIMAL = Decimal(10) ** 12
DECIMAL_PLACES = 12
# The role weights are used as whole numbers with the same ratios (integer_role_weights): the batch
# engine multiplies a deal's amount in minor units by one in 64-bit integers, so the largest is
# bounded (a weight of 999999999999 beside one of 0.5 would overflow on every partner deal).
MAX_ROLE_WEIGHT_UNITS = 1_000_000
# The version, <label>@<12 hex digits>, is written back to the CRM in a 255-character text field
# (cosell.crm.fields; a test keeps the two in step): a longer label would check, then make every
# write-back of every run under it fail.
MAX_LABEL_CHARS = 255 - len("@") - 12


@dataclass(frozen=True)
class Setting:
    """One policy key: dotted name, default value, kind of value, and the help shown everywhere.

    ``choices`` lists the accepted values of a ``choice`` setting; ``maximum`` bounds an ``int``,
    and the length of a ``str``.
    """

    key: str
    default: Any
    kind: str  # int, decimal, bool, str, choice, str_list, decimal_list, currency, month
    help: str
    choices: tuple[str, ...] = ()
    maximum: int = MAX_COUNT


SETTINGS: tuple[Setting, ...] = (
    Setting("label", "default", "str", "Human name of this policy; part of the version recorded with every result.", maximum=MAX_LABEL_CHARS),
    Setting("workspace_currency", "USD", "currency", "ISO 4217 currency that reports and costs are in."),
    Setting("fiscal_year_start_month", 1, "month", "First month of the fiscal year (1 = January). A fiscal year is named by the calendar year it ends in."),
    Setting("windows.sourcing_lookback_days", 180, "int", "Days before creation in which partner evidence may source a deal (and direct touches block it).", maximum=MAX_DAYS),
    Setting("windows.protection_window_days", 90, "int", "Days a deal registration protects the partner when it has no expires_at.", maximum=MAX_DAYS),
    Setting("windows.baseline_window_days", 365, "int", "Days before a deal's close from which direct-only won deals form its baseline cohort.", maximum=MAX_DAYS),
    Setting("acceleration.min_pct", Decimal("0.20"), "decimal", "Minimum reduction of remaining time, as a fraction of the baseline, for ACC."),
    Setting("acceleration.min_days", 7, "int", "Minimum reduction of remaining time in days for ACC.", maximum=MAX_DAYS),
    Setting("acceleration.min_cohort_size", 10, "int", "Fewest baseline deals a cohort level needs before it is used."),
    Setting("influence.requires_activity", True, "bool", "A declared influencer or co-seller needs logged activity to count."),
    Setting("touch_kinds.partner_engagement", list(PARTNER_ENGAGEMENT_KINDS), "str_list", "Touch kinds that are partner engagement."),
    Setting("touch_kinds.direct_engagement", list(DIRECT_ENGAGEMENT_KINDS), "str_list", "Touch kinds that are direct engagement."),
    Setting("touch_kinds.not_engagement", list(NOT_ENGAGEMENT_KINDS), "str_list", "Known touch kinds the rules ignore (unknown kinds are ignored too, with a warning)."),
    Setting("amount_bands.edges", [Decimal("25000"), Decimal("100000")], "decimal_list", "Band edges in workspace currency: [0, 25000), [25000, 100000), [100000, ...)."),
    Setting("stages.won", ["Closed Won"], "str_list", "Stage names that mean won."),
    Setting("stages.lost", ["Closed Lost"], "str_list", "Stage names that mean lost. Every other stage is open."),
    Setting("credit.model", "role_weighted", "choice", "Credit model: role_weighted, even, first_touch, last_touch, position_based, time_decay.", choices=CREDIT_MODELS),
    Setting("credit.position_based_weights", [Decimal(40), Decimal(20), Decimal(40)], "decimal_list", "First / middle / last weights of position_based."),
    Setting("credit.time_decay_half_life_days", Decimal(14), "decimal", "Half-life in days of time_decay."),
    Setting("credit.role_weights.sourcer", Decimal(50), "decimal", "Weight of the sourcer role."),
    Setting("credit.role_weights.co_seller", Decimal(30), "decimal", "Weight of the co_seller role."),
    Setting("credit.role_weights.reseller", Decimal(30), "decimal", "Weight of the reseller role."),
    Setting("credit.role_weights.influencer", Decimal(15), "decimal", "Weight of the influencer role."),
    Setting("credit.role_weights.servicer", Decimal(5), "decimal", "Weight of the servicer role."),
    Setting("hygiene.prompt_expiry_days", 14, "int", "Days an unanswered influence prompt stays open before it expires with a finding.", maximum=MAX_DAYS),
    Setting("metrics.min_deals_for_confidence", 30, "int", "Fewer deals than this behind a figure adds a low-confidence note to it."),
)  # fmt: skip

_BY_KEY = {s.key: s for s in SETTINGS}


@dataclass(frozen=True)
class Policy:
    """The effective policy: every setting with its value, and the version recorded with results."""

    values: Mapping[str, Any] = field(default_factory=lambda: {s.key: s.default for s in SETTINGS})
    source: str | None = None

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    # Typed accessors for the settings the rules read most.
    @property
    def lookback_days(self) -> int:
        return int(self.values["windows.sourcing_lookback_days"])

    @property
    def protection_window_days(self) -> int:
        return int(self.values["windows.protection_window_days"])

    @property
    def baseline_window_days(self) -> int:
        return int(self.values["windows.baseline_window_days"])

    @property
    def acceleration_min_pct(self) -> Decimal:
        return Decimal(self.values["acceleration.min_pct"])

    @property
    def acceleration_min_days(self) -> int:
        return int(self.values["acceleration.min_days"])

    @property
    def min_cohort_size(self) -> int:
        return int(self.values["acceleration.min_cohort_size"])

    @property
    def influence_requires_activity(self) -> bool:
        return bool(self.values["influence.requires_activity"])

    @property
    def partner_kinds(self) -> frozenset[str]:
        return frozenset(self.values["touch_kinds.partner_engagement"])

    @property
    def direct_kinds(self) -> frozenset[str]:
        return frozenset(self.values["touch_kinds.direct_engagement"])

    @property
    def ignored_kinds(self) -> frozenset[str]:
        return frozenset(self.values["touch_kinds.not_engagement"])

    @property
    def engagement_kinds(self) -> frozenset[str]:
        """The touch kinds that are engagement, of either list: SPEC section 1, a touch's side is
        its actor's, so a partner's touch of a direct kind is partner engagement too."""
        return self.partner_kinds | self.direct_kinds

    @property
    def known_kinds(self) -> frozenset[str]:
        """Every touch kind the policy names (engagement or not): any other is unknown, and the
        rules ignore it."""
        return self.engagement_kinds | self.ignored_kinds

    @property
    def band_edges(self) -> tuple[Decimal, ...]:
        return tuple(self.values["amount_bands.edges"])

    @property
    def won_stages(self) -> frozenset[str]:
        return frozenset(self.values["stages.won"])

    @property
    def lost_stages(self) -> frozenset[str]:
        return frozenset(self.values["stages.lost"])

    @property
    def workspace_currency(self) -> str:
        return str(self.values["workspace_currency"])

    @property
    def credit_model(self) -> str:
        return str(self.values["credit.model"])

    @property
    def role_weights(self) -> dict[str, Decimal]:
        return {role: Decimal(self.values[f"credit.role_weights.{role}"]) for role in ROLES}

    @property
    def position_based_weights(self) -> tuple[Decimal, Decimal, Decimal]:
        first, middle, last = self.values["credit.position_based_weights"]
        return Decimal(first), Decimal(middle), Decimal(last)

    @property
    def time_decay_half_life_days(self) -> Decimal:
        return Decimal(self.values["credit.time_decay_half_life_days"])

    @property
    def prompt_expiry_days(self) -> int:
        return int(self.values["hygiene.prompt_expiry_days"])

    @property
    def min_deals_for_confidence(self) -> int:
        return int(self.values["metrics.min_deals_for_confidence"])

    @property
    def fiscal_year_start_month(self) -> int:
        return int(self.values["fiscal_year_start_month"])

    def stage_class(self, stage: str) -> str:
        """``won``, ``lost`` or ``open`` for a stage name, by the policy's stage mapping."""
        if stage in self.won_stages:
            return "won"
        if stage in self.lost_stages:
            return "lost"
        return "open"

    def amount_band(self, amount_in_workspace_currency: Decimal) -> int:
        """Index of the amount band (0 = below the first edge)."""
        return sum(1 for edge in self.band_edges if amount_in_workspace_currency >= edge)

    @property
    def digest(self) -> str:
        canonical = json.dumps(
            {k: _jsonable(v) for k, v in sorted(self.values.items())}, sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    @property
    def version(self) -> str:
        """``label@hash``: recorded with every result."""
        return f"{self.values['label']}@{self.digest}"

    def with_values(self, **changes: Any) -> Policy:
        """A copy with some settings changed (keys use ``__`` for dots), validated."""
        merged = dict(self.values)
        for name, value in changes.items():
            merged[name.replace("__", ".")] = value
        return Policy(_validate(merged, None), self.source)


def integer_role_weights(weights: Mapping[str, Decimal]) -> dict[str, int]:
    """Role weights scaled to integers with the same ratios (50, 15 stay 50, 15; 0.5 becomes 5).

    >>> integer_role_weights({"sourcer": Decimal("0.5"), "influencer": Decimal("0.15")})
    {'sourcer': 50, 'influencer': 15}
    """
    exponent = max((-w.normalize().as_tuple().exponent for w in weights.values()), default=0)  # type: ignore[operator]
    scale = Decimal(10) ** max(int(exponent), 0)
    return {role: int(w * scale) for role, w in weights.items()}


def _role_weights_bounded(values: Mapping[str, Any]) -> str | None:
    weights = {role: values[f"credit.role_weights.{role}"] for role in ROLES}
    largest = max(integer_role_weights(weights).values())
    if largest <= MAX_ROLE_WEIGHT_UNITS:
        return None
    return (
        f"as whole numbers with the same ratios the weights would reach {largest:,}, above "
        f"{MAX_ROLE_WEIGHT_UNITS:,}: use fewer decimal places or smaller numbers (only the ratios count)"
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def _as_decimal(key: str, value: Any, file: str | None) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise PolicyError(key, f"{shown_value(value)} is not a number", file)
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise PolicyError(key, f"{shown_value(value)} is not a number", file) from None
    if not number.is_finite():
        raise PolicyError(key, f"{value} is not a number", file)
    # By the exponent, never by arithmetic: 1e999999999 must not overflow or expand.
    if not number.is_zero() and number.adjusted() >= 12:
        raise PolicyError(key, f"{value} is too large (it must be below {MAX_DECIMAL:,})", file)
    if significant_fraction_digits(number) > DECIMAL_PLACES:
        raise PolicyError(key, f"{value} has more than {DECIMAL_PLACES} decimal places", file)
    return number


def _check_text(key: str, value: str, file: str | None) -> None:
    """A name in the policy (a stage, a kind, the label) is typed, never a control character: one
    would reach the CRM blueprint's XML, which cannot hold it, and every table that prints it."""
    bad = control_character(value)
    if bad is not None:
        raise PolicyError(key, f"{value!r} has a control character (U+{ord(bad):04X})", file)


def _check_value(setting: Setting, value: Any, file: str | None) -> Any:
    key, kind = setting.key, setting.kind
    if kind in ("int", "month"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise PolicyError(key, f"{shown_value(value)} is not a whole number", file)
        if value < 0:
            raise PolicyError(key, f"{value} must not be negative", file)
        if kind == "month" and not 1 <= value <= 12:
            raise PolicyError(key, f"{value} is not a month (1 to 12)", file)
        if value > setting.maximum:
            raise PolicyError(key, f"{value} is too large (at most {setting.maximum:,})", file)
        return value
    if kind == "decimal":
        number = _as_decimal(key, value, file)
        if number < 0:
            raise PolicyError(key, f"{value} must not be negative", file)
        return number
    if kind == "bool":
        if not isinstance(value, bool):
            raise PolicyError(key, f"{shown_value(value)} is not true or false", file)
        return value
    if kind in ("str", "currency", "choice"):
        if not isinstance(value, str) or not value:
            raise PolicyError(key, f"{shown_value(value)} is not a non-empty string", file)
        _check_text(key, value, file)
        if kind == "str" and len(value) > setting.maximum:
            raise PolicyError(key, f"is {len(value):,} characters long (at most {setting.maximum:,})", file)
        if kind == "currency" and not is_currency(value):
            raise PolicyError(key, f"{value!r} is not an ISO 4217 currency code", file)
        if kind == "choice" and value not in setting.choices:
            hint = did_you_mean(value, setting.choices, cutoff=0.4)
            raise PolicyError(key, f"{value!r} is not one of: {', '.join(setting.choices)}{hint}", file)
        return value
    if kind == "str_list":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise PolicyError(key, "must be a list of non-empty strings", file)
        for v in value:
            _check_text(key, v, file)
            if v != v.strip():
                # the data's cells are read trimmed: "Closed Won " would match no deal, and the
                # stage gate would guard nothing
                raise PolicyError(
                    key, f"{v!r} has a space at its start or end (no value in the data has)", file
                )
        return list(value)
    if kind == "decimal_list":
        if not isinstance(value, list):
            raise PolicyError(key, "must be a list of numbers", file)
        return [_as_decimal(key, v, file) for v in value]
    raise AssertionError(kind)  # pragma: no cover


def _engagement_also_ignored(values: Mapping[str, Any]) -> str | None:
    """A kind added to not_engagement while an engagement list (given, or the default) still holds
    it: the engagement list would win, and a re-mapping written as ``not_engagement = ["mention"]``
    would change nothing, silently. (A default not-engagement kind listed as engagement is the
    other re-mapping, and is what happens: the engagement list wins.)"""
    engagement = set(values["touch_kinds.partner_engagement"]) | set(values["touch_kinds.direct_engagement"])
    added = set(values["touch_kinds.not_engagement"]) - set(NOT_ENGAGEMENT_KINDS)
    both = sorted(engagement & added)
    if not both:
        return None
    return (
        f"{', '.join(both)}: a kind cannot be both engagement and not engagement "
        "(to re-map a kind, take it out of touch_kinds.partner_engagement or direct_engagement too)"
    )


_CROSS_CHECKS: tuple[tuple[str, Callable[[dict[str, Any]], str | None]], ...] = (
    ("acceleration.min_pct", lambda v: None if v["acceleration.min_pct"] < 1 else "must be below 1"),
    ("acceleration.min_cohort_size", lambda v: None if v["acceleration.min_cohort_size"] >= 1 else "must be at least 1"),
    ("amount_bands.edges", lambda v: None if list(v["amount_bands.edges"]) == sorted(set(v["amount_bands.edges"])) else "edges must be strictly increasing"),
    ("credit.position_based_weights", lambda v: None if len(v["credit.position_based_weights"]) == 3 else "needs exactly three weights: first, middle, last"),
    ("credit.position_based_weights", lambda v: None if all(w >= 0 for w in v["credit.position_based_weights"]) else "a weight must not be negative (a share of a deal's credit is never below 0)"),
    ("credit.position_based_weights", lambda v: None if len(v["credit.position_based_weights"]) != 3 or any(v["credit.position_based_weights"]) else "the three weights must not all be 0 (a deal with three touches or more would have nothing to share)"),
    ("credit.time_decay_half_life_days", lambda v: None if v["credit.time_decay_half_life_days"] > 0 else "must be positive"),
    ("credit.role_weights", _role_weights_bounded),
    ("stages.won", lambda v: None if v["stages.won"] else "needs at least one stage: with none, no deal is ever won (no acceleration, no revenue, no pay) and the stage gate guards nothing"),
    ("touch_kinds.partner_engagement", lambda v: None if v["touch_kinds.partner_engagement"] else "needs at least one kind: with none, no touch is ever partner engagement and no deal is sourced by a touch, accelerated or influenced by one"),
    ("stages.won", lambda v: None if not set(v["stages.won"]) & set(v["stages.lost"]) else "a stage cannot be both won and lost"),
    ("touch_kinds.direct_engagement", lambda v: None if not set(v["touch_kinds.partner_engagement"]) & set(v["touch_kinds.direct_engagement"]) else "a kind cannot be both partner and direct engagement"),
    ("touch_kinds.not_engagement", _engagement_also_ignored),
)  # fmt: skip


# Keys a cross check reads besides its own: it is skipped when one of them is already wrong.
_CROSS_READS = {
    "credit.role_weights": tuple(f"credit.role_weights.{role}" for role in ROLES),
    "stages.won": ("stages.lost",),
    "touch_kinds.direct_engagement": ("touch_kinds.partner_engagement",),
    "touch_kinds.not_engagement": ("touch_kinds.partner_engagement", "touch_kinds.direct_engagement"),
}


_TABLE_LINE = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_.\- ]+?)\s*=")


def key_lines(text: str) -> dict[str, int]:
    r"""The line (from 1) that sets each dotted key, or opens each table, of TOML ``text``: bare keys
    only (a quoted key has no line, nor has a key a multi-line value sets); for error messages.

    >>> key_lines('label = "x"\n[credit.role_weights]\nsourcer = 5\n[windows]\nbaseline_window_days=1')
    {'label': 1, 'credit.role_weights': 2, 'credit.role_weights.sourcer': 3, 'windows': 4, 'windows.baseline_window_days': 5}
    """
    lines: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if header := _TABLE_LINE.match(line):
            table = ".".join(part.strip() for part in header.group(1).split("."))
            lines.setdefault(table, number)
        elif key := _KEY_LINE.match(line):
            dotted = ".".join(part.strip() for part in key.group(1).split("."))
            lines.setdefault(f"{table}.{dotted}" if table else dotted, number)
    return lines


def _line_of(key: str, lines: Mapping[str, int]) -> int | None:
    """The line of ``key``, else of the nearest table or inline table that holds it."""
    while key:
        if key in lines:
            return lines[key]
        key = key.rpartition(".")[0]
    return None


def _validate(
    flat: Mapping[str, Any], file: str | None, lines: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """Every setting checked; every problem found is reported at once (like ``plans check``), each
    with the line that sets its key when ``lines`` (:func:`key_lines`) knows it."""
    values, problems = _validated(flat, file)
    if lines:
        problems = [PolicyError(p.key, p.reason, p.file, _line_of(p.key, lines)) for p in problems]
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise PolicyInvalid(problems)
    return values


def _validated(flat: Mapping[str, Any], file: str | None) -> tuple[dict[str, Any], list[PolicyError]]:
    values: dict[str, Any] = {s.key: s.default for s in SETTINGS}
    problems: list[PolicyError] = []
    wrong: set[str] = set()
    for key, value in flat.items():
        setting = _BY_KEY.get(key)
        if setting is None:
            hint = did_you_mean(key, list(_BY_KEY))
            problems.append(PolicyError(key, f"unknown key{hint}", file))
            continue
        try:
            values[key] = _check_value(setting, value, file)
        except PolicyError as exc:
            problems.append(exc)
            wrong.add(key)
    for key, check in _CROSS_CHECKS:
        if wrong & {key, *_CROSS_READS.get(key, ())}:
            continue  # its inputs are already reported; the default left in their place proves nothing
        problem = check(values)
        if problem:
            problems.append(PolicyError(key, problem, file))
    return values, problems


class PolicyInvalid(PolicyError):
    """A policy with several problems: ``problems`` lists every one, in file order, then cross checks.

    It is a :class:`PolicyError` about the first of them (``key``, ``reason``), so a caller that
    handles one problem handles this too; its message lists them all, one a line.
    """

    def __init__(self, problems: Sequence[PolicyError]) -> None:
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(first.key, first.reason, first.file, first.line)
        self.args = ("\n".join(str(p) for p in self.problems),)


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate a policy file; ``None`` gives the defaults."""
    if path is None:
        return Policy()
    file = str(path)
    try:
        text = read_toml_file(path, "a policy")
    except UnreadableFile as exc:
        raise PolicyError("(file)", str(exc), file) from None
    return parse_policy(text, file)


def parse_policy(text: str, file: str | None = None) -> Policy:
    """Parse and validate policy TOML text (numbers with a fraction are read as exact Decimals)."""
    try:
        data = read_toml(text)
    except NotToml as exc:
        raise PolicyError("(file)", str(exc), file) from None
    return Policy(_validate(_flatten(data), file, key_lines(text)), file)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


def render_policy_toml(policy: Policy | None = None) -> str:
    """The policy as a commented TOML file with every setting (defaults unless ``policy`` is given)."""
    values = (policy or Policy()).values
    lines = [
        "# cosell attribution policy. Every setting is listed with its default; edit values, keep keys.",
        "# The version recorded with every result is <label>@<hash of the values>.",
        "",
    ]
    section = None
    for setting in SETTINGS:
        head, _, name = setting.key.rpartition(".")
        if head != section:
            if head:
                lines += ["", f"[{head}]"]
            section = head
        lines.append(f"# {setting.help} Default: {_toml_value(setting.default)}")
        lines.append(f"{name} = {_toml_value(values[setting.key])}")
    return "\n".join(lines) + "\n"
