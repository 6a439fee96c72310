"""Picklist values through the mapping, and the stages checked against the policy.

A picklist value (a partner source, a stage, a type, a lead source, a partner role) becomes a
canonical value only by the mapping, or when it already is one (``sourced``, ``Closed Won``
where the policy knows it): an unmapped value is a located error, never a guess.

Stages keep their CRM names (reports show them); the policy decides open, won and lost. The
mapping's ``[stages]`` says what each stage means, so an import refuses a mapping and a policy
that disagree (a stage the mapping calls won that the policy would call open), naming the line
and the policy key to set, instead of attributing closed deals as open ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cosell.crm.canonical import Translation
from cosell.crm.mapping import VALUE_MAPS, CrmMapping
from cosell.errors import Problem
from cosell.policy import Policy

if TYPE_CHECKING:
    from cosell.crm.objects import ObjectFile


def _named(mapping: CrmMapping) -> str:
    """How a problem names the mapping: ``the mapping (m.toml)``, or that none was given."""
    return (
        "the default mapping (no --mapping given)" if mapping.is_default else f"the mapping ({mapping.file})"
    )


def value_of(
    mapping: CrmMapping, table: str, value: str, f: ObjectFile, row: int, column: str, *, keep: bool = False
) -> str:
    """``value`` through the mapping's ``[table]``; a problem is recorded when it has no meaning.

    ``keep=True`` (stages): the value itself is returned, after the check.
    An empty value stays empty unless the mapping maps ``""``.
    """
    entries = mapping.value_map(table)
    if value in entries:
        return value if keep else entries[value]
    if keep:
        if entries and value:
            f.out.problem(f.file, row, f.header(column), value, f"is not in [{table}] of {_named(mapping)}")
        return value
    if not value:
        return ""
    if value.lower() in VALUE_MAPS[table]:
        return value.lower()
    f.out.problem(
        f.file,
        row,
        f.header(column),
        value,
        f"is not in [{table}] of {_named(mapping)}: map it to one of {', '.join(VALUE_MAPS[table])}",
    )
    return ""


def check_stages(mapping: CrmMapping, policy: Policy, out: Translation) -> None:
    """Each stage the mapping classes must be classed the same way by the policy."""
    for stage, meaning in sorted(mapping.value_map("stages").items()):
        if policy.stage_class(stage) == meaning:
            continue
        key = {"won": "stages.won", "lost": "stages.lost"}.get(meaning)
        fix = (
            f'add "{stage}" to {key} in the policy'
            if key
            else f'remove "{stage}" from stages.{policy.stage_class(stage)} in the policy'
        )
        out.problems.append(
            _mapping_problem(
                mapping,
                stage,
                f'"{stage}" is {meaning} here but {policy.stage_class(stage)} by the policy: {fix} '
                "(the policy decides; the mapping says what the CRM means)",
            )
        )


def _mapping_problem(mapping: CrmMapping, stage: str, reason: str) -> Problem:
    where = mapping.where("stages", stage)
    file, _, rest = where.partition(", ")
    line = None
    if " line " in file:
        file, _, number = file.partition(" line ")
        line = int(number)
    return Problem(file, line, rest, None, reason)
