"""The canonical tables of SPEC section 1, declared once.

This declaration drives the workspace DDL, import validation, the demo generator's column order and
the data guide in ``docs/data-guide.md`` (a test fails when the guide drifts from this file).

Column kinds:

=========  ==========================================================  =====================
kind       accepted text                                                stored as
=========  ==========================================================  =====================
id         any non-empty text (trimmed)                                 VARCHAR
text       any text                                                     VARCHAR
enum       one of ``values`` (exact, lower case)                        VARCHAR
instant    ISO 8601 date or timestamp; no offset = UTC                  TIMESTAMPTZ (UTC)
money      plain decimal, only zeros past the currency's minor unit     DECIMAL(18,4)
rate       plain decimal, positive                                      DECIMAL(38,12)
currency   ISO 4217 code                                                VARCHAR
bool       true/false, t/f, yes/no, 1/0 (any case)                      BOOLEAN
period     a quarter ``2026-Q3`` or a month ``2026-08``                 VARCHAR
=========  ==========================================================  =====================
"""

from __future__ import annotations

from dataclasses import dataclass, field

DUCKDB_TYPES = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "enum": "VARCHAR",
    "instant": "TIMESTAMPTZ",
    "money": "DECIMAL(18,4)",
    "rate": "DECIMAL(38,12)",
    "currency": "VARCHAR",
    "bool": "BOOLEAN",
    "period": "VARCHAR",
}

PARTNER_TYPES = ("referral", "co_sell", "reseller", "integration", "agency", "affiliate", "services")
USER_ROLES = ("ae", "sdr", "partner_manager", "partner_ops", "finance", "admin", "partner")
LEAD_SOURCES = ("partner_referral", "inbound", "outbound", "event", "other")
PARTNER_SOURCES = ("none", "sourced", "influenced", "accelerated")
OPPORTUNITY_TYPES = ("new_business", "expansion", "renewal")
PARTNER_ROLES = ("sourcer", "co_seller", "influencer", "reseller", "servicer")
REGISTRATION_STATUSES = ("pending", "approved", "rejected", "expired")
COST_CATEGORIES = ("headcount", "tech", "incentives", "travel", "other")
PARTNER_ACCOUNT_STATUSES = ("customer", "prospect", "open_opportunity")
ACTORS = ("partner", "direct")
CRM_FIELDS = (
    "partner_source",
    "partner_id",
    "partner_contact_id",
    "partner_engagement_date",
    "partner_activity_log",
)


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    kind: str
    required: bool = False
    values: tuple[str, ...] = ()
    references: str | None = None  # "table.column" that must exist
    doc: str = ""
    example: str = ""
    # An instant that ends a validity: beside the supported years 1900 to 2999 it may be any later
    # instant of the calendar, up to 9999-12-31, a CRM's "never".
    open_end: bool = False

    @property
    def sql_type(self) -> str:
        return DUCKDB_TYPES[self.kind]


