"""The CRM fields cosell reads and writes, defined once: the blueprint, the write-back and the
importers' defaults all read this module.

Two families (SPEC sections 1 and 7):

- the five **declared** fields a rep fills in (Partner Source, Partner Name, Partner Contact,
  Partner Engagement Date, Partner Activity Log). cosell reads them; it never writes them.
- cosell's own **result** fields (tier, primary partner, rule ids, evidence summary, explanation,
  attribution as-of, policy version). cosell writes them; nobody else should.

Each field has its Salesforce API name, type and length (``Cosell_Tier__c``, Picklist) and its
HubSpot property name, type and field type (``cosell_tier``, enumeration/select). The names are the
defaults: an org that already has a partner field maps it in the import mapping file instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from cosell.errors import UsageError
from cosell.results import TIERS

CRMS = ("salesforce", "hubspot")
# The object the fields live on.
SALESFORCE_OBJECT = "Opportunity"
HUBSPOT_OBJECT = "deals"
# The Metadata and REST API version the blueprint is written for and the write-back calls. Every
# element emitted exists since API 30.0; 66.0 (Spring '26) is a year-old release every org runs.
SALESFORCE_API_VERSION = "66.0"
HUBSPOT_GROUP_NAME = "cosell"
HUBSPOT_GROUP_LABEL = "cosell partner attribution"


@dataclass(frozen=True)
class Choice:
    """One value of a picklist (Salesforce) or enumeration (HubSpot): the stored value and its label."""

    value: str
    label: str


@dataclass(frozen=True)
class SalesforceField:
    """How a field is declared on the Salesforce Opportunity (Metadata API ``CustomField``)."""

    api_name: str  # Cosell_Tier__c
    type: str  # Picklist, Lookup, Date, DateTime, Text, LongTextArea
    length: int | None = None  # Text and LongTextArea
    visible_lines: int | None = None  # LongTextArea
    reference_to: str | None = None  # Lookup: the target object
    relationship_name: str | None = None  # Lookup: the child relationship's API name (unique per target)
    relationship_label: str | None = None
    partner_accounts_only: bool = False  # Lookup to Account: a lookup filter on Account.IsPartner
    track_history: bool = False  # field history tracking (feeds OpportunityFieldHistory)


@dataclass(frozen=True)
class HubSpotProperty:
    """How a field is declared as a HubSpot deal property (``POST /crm/v3/properties/deals``)."""

    name: str  # cosell_tier
    type: str  # enumeration, string, date, datetime
    field_type: str  # select, text, textarea, date
    # What the property holds when HubSpot's type says less than the field's help (a text property
    # standing for a lookup holds a record ID: that is what the import reads).
    help: str | None = None


@dataclass(frozen=True)
class CrmField:
    """One field in both CRMs. ``key`` is cosell's name for it (a canonical column or a result column)."""

    key: str
    label: str
    help: str  # one or two sentences for the admin and the rep (Salesforce inline help, HubSpot description)
    declared: bool  # one of the five fields a rep declares (cosell never writes these)
    salesforce: SalesforceField
    hubspot: HubSpotProperty
    choices: tuple[Choice, ...] = ()

    def help_in(self, crm: str) -> str:
        """The field's help text in ``crm`` (HubSpot's text stand-ins for lookups say what they hold)."""
        return (self.hubspot.help if check_crm(crm) == "hubspot" else None) or self.help

    def name_in(self, crm: str) -> str:
        """The field's API name in ``crm`` (salesforce or hubspot)."""
        return self.salesforce.api_name if check_crm(crm) == "salesforce" else self.hubspot.name


PARTNER_SOURCE_CHOICES = (
    Choice("none", "None (no partner)"),
    Choice("sourced", "Sourced"),
    Choice("influenced", "Influenced"),
    Choice("accelerated", "Accelerated"),
)
_TIER_LABELS = {
    "sourced": "Sourced",
    "accelerated": "Accelerated",
    "influenced": "Influenced",
    "none": "None",
}
TIER_CHOICES = tuple(Choice(t, _TIER_LABELS[t]) for t in TIERS)

