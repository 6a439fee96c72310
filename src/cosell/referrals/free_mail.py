"""Free-mail domains: an address there names a person, never a company.

A prospect writing from ``jane@gmail.com`` gives an email but no company domain, and a partner's
employee writing from a free-mail address cannot be identified by domain (SPEC section 7: free-mail
domains never identify a partner). The list is fixed here, not fetched, so the answer never depends
on the network or the day; it names the providers seen in B2B introductions, and a domain missing
from it only means a prospect domain is kept that a reviewer can clear.
"""

from __future__ import annotations

FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "aol.com",
        "fastmail.com",
        "gmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "googlemail.com",
        "hey.com",
        "hotmail.co.uk",
        "hotmail.com",
        "hotmail.fr",
        "icloud.com",
        "laposte.net",
        "live.com",
        "mac.com",
        "mail.com",
        "mail.ru",
        "me.com",
        "msn.com",
        "orange.fr",
        "outlook.com",
        "pm.me",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "t-online.de",
        "web.de",
        "yahoo.co.uk",
        "yahoo.com",
        "yahoo.fr",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
    }
)


def is_free_mail(domain: str | None) -> bool:
    """True when ``domain`` (already lower case, a registrable domain) is a free-mail provider."""
    return domain is not None and domain.lower() in FREE_MAIL_DOMAINS
