"""Slack's message markup turned into the plain-text lines a person reads, for the prospect extractor.

Slack stores ``mrkdwn``: links as ``<https://x.com|x.com>`` and ``<mailto:a@b.com|a@b.com>``,
mentions as ``<@U0123>``, ``<#C0123|general>`` and ``<!here>``, emphasis as ``*bold*``, ``_italic_``
and ``~strike~``, and only ``&``, ``<`` and ``>`` escaped (``&amp;``, ``&lt;``, ``&gt;``). A
bot's form post (Workflow Builder) often writes a label alone on a bold line and its value on the
next one; :func:`form_lines` joins the two into ``Label: value`` so the labelled-line reading of
:mod:`cosell.referrals.prospect_text` sees it.

>>> plain_text("*Company:* Globex &amp; Sons <https://globex.com|globex.com>", {})
'Company: Globex & Sons globex.com'
>>> plain_text("intro for <@U01> via <mailto:jane@globex.com|jane@globex.com>", {"U01": "bob"})
'intro for @bob via jane@globex.com'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

# <target|label> or <target>; the target may be a URL, mailto:, tel:, @user, #channel or !special.
_ANGLE_RE = re.compile(r"<([^<>|\s]+)(?:\|([^<>]*))?>")
# Emphasis marks that open or close a word: "*bold*" but not "a*b" nor the "_" inside jane_doe@x.com.
_EMPHASIS_RE = re.compile(r"(?<![\w*_~`])[*_~]+(?=\S)|(?<=\S)[*_~]+(?![\w*_~`])")
_CODE_RE = re.compile(r"`{1,3}")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))  # &amp; last: "&amp;lt;" is a literal "&lt;"

# The labels of a referral form, lower case: the prospect's fields, and who referred it. A message
# "carries labelled fields" when one of its lines is "<one of these>: <value>".
PROSPECT_LABELS = frozenset({
    "company", "company name", "account", "account name", "organisation", "organization",
    "prospect", "prospect company", "customer", "client", "contact", "contact name", "name",
    "prospect name", "full name", "point of contact", "email", "e-mail", "email address",
    "contact email", "title", "job title", "role", "website", "domain", "company website",
})  # fmt: skip
SUBMITTER_LABELS = frozenset(
    {"submitted by", "referred by", "referrer", "from", "sent by", "partner contact"}
)
PARTNER_LABELS = frozenset({"partner", "partner name", "partner company", "referring partner"})
_ALL_LABELS = PROSPECT_LABELS | SUBMITTER_LABELS | PARTNER_LABELS | {"notes", "details", "comments"}
_LABEL_LINE_RE = re.compile(r"^\s*[>\-\u2022]*\s*([A-Za-z][A-Za-z .'-]{0,30}?)\s*:(?!//)\s*(\S.*?)\s*$")


def plain_text(text: str, user_handles: Mapping[str, str]) -> str:
    """``text`` (Slack mrkdwn) as a person reads it: links by their label (or target when bare),
    ``mailto:`` dropped, user mentions as ``@handle`` (the lower-case Slack user name, or the id when
    unknown, so a workspace member's name never reads as a prospect's), channels as ``#name``,
    emphasis and code marks removed, entities decoded."""
    text = _ANGLE_RE.sub(lambda m: _unwrap(m.group(1), m.group(2), user_handles), text)
    text = _CODE_RE.sub("", text)
    text = "\n".join(_EMPHASIS_RE.sub("", line) for line in text.split("\n"))
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def _unwrap(target: str, label: str | None, user_handles: Mapping[str, str]) -> str:
    if target.startswith("@"):
        user = target[1:]
        return "@" + user_handles.get(user, user)
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        # <!here>, <!channel>, <!subteam^S01|@sales>, <!date^...|fallback>: what Slack shows
        return label or "@" + target[1:].split("^", 1)[0]
    if label:
        return label
    if target.lower().startswith("mailto:"):
        return target[len("mailto:") :]
    return target


def mentioned_users(text: str) -> list[str]:
    """The user ids mentioned in ``text`` (``<@U0123>`` or ``<@U0123|bob>``), in order."""
    return [m.group(1)[1:] for m in _ANGLE_RE.finditer(text) if m.group(1).startswith("@")]


def label_of(line: str) -> tuple[str, str] | None:
    """``("company", "Globex")`` for a line ``Company: Globex`` (any label, lower case), else None."""
    match = _LABEL_LINE_RE.match(line)
    if match is None:
        return None
    return " ".join(match.group(1).lower().split()), match.group(2)


def form_lines(lines: Sequence[str]) -> list[str]:
    """``lines`` with each form label alone on its line (``Company`` or ``Company:``) joined to the
    value on the next non-empty line, as a form bot writes them; other lines unchanged."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        label = line.strip().rstrip(":").strip().lower()
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if (
            label in _ALL_LABELS
            and j < len(lines)
            and label_of(lines[j]) is None
            and lines[j].strip().rstrip(":").strip().lower() not in _ALL_LABELS
        ):
            out.append(f"{line.strip().rstrip(':').strip()}: {lines[j].strip()}")
            out.extend("" for _ in range(i + 1, j + 1))  # keep line numbers those of the message
            i = j + 1
            continue
        out.append(line)
        i += 1
    return out


def has_labelled_field(lines: Iterable[str]) -> bool:
    """Whether some line is ``<prospect label>: <value>`` (``Company: Globex``, ``Email: ...``)."""
    return any((found := label_of(line)) is not None and found[0] in PROSPECT_LABELS for line in lines)
