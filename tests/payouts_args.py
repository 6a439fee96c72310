"""The command line of a money move, as the tests run it: every ``payouts`` action that posts,
proposes or approves says why (``--reason``)."""

from __future__ import annotations

REASON = "monthly close"


def payouts_args(
    action: str, workspace: str, *args: str, period: str | None = None, by: str | None = None
) -> list[str]:
    """``payouts ACTION --reason "monthly close" [--period P] --workspace W [--by USER] ARGS``."""
    period_args = ["--period", period] if period is not None else []
    by_args = ["--by", by] if by is not None else []
    return ["payouts", action, "--reason", REASON, *period_args, "--workspace", workspace, *by_args, *args]
