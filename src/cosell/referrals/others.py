"""Other partners in free text, as a partner user may read it (SPEC section 9: a partner user never
sees another partner's name). The rule is pure: the workspace's partners and registrations are
read by :func:`cosell.service.channel.other_partners`.

A reason written by partner_ops or an admin ("conflict with Apex Partners' registration R-17
(P7)") is shown to the partner whose registration or referral it is about: it needs to know why
it was rejected. Every other partner's name (any case, as whole words), partner_id and
registration id (exactly) in it is replaced; the reader's own are kept.

>>> others = OtherPartners.of("P1", [("P1", "Alpha"), ("P7", "Apex Partners")], [("R-1", "P1"), ("R-17", "P7")])
>>> others.hide("conflict with APEX partners' registration R-17 (P7), not with Alpha's R-1")
"conflict with another partner's registration another registration (another partner), not with Alpha's R-1"
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ANOTHER_PARTNER", "ANOTHER_REGISTRATION", "OtherPartners"]

ANOTHER_PARTNER = "another partner"
ANOTHER_REGISTRATION = "another registration"


@dataclass(frozen=True)
class OtherPartners:
    """What a partner user (``partner_id``: its own partner) may not read in free text: each other
    partner's name, partner_id and registration id with what replaces it."""

    partner_id: str
    pattern: re.Pattern[str] | None  # every name and id, the reader's own too; None: none at all
    ids: dict[str, str]  # every id -> its replacement ("": the reader's own, kept)
    own_names: frozenset[str]  # the reader's own partner's name (as _key gives it), kept

    @classmethod
    def of(
        cls, partner_id: str, partners: Iterable[tuple[str, str]], registrations: Iterable[tuple[str, str]]
    ) -> OtherPartners:
        """The other partners of ``partner_id`` among ``partners`` ((partner_id, name): the current
        names) and ``registrations`` ((registration_id, partner_id))."""
        partners = list(partners)
        ids = {pid: "" if pid == partner_id else ANOTHER_PARTNER for pid, _ in partners}
        for rid, pid in registrations:
            ids.setdefault(rid, "" if pid == partner_id else ANOTHER_REGISTRATION)
        names = {_key(name): name for _, name in sorted(partners) if _key(name)}
        own = frozenset(_key(name) for pid, name in partners if pid == partner_id) - {""}
        # Own names and ids are in the pattern too, and the longest alternative goes first, so a
        # name inside the reader's own ("Alpha" of "Alpha Partners") is not replaced there.
        alternatives = [(n, f"(?i:{_words(n)})") for n in names.values()]
        alternatives += [(i, re.escape(i)) for i in ids if i]
        alternatives.sort(key=lambda a: (-len(a[0]), a[0]))
        pattern = None
        if alternatives:
            # A plural name's possessive apostrophe ("Apex Partners' deal") goes with the name, so
            # that its replacement reads "another partner's deal".
            names_or_ids = "|".join(a for _, a in alternatives)
            pattern = re.compile(r"(?<!\w)(?:" + names_or_ids + r")(?!\w)(?P<apostrophe>'(?!\w))?")
        return cls(partner_id, pattern, ids, own)

    def hide(self, text: str) -> str:
        """``text`` with every other partner's name and id replaced by "another partner" (a
        registration id: "another registration")."""
        if self.pattern is None or not text:
            return text

        def replaced(match: re.Match[str]) -> str:
            apostrophe = match.group("apostrophe") or ""
            found = match.group(0)[: len(match.group(0)) - len(apostrophe)]
            if found in self.ids:  # an id, matched exactly (case and all)
                other = self.ids[found]
            # A name, in any case. What is not known as the reader's own is hidden: a name another
            # partner shares with the reader's partner is its own to read.
            else:
                other = "" if _key(found) in self.own_names else ANOTHER_PARTNER
            if not other:
                return match.group(0)
            return other + ("'s" if apostrophe else "")

        # A name followed by its id, as cosell writes a partner ("Acme (P7)"), is one partner.
        return self.pattern.sub(replaced, text).replace(_BOTH_HIDDEN, ANOTHER_PARTNER)


_BOTH_HIDDEN = f"{ANOTHER_PARTNER} ({ANOTHER_PARTNER})"


def _key(name: str) -> str:
    """A name as matched: any case, any run of spaces between its words."""
    return " ".join(name.split()).casefold()


def _words(name: str) -> str:
    """The pattern of a name: its words, escaped, with any run of spaces between them."""
    return r"\s+".join(re.escape(w) for w in name.split())