DECLARED_FIELDS: tuple[CrmField, ...] = (
    CrmField(
        "partner_source",
        "Partner Source",
        "How a partner contributed to this deal, as the rep declares it. None is a valid answer; "
        "a deal may not be won while this is empty.",
        True,
        SalesforceField("Partner_Source__c", "Picklist", track_history=True),
        HubSpotProperty("partner_source", "enumeration", "select"),
        PARTNER_SOURCE_CHOICES,
    ),
    CrmField(
        "partner_id",
        "Partner Name",
        "The partner company that contributed (a partner account).",
        True,
        SalesforceField(
            "Partner_Name__c",
            "Lookup",
            reference_to="Account",
            relationship_name="Partner_Attributed_Opportunities",
            relationship_label="Partner-attributed opportunities",
            partner_accounts_only=True,
            track_history=True,
        ),
        HubSpotProperty(
            "partner_name",
            "string",
            "text",
            "The partner company that contributed: its HubSpot company Record ID (a number), not its name.",
        ),
    ),
    CrmField(
        "partner_contact_id",
        "Partner Contact",
        "The person at the partner who worked on this deal.",
        True,
        SalesforceField(
            "Partner_Contact__c",
            "Lookup",
            reference_to="Contact",
            relationship_name="Partner_Contact_Opportunities",
            relationship_label="Opportunities as partner contact",
            track_history=True,
        ),
        HubSpotProperty(
            "partner_contact",
            "string",
            "text",
            "The person at the partner who worked on this deal: their HubSpot contact Record ID.",
        ),
    ),
    CrmField(
        "partner_engagement_date",
        "Partner Engagement Date",
        "The date the partner first engaged on this deal.",
        True,
        SalesforceField("Partner_Engagement_Date__c", "Date", track_history=True),
        HubSpotProperty("partner_engagement_date", "date", "date"),
    ),
    CrmField(
        "partner_activity_log",
        "Partner Activity Log",
        "What the partner did on this deal, with dates (joint calls, introductions, references).",
        True,
        SalesforceField("Partner_Activity_Log__c", "LongTextArea", length=32768, visible_lines=5),
        HubSpotProperty("partner_activity_log", "string", "textarea"),
    ),
)

RESULT_FIELDS: tuple[CrmField, ...] = (
    CrmField(
        "tier",
        "cosell Tier",
        "The tier cosell computed from the evidence: sourced, accelerated, influenced or none. Written by cosell.",
        False,
        SalesforceField("Cosell_Tier__c", "Picklist"),
        HubSpotProperty("cosell_tier", "enumeration", "select"),
        TIER_CHOICES,
    ),
    CrmField(
        "primary_partner_id",
        "cosell Primary Partner",
        "The id of the partner cosell credits first (the sourcer, else the largest credit). Written by cosell.",
        False,
        SalesforceField("Cosell_Primary_Partner__c", "Text", length=255),
        HubSpotProperty("cosell_primary_partner", "string", "text"),
    ),
    CrmField(
        "rules",
        "cosell Rules",
        "The rule and guard ids behind the tier, space-separated (see cosell's rules reference). Written by cosell.",
        False,
        SalesforceField("Cosell_Rules__c", "Text", length=255),
        HubSpotProperty("cosell_rules", "string", "text"),
    ),
    CrmField(
        "evidence",
        "cosell Evidence",
        "What the tier rests on: the partner engagement date and the evidence ids. Written by cosell.",
        False,
        SalesforceField("Cosell_Evidence__c", "LongTextArea", length=32768, visible_lines=3),
        HubSpotProperty("cosell_evidence", "string", "textarea"),
    ),
    CrmField(
        "explanation",
        "cosell Explanation",
        "Where to read the decision in sentences: a link, or the cosell command that prints it. Written by cosell.",
        False,
        SalesforceField("Cosell_Explanation__c", "Text", length=255),
        HubSpotProperty("cosell_explanation", "string", "text"),
    ),
    CrmField(
        "as_of",
        "cosell Attribution As Of",
        "The instant the attribution was evaluated at (UTC). Written by cosell.",
        False,
        SalesforceField("Cosell_Attribution_As_Of__c", "DateTime"),
        HubSpotProperty("cosell_attribution_as_of", "datetime", "date"),
    ),
    CrmField(
        "policy_version",
        "cosell Policy Version",
        "The version of the attribution policy the tier was computed under. Written by cosell.",
        False,
        SalesforceField("Cosell_Policy_Version__c", "Text", length=255),
        HubSpotProperty("cosell_policy_version", "string", "text"),
    ),
)

ALL_FIELDS: tuple[CrmField, ...] = DECLARED_FIELDS + RESULT_FIELDS

# The record id column of each CRM's import file and API (the deal's id in that CRM).
RECORD_ID = {"salesforce": "Id", "hubspot": "hs_object_id"}


def check_crm(crm: str) -> str:
    """``crm`` if it is one cosell knows (salesforce, hubspot), else a usage error saying which are."""
    if crm not in CRMS:
        raise UsageError(f"unknown CRM {crm!r}: one of {', '.join(CRMS)}")
    return crm


def declared_names(crm: str) -> frozenset[str]:
    """The API names of the five declared fields in ``crm``: names cosell must never write.

    >>> sorted(declared_names("hubspot"))[:2]
    ['partner_activity_log', 'partner_contact']
    """
    return frozenset(f.name_in(crm) for f in DECLARED_FIELDS)


def result_names(crm: str) -> tuple[str, ...]:
    """The API names of cosell's result fields in ``crm``, in write order.

    >>> result_names("salesforce")[0]
    'Cosell_Tier__c'
    """
    return tuple(f.name_in(crm) for f in RESULT_FIELDS)


def is_result_field(crm: str, column: str) -> bool:
    """Whether ``column`` (an API name or a report label, any case) is one of cosell's result fields
    in ``crm``: what the write-back fills, never a rep's declaration.

    >>> is_result_field("salesforce", "cosell tier"), is_result_field("hubspot", "partner_name")
    (True, False)
    """
    return column.strip().lower() in {n.lower() for f in RESULT_FIELDS for n in (f.name_in(crm), f.label)}
