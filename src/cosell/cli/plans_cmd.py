"""``cosell plans``: write, check, load and list compensation plan versions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cosell.cli.common import (
    Format,
    FormatOption,
    NowOption,
    WorkspaceOption,
    by_option,
    console,
    emit_rows,
    err_console,
    in_workspace,
    login_name,
    reason_option,
    say,
    workspace,
)
from cosell.errors import UsageError
from cosell.instants import format_instant, format_optional
from cosell.outfiles import write_file
from cosell.policy import load_policy
from cosell.report_model import counted

if TYPE_CHECKING:
    from cosell.service.plans import Plan, PlanProblem

plans_app = typer.Typer(help="Write, check, load and list compensation plans.", no_args_is_help=True)

PolicyOption = Annotated[
    str | None,
    typer.Option(
        "--policy",
        envvar="COSELL_POLICY",
        help="Policy file (TOML): gives the workspace currency the plan must be in.",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``cosell plans ...`` to the app."""
    app.add_typer(plans_app, name="plans")


def _fail(problems: list[PlanProblem]) -> None:
    for problem in problems:
        err_console.message(str(problem), markup=False, highlight=False)
    err_console.print(counted(len(problems), "problem"), markup=False, highlight=False)
    raise typer.Exit(1)


def _summary(plan: Plan) -> str:
    until = format_instant(plan.effective_to) if plan.effective_to else "superseded"
    rep = plan.rep_commission
    rep_words = "no rep commission" if rep is None else f"rep commission {rep.partner_pay.replace('_', ' ')}"
    return (
        f"{plan.file}: {plan.label}, in force from {format_instant(plan.effective_from)} until {until}, "
        f"{counted(len(plan.rules), 'rule')}, {rep_words}: ok"
    )


@plans_app.command("check")
def plans_check(
    path: Annotated[Path, typer.Argument(help="A plan file, or a folder of plan files (*.toml).")],
    policy_path: PolicyOption = None,
) -> None:
    """Validate plan files: every problem is listed, naming its rule (exit 1); a summary when fine.

    A folder is also checked as a timeline: versions of one plan must follow each other with no
    gap or overlap in their effective dates, and at most one plan may be in force at a time.
    """
    from cosell.service.plans import check_plans

    checked = check_plans(path, load_policy(policy_path).workspace_currency)
    if checked.problems:
        _fail(checked.problems)
    for plan in checked.plans:
        say(_summary(plan))


@plans_app.command("load")
def plans_load(
    path: Annotated[Path, typer.Argument(help="The plan file to add as a new version.")],
    reason: Annotated[str, reason_option("Why this version is loaded (recorded; may not be empty).")],
    by: Annotated[
        str | None,
        by_option("Who loads it (recorded)."),
    ] = None,
    reprice: Annotated[
        bool,
        typer.Option(
            "--reprice",
            help="Allow the version to take over time already past: deals closed since its "
            "effective_from are re-priced (the ledger posts adjustments).",
        ),
    ] = False,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    now: NowOption = None,
) -> None:
    """Add a plan version to the workspace (all or nothing); the same file again changes nothing.
    It is recorded at now (--now, $COSELL_NOW or the clock)."""
    from cosell.service.plans import PlanInvalid, load_plan, read_plan

    currency = load_policy(policy_path).workspace_currency
    plan, problems = read_plan(path, currency)
    if plan is None:
        _fail(problems)
        return
    user = by or login_name()
    ws = workspace(workspace_path)
    try:
        result = load_plan(ws, plan, by_user=user, currency=currency, reason=reason, reprice=reprice)
    except PlanInvalid as exc:
        _fail(exc.problems)
        return
    finally:
        ws.close()
    if result.outcome == "unchanged":
        say(f"{plan.label} is already loaded with this text: nothing changed")
    else:
        say(f"loaded {plan.label} from {path} by {user} ({format_instant(plan.effective_from)} on)")


@plans_app.command("list")
def plans_list(workspace_path: WorkspaceOption = None, fmt: FormatOption = Format.table) -> None:
    """The plan versions of the workspace in effective-date order, with the range each is in force."""
    from cosell.service.plans import plan_versions

    rows = in_workspace(workspace_path, plan_versions, read_only=True)
    out: list[dict[str, Any]] = [
        {
            "plan_version": r.label,
            "effective_from": format_instant(r.effective_from),
            "effective_to": format_optional(r.effective_to),
            "in_force_until": format_optional(r.in_force_until),
            "rules": r.rules,
            "repriced": "yes" if r.repriced else "no",
            "loaded_at": format_instant(r.loaded_at),
            "by_user": r.by_user,
            "reason": r.reason,
            "file": r.file,
            "digest": r.digest[:12],
        }
        for r in rows
    ]
    columns = [
        "plan_version",
        "effective_from",
        "effective_to",
        "in_force_until",
        "rules",
        "repriced",
        "loaded_at",
        "by_user",
        "reason",
        "file",
        "digest",
    ]
    if not out and fmt is Format.table:
        console.print("no plan versions loaded: `cosell plans init plan.toml`, edit it, `cosell plans load`")
        return
    emit_rows(
        out,
        columns,
        fmt,
        title="compensation plan versions",
        optional=("loaded_at", "by_user", "reason", "file", "digest"),
    )


@plans_app.command("init")
def plans_init(
    path: Annotated[Path, typer.Argument(help="Where to write the example plan.")] = Path("plan.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example plan (referral, co-sell, influence, servicer and bonus rules)."""
    from cosell.service.plans import example_plan_text

    if path.exists() and not force:
        raise UsageError(f"{path} exists; pass --force to overwrite it")
    write_file(path, example_plan_text().encode("utf-8"), "the plan file")
    say(f"wrote {path}: edit it, check it with `cosell plans check {path}`, then `cosell plans load`")