@dataclass(frozen=True)
class Table:
    """One canonical table: its columns, its key and what it is for."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    doc: str
    optional: bool = True
    money_currency_column: str | None = None  # the column that gives money columns their currency
    extra_notes: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _c(name: str, kind: str, doc: str, example: str, **kw: object) -> Column:
    return Column(name=name, kind=kind, doc=doc, example=example, **kw)  # type: ignore[arg-type]


TABLES: tuple[Table, ...] = (
    Table(
        "accounts",
        (
            _c("account_id", "id", "Our CRM's account id.", "001A000001", required=True),
            _c("name", "text", "Company name.", "Northwind Traders", required=True),
            _c("domain", "text", "Web domain, for overlap matching.", "northwind.com"),
            _c(
                "segment",
                "text",
                "Sales segment (SMB, MM, ENT, ...); an empty segment is a segment of its own.",
                "ENT",
            ),
            _c("industry", "text", "Industry.", "Manufacturing"),
            _c("country", "text", "Country code.", "US"),
            _c("owner_id", "id", "Account owner (a user).", "U0007", references="users.user_id"),
        ),
        key=("account_id",),
        doc="The companies we sell to.",
        optional=False,
    ),
    Table(
        "partners",
        (
            _c("partner_id", "id", "Partner id.", "P012", required=True),
            _c("name", "text", "Partner company name.", "Contoso Consulting", required=True),
            _c(
                "domain",
                "text",
                "Partner web domain; identifies the partner of an inbound referral.",
                "contoso.io",
            ),
            _c("partner_type", "enum", "Kind of partner.", "co_sell", required=True, values=PARTNER_TYPES),
            _c("program_tier", "text", "Program tier (gold, silver, registered, ...).", "gold"),
            _c("joined_at", "instant", "When the partner joined the program.", "2024-02-01"),
        ),
        key=("partner_id",),
        doc="The partners in the program.",
        optional=False,
    ),
    Table(
        "partner_contacts",
        (
            _c("contact_id", "id", "Partner contact id.", "PC0031", required=True),
            _c(
                "partner_id",
                "id",
                "The contact's partner.",
                "P012",
                required=True,
                references="partners.partner_id",
            ),
            _c("name", "text", "Contact name.", "Ana Ruiz"),
            _c(
                "email",
                "text",
                "Contact email; identifies the partner of an inbound referral.",
                "ana@contoso.io",
            ),
        ),
        key=("contact_id",),
        doc="People at partners.",
    ),
    Table(
        "partner_accounts",
        (
            _c(
                "partner_id",
                "id",
                "Whose account list this row belongs to.",
                "P012",
                required=True,
                references="partners.partner_id",
            ),
            _c(
                "name", "text", "Company name as the partner has it.", "Northwind Traders Inc.", required=True
            ),
            _c("domain", "text", "Company domain as the partner has it.", "northwind.com"),
            _c(
                "status",
                "enum",
                "The company's status at the partner.",
                "customer",
                required=True,
                values=PARTNER_ACCOUNT_STATUSES,
            ),
        ),
        key=("partner_id", "name"),
        doc="A partner's own account list, for account overlap.",
    ),
    Table(
        "users",
        (
            _c("user_id", "id", "User id.", "U0007", required=True),
            _c("name", "text", "Name.", "Sam Patel"),
            _c("email", "text", "Email.", "sam@ourco.com"),
            _c("role", "enum", "Role; decides what the user may see and do.", "ae", values=USER_ROLES),
            _c("partner_id", "id", "For partner users: their partner.", "", references="partners.partner_id"),
        ),
        key=("user_id",),
        doc=(
            "Our people and partner users. Once the workspace has an admin, only an admin (named by "
            "$COSELL_USER) imports users that add or change users, as `cosell users set` does; a change "
            "that leaves no admin is refused."
        ),
    ),
    Table(
        "leads",
        (
            _c("lead_id", "id", "Lead id.", "00Q000123", required=True),
            _c("created_at", "instant", "When the lead was created.", "2026-01-14T16:02:00Z", required=True),
            _c("company", "text", "Company named on the lead.", "Northwind Traders"),
            _c("email", "text", "Prospect email.", "cfo@northwind.com"),
            _c("account_id", "id", "Matched account.", "001A000001", references="accounts.account_id"),
            _c("source", "enum", "Lead source.", "partner_referral", values=LEAD_SOURCES),
            _c(
                "partner_id",
                "id",
                "The referring partner (makes it a partner lead).",
                "P012",
                references="partners.partner_id",
            ),
            _c(
                "partner_contact_id",
                "id",
                "The referring partner contact.",
                "PC0031",
                references="partner_contacts.contact_id",
            ),
            _c(
                "converted_opportunity_id",
                "id",
                "Opportunity the lead converted to.",
                "006A000042",
                references="opportunities.opportunity_id",
            ),
            _c("converted_at", "instant", "When it converted.", "2026-01-20"),
        ),
        key=("lead_id",),
        doc="Leads, including partner referrals.",
    ),
    Table(
        "opportunities",
        (
            _c("opportunity_id", "id", "Opportunity id.", "006A000042", required=True),
            _c(
                "account_id",
                "id",
                "The account.",
                "001A000001",
                required=True,
                references="accounts.account_id",
            ),
            _c("created_at", "instant", "Creation time C.", "2026-01-20T10:00:00Z", required=True),
            _c("amount", "money", "Amount in the row's currency.", "48000.00", required=True),
            _c("currency", "currency", "ISO 4217 currency; empty = the workspace currency.", "EUR"),
            _c(
                "stage",
                "text",
                "Current stage name (mapped to open, won or lost by the policy).",
                "Closed Won",
                required=True,
            ),
            _c("owner_id", "id", "Owning rep.", "U0007", references="users.user_id"),
            _c(
                "close_date",
                "instant",
                "CRM close date; the close time when stage_history has none.",
                "2026-04-30",
            ),
            _c("is_closed", "bool", "CRM flag; a disagreement with the stage mapping is a warning.", "true"),
            _c("is_won", "bool", "CRM flag; a disagreement with the stage mapping is a warning.", "true"),
            _c("opportunity_type", "enum", "Type of deal.", "new_business", values=OPPORTUNITY_TYPES),
            _c(
                "source_lead_id",
                "id",
                "The lead this deal came from.",
                "00Q000123",
                references="leads.lead_id",
            ),
            _c(
                "partner_source",
                "enum",
                "Declared by the rep; empty = not confirmed.",
                "sourced",
                values=PARTNER_SOURCES,
            ),
            _c("partner_id", "id", "Declared partner.", "P012", references="partners.partner_id"),
            _c(
                "partner_contact_id",
                "id",
                "Declared partner contact.",
                "PC0031",
                references="partner_contacts.contact_id",
            ),
            _c("partner_engagement_date", "instant", "Declared engagement date.", "2026-01-10"),
            _c(
                "partner_activity_log",
                "text",
                "Free-text log of the partner's activity.",
                "Joint discovery call 2026-02-03",
            ),
        ),
        key=("opportunity_id",),
        doc="Deals, with the five CRM attribution fields as reps declared them.",
        optional=False,
        money_currency_column="currency",
    ),
    Table(
        "stage_history",
        (
            _c(
                "opportunity_id",
                "id",
                "The opportunity.",
                "006A000042",
                required=True,
                references="opportunities.opportunity_id",
            ),
            _c("stage", "text", "Stage entered.", "Negotiation", required=True),
            _c("entered_at", "instant", "When it entered the stage.", "2026-03-02T15:20:00Z", required=True),
        ),
        key=("opportunity_id", "stage", "entered_at"),
        doc="Every stage entry of every deal (Salesforce OpportunityHistory maps here).",
    ),
    Table(
        "field_history",
        (
            _c(
                "opportunity_id",
                "id",
                "The opportunity.",
                "006A000042",
                required=True,
                references="opportunities.opportunity_id",
            ),
            _c(
                "field",
                "enum",
                "Which of the five CRM fields changed.",
                "partner_source",
                required=True,
                values=CRM_FIELDS,
            ),
            _c("old_value", "text", "Value before.", ""),
            _c("new_value", "text", "Value after.", "sourced"),
            _c("changed_at", "instant", "When.", "2026-01-21T09:00:00Z", required=True),
            _c("changed_by", "id", "Who (a user).", "U0007", references="users.user_id"),
        ),
        key=("opportunity_id", "field", "changed_at"),
        doc="Changes of the five CRM attribution fields (Salesforce OpportunityFieldHistory maps here).",
    ),
    Table(
        "opportunity_partners",
        (
            _c(
                "opportunity_id",
                "id",
                "The opportunity.",
                "006A000042",
                required=True,
                references="opportunities.opportunity_id",
            ),
            _c("partner_id", "id", "The partner.", "P012", required=True, references="partners.partner_id"),
            _c("role", "enum", "Declared role.", "co_seller", required=True, values=PARTNER_ROLES),
            _c("added_at", "instant", "When the partner was added.", "2026-02-01"),
            _c("is_primary", "bool", "Primary partner flag.", "false"),
        ),
        key=("opportunity_id", "partner_id", "role"),
        doc="Partners declared on a deal with their role (Salesforce OpportunityPartner maps here).",
    ),
    Table(
        "touches",
        (
            _c("touch_id", "id", "Touch id.", "T0009911", required=True),
            _c("occurred_at", "instant", "When it happened.", "2026-02-03T17:00:00+01:00", required=True),
            _c(
                "account_id",
                "id",
                "The account.",
                "001A000001",
                required=True,
                references="accounts.account_id",
            ),
            _c("actor", "enum", "Side: partner or direct.", "partner", required=True, values=ACTORS),
            _c(
                "kind",
                "text",
                "What happened (see the policy's touch kinds; unknown kinds are warnings).",
                "joint_call",
                required=True,
            ),
            _c(
                "opportunity_id",
                "id",
                "The deal it was logged on, if any.",
                "006A000042",
                references="opportunities.opportunity_id",
            ),
            _c(
                "partner_id", "id", "The partner (partner touches).", "P012", references="partners.partner_id"
            ),
            _c(
                "partner_contact_id",
                "id",
                "The partner contact; gives the partner when partner_id is empty.",
                "PC0031",
                references="partner_contacts.contact_id",
            ),
            _c("user_id", "id", "Our user (direct touches).", "U0007", references="users.user_id"),
            _c("notes", "text", "Free text.", "Discovery with CFO"),
        ),
        key=("touch_id",),
        doc="Activities: partner and direct engagement (Salesforce Task and Event map here).",
    ),
    Table(
        "deal_registrations",
        (
            _c("registration_id", "id", "Registration id.", "R00077", required=True),
            _c(
                "partner_id",
                "id",
                "Registering partner.",
                "P012",
                required=True,
                references="partners.partner_id",
            ),
            _c(
                "account_id",
                "id",
                "Registered account.",
                "001A000001",
                required=True,
                references="accounts.account_id",
            ),
            _c("registered_at", "instant", "When submitted.", "2026-01-05T08:00:00Z", required=True),
            _c("status", "enum", "Status.", "approved", values=REGISTRATION_STATUSES),
            _c("approved_at", "instant", "When approved.", "2026-01-06"),
            _c(
                "opportunity_id",
                "id",
                "The deal it registers, if linked.",
                "006A000042",
                references="opportunities.opportunity_id",
            ),
            _c(
                "expires_at",
                "instant",
                "End of protection; empty = registered_at + protection window; any date after 2999 "
                "(`9999-12-31`, a CRM's never) is protection that does not end.",
                "2026-04-05",
                open_end=True,
            ),
        ),
        key=("registration_id",),
        doc="Partner deal registrations.",
    ),
    Table(
        "program_costs",
        (
            _c(
                "cost_id",
                "id",
                "Cost id; without it a file replaces the costs of the periods it contains.",
                "PGC-2026Q3-1",
            ),
            _c("period", "period", "A quarter (2026-Q3) or a month (2026-08).", "2026-Q3", required=True),
            _c("category", "enum", "Kind of cost.", "headcount", required=True, values=COST_CATEGORIES),
            _c("amount", "money", "Amount in workspace currency.", "185000.00", required=True),
        ),
        key=("cost_id",),
        doc="Fully-loaded partner program cost.",
    ),
    Table(
        "direct_costs",
        (
            _c(
                "cost_id",
                "id",
                "Cost id; without it a file replaces the costs of the periods it contains.",
                "DC-2026Q3",
            ),
            _c("period", "period", "A quarter or a month.", "2026-Q3", required=True),
            _c(
                "amount",
                "money",
                "Sales and marketing cost of the direct motion, workspace currency.",
                "1250000.00",
                required=True,
            ),
        ),
        key=("cost_id",),
        doc="Cost of the direct motion, for direct cost per dollar.",
    ),
    Table(
        "fx_rates",
        (
            _c(
                "currency",
                "currency",
                "The foreign currency (the workspace currency's rate is always 1: a row of it is a warning).",
                "EUR",
                required=True,
            ),
            _c("period", "period", "A month (preferred) or a quarter.", "2026-08", required=True),
            _c("rate", "rate", "Units of workspace currency per unit of currency.", "1.0875", required=True),
        ),
        key=("currency", "period"),
        doc="Exchange rates by period.",
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in TABLES)
