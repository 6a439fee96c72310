"""The rules appendix (:mod:`cosell.attribution.appendix`) as a document: markdown, html or pdf.

html and pdf are the reports' own renderers (:mod:`cosell.reports.html`, :mod:`cosell.reports.pdf`):
the appendix becomes a :class:`~cosell.report_model.Report` whose sections hold numbered clauses,
so it prints in the reports' fonts, page layout, header and footer. Markdown is written here,
wrapped at 80 columns (a clause's lines after the first indented under its text), for docs and
for reading in a terminal. Every format is byte-identical for the same policy and date.
"""

from __future__ import annotations

import re
import textwrap

from cosell.attribution.appendix import Appendix
from cosell.report_model import Report, Section

APPENDIX_FORMATS = ("md", "html", "pdf")
WIDTH = 80

_MD_SPECIAL = re.compile(r"([\\`*<>\[\]])")


def appendix_report(appendix: Appendix) -> Report:
    """The appendix in the shape every report has: its facts, then a section per group of clauses."""
    return Report(
        key="appendix",
        title=appendix.title,
        subtitle=appendix.subtitle,
        currency=appendix.currency,
        facts=appendix.facts,
        running=f"policy {appendix.version} · dated {appendix.dated.isoformat()}",
        sections=tuple(
            Section(
                key=f"section-{s.number}",
                title=f"{s.number}. {s.title}",
                clauses=tuple((c.number, c.text) for c in s.clauses),
            )
            for s in appendix.sections
        ),
    )


def _md(text: str) -> str:
    # Names from the policy (stages, kinds) are printed as written; escape what markdown would read.
    return _MD_SPECIAL.sub(r"\\\1", text)


def _wrap(text: str, first: str, rest: str) -> list[str]:
    """Wrapped at spaces only: a number, an id or a kind is never split."""
    return textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


def render_markdown(appendix: Appendix) -> str:
    """The appendix as markdown lines of at most 80 columns (a longer word stays whole)."""
    lines = [f"# {_md(appendix.title)}", ""]
    lines += _wrap(_md(appendix.subtitle), "", "")
    lines.append("")
    for label, value in appendix.facts:
        lines += _wrap(f"- {label}: {_md(value)}", "", "  ")
    for section in appendix.sections:
        lines += ["", f"## {section.number}. {_md(section.title)}"]
        for clause in section.clauses:
            indent = " " * (len(clause.number) + 1)
            lines.append("")
            lines += _wrap(_md(clause.text), f"{clause.number} ", indent)
    return "\n".join(lines) + "\n"


def render_appendix(appendix: Appendix, fmt: str) -> bytes:
    """``appendix`` as ``md``, ``html`` or ``pdf`` bytes."""
    if fmt == "md":
        return render_markdown(appendix).encode("utf-8")
    from cosell.reports.render import render

    return render(appendix_report(appendix), fmt)
