"""What one CRM's translation knows across its objects: ids, partners, customers, users.

Shared by the Salesforce and HubSpot importers. Partners are the accounts (companies) the export
flags as partners, and those it names as partners (a deal's declared partner, an opportunity
partner row, a partner user's account); such an account is one of our accounts too only when a
deal, a lead or an activity is on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cosell.crm.canonical import Translation
from cosell.crm.mapping import CrmMapping


@dataclass
class Org:
    """What one object's translation needs to know of the others (ids and who is a partner)."""

    accounts: dict[str, int] = field(default_factory=dict)  # account id -> index of its row
    account_rows: list[tuple[str, int, dict[str, str]]] = field(default_factory=list)
    flagged_partners: set[str] = field(default_factory=set)
    named_partners: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    customers: set[str] = field(default_factory=set)  # accounts a deal, lead or activity is on
    opportunity_account: dict[str, str] = field(default_factory=dict)
    contacts: dict[str, str] = field(default_factory=dict)  # contact id -> account id
    lead_accounts: dict[str, str] = field(default_factory=dict)
    users: set[str] = field(default_factory=set)
    user_refs: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    months: list[str] = field(default_factory=list)
    account_columns: dict[str, str | None] = field(default_factory=dict)

    @property
    def partners(self) -> set[str]:
        return self.flagged_partners | set(self.named_partners)

    def name_partner(self, account: str, file: str, row: int, column: str | None) -> None:
        if account and account not in self.named_partners:
            self.named_partners[account] = (file, row, column or "")

    def use_user(self, user: str, file: str, row: int, column: str | None) -> None:
        if user and user not in self.user_refs:
            self.user_refs[user] = (file, row, column or "")


def domain_of(website: str) -> str:
    """``https://www.Northwind.com/about`` -> ``northwind.com``."""
    text = website.strip()
    if not text:
        return ""
    host = urlsplit(text if "//" in text else "//" + text).hostname or ""
    return host.removeprefix("www.")


def emit_accounts(mapping: CrmMapping, org: Org, out: Translation) -> None:
    """Accounts and partners from the account rows: a partner is an account too only when a deal,
    a lead or an activity is on it."""
    partners = org.partners
    columns = org.account_columns
    for file, row, values in org.account_rows:
        account = values["account_id"]
        if account in partners:
            out.columns("partners", file, columns)
            partner_type = mapping.partner_types.get(values["_type"], mapping.partner_type_default)
            out.add(
                "partners",
                {
                    "partner_id": account,
                    "name": values["name"],
                    "domain": values["domain"],
                    "partner_type": partner_type,
                    "program_tier": values.get("_tier", ""),
                    "joined_at": values.get("_joined", ""),
                },
                file,
                row,
            )
        if account not in partners or account in org.customers:
            out.columns("accounts", file, columns)
            out.add("accounts", values, file, row)


def stub_users(org: Org, out: Translation) -> None:
    """Without a User file, each user a row names is a user known only by id (no name, no role)."""
    for user, (file, row, column) in sorted(org.user_refs.items()):
        out.columns("users", file, {"user_id": column})
        out.add("users", {"user_id": user}, file, row)
