"""Use cases of compensation plans: check plan files, load a plan version, list the versions
(``cosell plans check|load|list|init``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cosell import clock
from cosell.errors import UsageError
from cosell.pay.ledger import PAY_OPERATOR_ROLES
from cosell.pay.plan_check import check_folder
from cosell.pay.plan_parse import example_plan_text, parse_plan_text, read_plan_text
from cosell.pay.plan_versions import AddResult, PlanVersionRow, add_plan_version, list_plan_versions
from cosell.pay.plans import Plan, PlanInvalid, PlanProblem
from cosell.store.users import check_role
from cosell.store.workspace import Workspace

__all__ = [
    "AddResult",
    "Plan",
    "PlanCheck",
    "PlanInvalid",
    "PlanProblem",
    "PlanVersionRow",
    "check_plans",
    "example_plan_text",
    "load_plan",
    "plan_versions",
    "read_plan",
]


def _plan_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".toml" and p.is_file())
        if not files:
            raise UsageError(f"{path} holds no .toml plan files")
        return files
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    return [path]


def _read(path: Path, currency: str) -> tuple[Plan | None, list[PlanProblem]]:
    file = str(path)
    text = read_plan_text(path)
    if isinstance(text, PlanProblem):
        return None, [text]
    plan, problems = parse_plan_text(text, file)
    if plan is not None and plan.currency != currency:
        return None, [PlanProblem(file, f"currency {plan.currency} is not the workspace currency {currency}")]
    return plan, problems


@dataclass(frozen=True)
class PlanCheck:
    """Plan files checked: the plans read (in effective-date order) and every problem found."""

    plans: list[Plan]
    problems: list[PlanProblem]


def check_plans(path: Path, currency: str) -> PlanCheck:
    """Validate a plan file, or a folder of them (``*.toml``), in the workspace ``currency``.

    A folder is also checked as a timeline once every file is valid: versions of one plan follow
    each other with no gap or overlap, and at most one plan is in force at a time.
    """
    plans: list[Plan] = []
    problems: list[PlanProblem] = []
    for file in _plan_files(path):
        plan, found = _read(file, currency)
        problems.extend(found)
        if plan is not None:
            plans.append(plan)
    if not problems:
        problems = check_folder(plans)
    return PlanCheck(sorted(plans, key=lambda p: (p.effective_from, p.plan_id, p.version)), problems)


def read_plan(path: Path, currency: str) -> tuple[Plan | None, list[PlanProblem]]:
    """One plan file read and validated (None with its problems when it is not a valid plan)."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder: load one plan file at a time")
    return _read(_plan_files(path)[0], currency)


def load_plan(
    ws: Workspace, plan: Plan, *, by_user: str, currency: str, reason: str, reprice: bool = False
) -> AddResult:
    """Add ``plan`` as a new version, recorded at now by ``by_user`` (a pay operator) for ``reason``
    (required: a blank one is a UsageError), in one transaction; the same text again changes nothing. Raises :class:`PlanInvalid` (its problems
    listed) when the version does not fit the workspace's timeline, or takes over time already past
    without ``reprice``."""
    from cosell.hygiene.decisions import check_reason  # lazy: `plans check` never needs it

    why = check_reason(reason, "a plan load")
    with ws.transaction() as con:
        check_role(con, by_user, PAY_OPERATOR_ROLES, "load compensation plans")
        return add_plan_version(
            con, plan, by_user, now=clock.now(), workspace_currency=currency, reprice=reprice, reason=why
        )


def plan_versions(ws: Workspace) -> list[PlanVersionRow]:
    """The plan versions of the workspace in effective-date order, with the range each is in force."""
    return list_plan_versions(ws.con)
