"""Free-mail domains: an address there names a person, never a company.

A prospect writing from ``jane@gmail.com`` gives an email but no company domain, and a partner's
employee writing from a free-mail address cannot be identified by domain (SPEC section 7: free-mail
domains never identify a partner); nor does a company listed at ``gmail.com`` match, by domain, every
other one listed there (:mod:`cosell.accounts.match`). The list is fixed here, not fetched, so the answer never depends
on the network or the day; it names the providers seen in B2B introductions, and a domain missing
from it only means a prospect domain is kept that a reviewer can clear.
"""

from __future__ import annotations

from cosell.accounts.domains import registrable_domain

FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    (
        "126.com", "139.com", "163.com", "188.com", "aim.com", "alice.it", "aol.co.uk", "aol.com", "aol.de",
        "aol.fr", "att.net", "bellsouth.net", "bigpond.com", "bluewin.ch", "btinternet.com", "charter.net",
        "comcast.net", "cox.net", "daum.net", "earthlink.net", "email.com", "fastmail.com", "fastmail.fm",
        "free.fr", "freenet.de", "gmail.com", "gmx.at", "gmx.ch", "gmx.com", "gmx.de", "gmx.net",
        "googlemail.com", "hanmail.net", "hey.com", "hotmail.co.uk", "hotmail.com", "hotmail.de",
        "hotmail.es", "hotmail.fr", "hotmail.it", "icloud.com", "inbox.com", "laposte.net", "libero.it",
        "live.ca", "live.co.uk", "live.com", "live.com.au", "live.de", "live.fr", "live.nl", "mac.com",
        "mail.com", "mail.ru", "me.com", "msn.com", "naver.com", "netcologne.de", "orange.fr",
        "outlook.com", "outlook.de", "outlook.es", "outlook.fr", "pm.me", "proton.me", "protonmail.ch",
        "protonmail.com", "qq.com", "rambler.ru", "rediffmail.com", "rocketmail.com", "sbcglobal.net",
        "sfr.fr", "shaw.ca", "sina.com", "sky.com", "t-online.de", "telenet.be", "tiscali.it",
        "tutanota.com", "tutanota.de", "verizon.net", "virginmedia.com", "wanadoo.fr", "web.de", "yahoo.ca",
        "yahoo.co.in", "yahoo.co.jp", "yahoo.co.uk", "yahoo.com", "yahoo.com.au", "yahoo.com.br",
        "yahoo.de", "yahoo.es", "yahoo.fr", "yahoo.in", "yahoo.it", "yandex.com", "yandex.ru", "ymail.com",
        "zoho.com", "zohomail.com",
    )
)  # fmt: skip


def is_free_mail(domain: str | None) -> bool:
    """True when ``domain`` (already lower case, a registrable domain) is a free-mail provider."""
    return domain is not None and domain.lower() in FREE_MAIL_DOMAINS


def company_domain(value: str) -> str | None:
    """The registrable domain of a domain, URL or address, unless it is a free-mail provider's
    (:func:`cosell.accounts.domains.registrable_domain`): ``jane@gmail.com`` names no company, so
    it neither matches another account listed there nor identifies a prospect or a partner."""
    found = registrable_domain(value)
    return None if is_free_mail(found) else found
