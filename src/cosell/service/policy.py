"""Use cases of the policy: the attribution rules in force as an appendix to a partner agreement
(``cosell policy appendix``). Nothing is read from or written to a workspace.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cosell import clock
from cosell.attribution.appendix import Appendix, build_appendix
from cosell.errors import UsageError
from cosell.outfiles import file_name
from cosell.policy import Policy

__all__ = ["APPENDIX_FORMATS", "Appendix", "appendix_file_name", "policy_appendix", "render_policy_appendix"]

APPENDIX_FORMATS = ("md", "html", "pdf")


def policy_appendix(policy: Policy, as_of: datetime | None = None) -> Appendix:
    """The rules of ``policy`` as numbered sentences, dated by ``as_of`` (its UTC date), else by
    today's date on :func:`cosell.clock.now` (``$COSELL_NOW`` pins it)."""
    return build_appendix(policy, clock.now(as_of).astimezone(UTC).date())


def render_policy_appendix(appendix: Appendix, fmt: str) -> bytes:
    """``appendix`` as ``md``, ``html`` or ``pdf`` bytes (the same appendix gives the same bytes)."""
    if fmt not in APPENDIX_FORMATS:
        raise UsageError(f"unknown appendix format {fmt!r}: one of {', '.join(APPENDIX_FORMATS)}")
    from cosell.reports.appendix import render_appendix

    return render_appendix(appendix, fmt)


def appendix_file_name(appendix: Appendix, fmt: str) -> str:
    """The file an appendix is written to without ``--out``: ``cosell-rules-<label>-<date>.<ext>``."""
    return file_name("cosell", "rules", appendix.label, appendix.dated.isoformat(), ext=fmt)
