"""Files and folders cosell writes: safe default names.

Default names (``cosell-cfo-2026-Q3.pdf``, ``cosell-statement-P012-2026-10.pdf``) are built by
:func:`file_name` from a slug of each part (:func:`slug`): an id comes from a CRM or a person, and
``../../escaped/P2`` must not put a statement outside the working folder.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_PART = 80


def slug(text: str) -> str:
    """``text`` as one safe file-name part: ASCII letters, digits, ``.``, ``_`` and ``-`` are kept,
    each run of anything else (``/``, ``\\``, spaces, control characters) becomes ``_``, and leading
    or trailing ``.``, ``_``, ``-`` are dropped (no hidden file, no ``..``, nothing read as an option).

    >>> slug("../../escaped/P2"), slug("P012"), slug("Müller & Söhne"), slug("..")
    ('escaped_P2', 'P012', 'M_ller_S_hne', 'x')
    """
    cleaned = _UNSAFE.sub("_", text).strip("._-")[:_MAX_PART].strip("._-")
    return cleaned or "x"


def file_name(*parts: str, ext: str) -> str:
    """A default file name: the slugs of ``parts`` joined by ``-``, then ``.ext``; always a plain name
    in the current folder (never a path).

    >>> file_name("cosell", "statement", "../../escaped/P2", "2026-10", ext="pdf")
    'cosell-statement-escaped_P2-2026-10.pdf'
    """
    return "-".join(slug(p) for p in parts) + "." + slug(ext)
