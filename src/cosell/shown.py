r"""Text from data as people see it: shown, never obeyed. One mapping for every view.

A name, a note or a reason comes from a CRM, a CSV or a form, and may hold characters that a
terminal, a browser or a PDF viewer would act on instead of showing (an escape sequence, a carriage
return, a bidi override that makes the amount beside a name read backwards) or would show as
nothing (a zero-width space: "Ac\u200bme" passes for "Acme"). :func:`visible` replaces each with a
visible picture, one character for one. Every view for people applies it, the same way: the
terminal's tables and messages (:mod:`cosell.terminal`, :mod:`cosell.cli.common`), the html report
(escaped by markupsafe after the mapping) and the pdf report, its charts included. The data formats
(json, csv, xlsx) keep the data as it is.
"""

from __future__ import annotations

import unicodedata

# What a terminal would obey instead of showing: C0 controls but the tab and the line break (ESC
# starts the sequences that clear a screen, retitle a window or write to the clipboard; a carriage
# return lets a name overwrite the amount before it), DEL, and the C1 controls (0x9B is an 8-bit
# CSI). Each is shown as its Unicode control picture (␛, ␍), or as U+FFFD for C1, one cell wide.
_CONTROL_PICTURES = (
    {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)}
    | {0x7F: 0x2421}
    | {c: 0xFFFD for c in range(0x80, 0xA0)}
)
# What a bidi-aware terminal, a browser, a pdf viewer or a pdf's text layer (copied, searched)
# would obey, or what shows as nothing:
# the bidi marks (ALM, LRM, RLM), embeddings and overrides (LRE..RLO: U+202E makes the amount beside
# a name read backwards, the "Trojan Source" trick) and isolates (LRI..PDI); the zero-width space,
# non-joiner and joiner, the word joiner and the invisible operators (U+2060..U+2064), the deprecated
# format controls (U+206A..U+206F), the BOM (zero-width no-break space) and the tag characters (text
# no one sees). "Ac\u200bme" must not pass for "Acme" in a listing. None has a control picture: each
# is shown as U+FFFD, as C1 is: one cell wide in every font, neutral in bidi (it reorders nothing
# itself), and it says what it is, a character that is there but cannot be shown as it is.
_FORMAT_CHARACTERS = (
    0x061C,  # ALM
    0x200E,  # LRM
    0x200F,  # RLM
    0xFEFF,  # BOM
    *range(0x200B, 0x200E),  # zero-width space, non-joiner, joiner
    *range(0x202A, 0x202F),  # LRE, RLE, PDF, LRO, RLO
    *range(0x2060, 0x2070),  # word joiner, invisible operators, isolates, deprecated (U+2065: none)
    *range(0xE0000, 0xE0080),  # tags
)
_PICTURES = _CONTROL_PICTURES | dict.fromkeys(_FORMAT_CHARACTERS, 0xFFFD)


def visible(text: str) -> str:
    r"""Text from data as people's output shows it: every character a terminal, a browser or a pdf
    viewer would obey instead of showing, or would show as nothing, replaced by a visible picture of
    it, one character for one (so styles' spans and a table's column widths still fit).

    Control characters (C0 but tab and line break, DEL) print as their control pictures, C1 as
    U+FFFD; so do the bidi controls (marks, embeddings, overrides, isolates) and the invisible format
    characters (zero-width space, joiners, word joiner, BOM, tags):

    >>> visible("Acme\x1b]0;pwned\x07 Corp\r")
    'Acme␛]0;pwned␇ Corp␍'
    >>> visible("Acme\u202e 1,250.00"), visible("Ac\u200bme"), visible("\u2067x\u2069 \u200f\u061c")
    ('Acme\ufffd 1,250.00', 'Ac\ufffdme', '\ufffdx\ufffd \ufffd\ufffd')

    The zero-width joiner and non-joiner are replaced too, also inside a Persian or Indic name or an
    emoji sequence that needs them: a table is where a controller tells two names apart, and an
    invisible character is exactly what must be seen there (the name stays readable, with a mark
    where the joiner is); json, csv and xlsx keep the data as it is. Right-to-left text itself is
    left alone: the letters carry their direction, only the controls are shown.

    >>> visible("Zoë S.A. שלום مرحبا 北京")
    'Zoë S.A. שלום مرحبا 北京'
    """
    return text.translate(_PICTURES)


def control_character(text: str) -> str | None:
    r"""The first control character (Unicode category Cc: C0, DEL, C1; a line break and a tab too)
    in ``text``, or None. A name or an id a person types (a policy's stage, a plan or rule id, a
    user id) never holds one: it is recorded on every entry and printed on every line, where one
    would break the line or be obeyed.

    >>> control_character("Closed Won"), control_character("P1\nP2"), control_character("a\tb")
    (None, '\n', '\t')
    """
    return next((c for c in text if unicodedata.category(c) == "Cc"), None)
