"""A company's registrable domain, the key that matches a partner's account, a referral's prospect
and a partner's own address to the same company.

``https://www.eu.acme.co.uk/about``, ``Jane@Sales.Acme.co.uk`` and ``acme.co.uk.`` all reduce to
``acme.co.uk``: the registrable domain under the Public Suffix List. The list is the one bundled
with the pinned ``publicsuffixlist`` package, so the answer never depends on the network or the day.
"""

from __future__ import annotations

import unicodedata
from contextlib import suppress
from functools import lru_cache

from publicsuffixlist import PublicSuffixList


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    return PublicSuffixList()  # reads the bundled list once; building it costs about 50 ms


def host_of(value: str) -> str | None:
    """The host name in a domain, URL or email address, lower case, without ``www.``, a port, a path
    or a trailing dot, an international name in its own letters (not punycode); None when there is
    none (an IP address is none)."""
    # NFKC: a decomposed ``mu\u0308ller.de`` (macOS, some exports) and a full-width ``ａｃｍｅ.com``
    # are the same names as ``müller.de`` and ``acme.com``; the ideographic full stops separate
    # labels, as IDNA reads them.
    text = unicodedata.normalize("NFKC", value).strip().lower().replace("\u3002", ".")
    if not text:
        return None
    if "://" in text:
        text = text.split("://", 1)[1]
    # The host ends at the path, query or fragment; an ``@`` there (``?ref=bob@evil.com``) is not
    # the host's, only one before it (an email address, ``user@`` in a URL) is.
    text = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    text = text.rsplit(":", 1)[0] if text.count(":") == 1 else text
    text = text.strip(".<> \t")
    if text.startswith("www."):
        text = text[4:]
    if "." not in text or any(c.isspace() for c in text):
        return None
    if all(label.isdigit() for label in text.split(".")):
        return None  # an IP address names a machine, not a company (192.168.1.1 is no "1.1")
    if "xn--" in text:
        # The punycode of an international domain is the same domain (xn--mller-kva.de = müller.de);
        # a text that is not valid punycode is compared as it is written.
        with suppress(UnicodeError):
            text = text.encode("ascii").decode("idna").lower()
    return text


def registrable_domain(value: str) -> str | None:
    """The registrable domain (``acme.co.uk``) of a domain, URL or email address, or None when the
    value names no host or only a public suffix (``co.uk``)."""
    host = host_of(value)
    if host is None:
        return None
    found: str | None = _psl().privatesuffix(host)
    return found
