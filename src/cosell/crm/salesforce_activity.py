"""Salesforce activities and currencies: Task and Event as touches, CurrencyType and
DatedConversionRate as fx_rates.

A touch's customer account is, in this order, ``AccountId`` (Salesforce derives it from the
What and Who), the account of the deal in ``WhatId``, the account in ``WhatId``, then the account
of the contact or converted lead in ``WhoId``
(never a partner's own account: a call with a partner about nothing is no evidence for a deal). An
activity with none is left out and counted. It is a partner touch when it names a partner: a
contact of a partner account in ``WhoId``, a partner account among its ids, or the mapping's
``[activities] partner_column``; otherwise direct. Its kind is its ``Type`` (or the mapping's
``kind_column``) through ``[activities.kinds]``.

When: a Task at its ``ActivityDate`` (a date with no time, midnight UTC, never shifted by a time
zone), else its ``CreatedDate``; an Event at ``ActivityDateTime`` (or ``StartDateTime``), else
its ``ActivityDate``, else its ``CreatedDate``.

Rates: Salesforce keeps ``ConversionRate`` as units of a currency per unit of the corporate
currency; cosell's rate is units of the workspace currency per unit of the currency, so it is
``rate(workspace) / rate(currency)``, rounded half-even to 12 decimal places. A month's rate is
the dated rate in force on its first day (else the currency's ``CurrencyType`` rate), for every
month in which a deal was created, closed or entered a stage (and the months either side).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import TYPE_CHECKING

from cosell.crm import values
from cosell.crm.canonical import Translation
from cosell.crm.mapping import CrmMapping
from cosell.crm.objects import ObjectFile
from cosell.errors import quoted
from cosell.policy import Policy

if TYPE_CHECKING:
    from cosell.crm.org import Org

_RATE_PLACES = Decimal("0.000000000001")


def _kind(f: ObjectFile, r: list[str], row: int, mapping: CrmMapping, policy: Policy) -> str:
    column = mapping.kind_column or ("Type" if f.has("Type") else "TaskSubtype")
    value = f.text(r, column)
    if value in mapping.kinds:
        return mapping.kinds[value]
    if value.lower() in policy.known_kinds:
        return value.lower()
    header = f.header(column) or column
    shown = quoted(value) if value else '"" (an empty value)'
    f.out.problem(
        f.file,
        row,
        header,
        value,
        f"is not in [activities.kinds] of the mapping: map {shown} to a touch kind",
    )
    return ""


def touches(f: ObjectFile, mapping: CrmMapping, policy: Policy, org: Org, out: Translation) -> None:
    """Task or Event rows as touches."""
    if not f.require("Id"):
        return
    event = f.obj == "Event"
    partners = org.partners
    kind_at = f.position(mapping.kind_column or ("Type" if f.has("Type") else "TaskSubtype"))
    out.columns(
        "touches",
        f.file,
        {
            "touch_id": f.header("Id"),
            "occurred_at": f.header(
                "ActivityDateTime" if event and f.has("ActivityDateTime") else "ActivityDate"
            ),
            "account_id": f.header("WhatId") or f.header("AccountId"),
            "kind": f.header(mapping.kind_column or ("Type" if f.has("Type") else "TaskSubtype")),
            "opportunity_id": f.header("WhatId"),
            "partner_id": f.header(mapping.partner_column) if mapping.partner_column else f.header("WhoId"),
            "partner_contact_id": f.header("WhoId"),
            "user_id": f.header("OwnerId"),
            "notes": f.header("Subject"),
        },
    )
    # The largest file of an export: read with positions and local names, not per-cell lookups.
    deleted = f.index("IsDeleted")
    ident, what_at, who_at, account_at = (f.position(n) for n in ("Id", "WhatId", "WhoId", "AccountId"))
    owner_at, subject_at = f.position("OwnerId"), f.position("Subject")
    partner_at = f.position(mapping.partner_column) if mapping.partner_column else None
    names = ("ActivityDateTime", "StartDateTime", "ActivityDate") if event else ("ActivityDate",)
    dates = [(n, f.position(n), f.spec.formats.get(n)) for n in (*names, "CreatedDate") if f.has(n)]
    zone = f.zone
    accounts, deals, contacts, leads = org.accounts, org.opportunity_account, org.contacts, org.lead_accounts
    kinds: dict[str, str] = {}
    file = f.file
    _ref = _id18 if mapping.ids == "18" else _id
    for row, r in f.numbered():
        if deleted is not None and f.flag(r, "IsDeleted", row):
            out.skip(file, row, "IsDeleted is set")
            continue
        what, who, account = _ref(r[what_at]), _ref(r[who_at]), _ref(r[account_at])
        customer = ""
        for a in (account, deals.get(what, ""), what, contacts.get(who, ""), leads.get(who, "")):
            if a in accounts and a not in partners:
                customer = a
                break
        if not customer:
            out.skip(file, row, "no customer account (WhatId, AccountId and WhoId name none in the export)")
            continue
        partner = _ref(r[partner_at]) if partner_at is not None else ""
        if not partner:
            partner = what if what in partners else account if account in partners else ""
        # A contact of a partner names the partner; the touch keeps only the contact, as the
        # canonical rule derives its partner from it (SPEC section 1).
        contact = who if contacts.get(who, "") in partners else ""
        occurred = ""
        for name, i, fmt in dates:
            text = r[i].strip()
            if text:
                try:
                    occurred = values.instant(text, fmt, zone)
                except values.BadValue:
                    occurred = f.when(r, name, row)  # records the problem at its column
                if occurred:
                    break
        org.customers.add(customer)
        user = _ref(r[owner_at])
        if user and user not in org.user_refs:
            org.use_user(user, file, row, f.header("OwnerId"))
        value = r[kind_at].strip()
        kind = kinds.get(value)
        if kind is None:
            kind = kinds[value] = _kind(f, r, row, mapping, policy)
        elif not kind:
            _kind(f, r, row, mapping, policy)  # records the problem at this row too
        out.add_row(
            "touches",
            (
                _ref(r[ident]),
                occurred,
                customer,
                "partner" if partner or contact else "direct",
                kind,
                what if what in deals else "",
                partner,
                contact,
                user,
                r[subject_at].strip(),
            ),
            file,
            row,
        )


def _id(cell: str) -> str:
    text = cell.strip()
    return "" if text in values.EMPTY_IDS else text


def _id18(cell: str) -> str:
    return values.id18(_id(cell))


def _rate(f: ObjectFile, r: list[str], row: int) -> Decimal | None:
    text = f.text(r, "ConversionRate")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(0)
    if not value.is_finite() or value <= 0:
        f.out.problem(f.file, row, f.header("ConversionRate"), text, "is not a positive number")
        return None
    return value


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def fx_rates(
    types: ObjectFile | None, dated: ObjectFile | None, policy: Policy, org: Org, out: Translation
) -> None:
    """Monthly fx_rates in the workspace currency from the org's static and dated rates."""
    if types is None and dated is None:
        return
    static: dict[str, tuple[Decimal, str, int]] = {}
    if types is not None and types.require("IsoCode", "ConversionRate"):
        for row, r in types.numbered():
            rate = _rate(types, r, row)
            if rate is not None:
                static[types.text(r, "IsoCode")] = (rate, types.file, row)
    ranges: dict[str, list[tuple[date, date | None, Decimal, str, int]]] = {}
    if dated is not None and dated.require("IsoCode", "ConversionRate", "StartDate"):
        for row, r in dated.numbered():
            rate, start = _rate(dated, r, row), _day(dated.when(r, "StartDate", row))
            end = _day(dated.when(r, "NextStartDate", row))
            if rate is not None and start is not None:
                ranges.setdefault(dated.text(r, "IsoCode"), []).append((start, end, rate, dated.file, row))
    months = org.months
    if not months:
        return
    ws = policy.workspace_currency

    def rate_on(currency: str, day: date) -> tuple[Decimal, str, int] | None:
        for start, end, rate, file, row in ranges.get(currency, ()):
            if start <= day and (end is None or day < end):
                return rate, file, row
        return None if currency in ranges else static.get(currency)

    currencies = sorted((set(static) | set(ranges)) - {ws})
    if currencies and ws not in static and ws not in ranges:
        file = types.file if types is not None else dated.file if dated is not None else "CurrencyType.csv"
        out.problem(
            file, None, "IsoCode", ws, "the workspace currency (policy) is not among the org's currencies"
        )
        return
    for currency in currencies:
        for month in months:
            day = date(int(month[:4]), int(month[5:]), 1)
            own, base = rate_on(currency, day), rate_on(ws, day)
            if own is None or base is None:
                continue
            value = (base[0] / own[0]).quantize(_RATE_PLACES, rounding=ROUND_HALF_EVEN)
            out.columns(
                "fx_rates", own[1], {"currency": "IsoCode", "rate": "ConversionRate", "period": "StartDate"}
            )
            out.add("fx_rates", {"currency": currency, "period": month, "rate": str(value)}, own[1], own[2])


def months_used(texts: list[str]) -> list[str]:
    """The months of ISO texts, each with its neighbours (an offset may move an instant across a
    month's edge in UTC), sorted."""
    found: set[str] = set()
    for month in {t[:7] for t in texts if len(t) >= 7}:
        year, number = int(month[:4]), int(month[5:7])
        for y, m in ((year, number - 1), (year, number), (year, number + 1)):
            y, m = (y - 1, 12) if m == 0 else (y + 1, 1) if m == 13 else (y, m)
            if 1 <= y <= 9999:
                found.add(f"{y:04d}-{m:02d}")
    return sorted(found)
