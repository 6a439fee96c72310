"""Word lists and fixed catalogues the demo draws its names from (no randomness here)."""

from __future__ import annotations

# Our own company, whose CRM the demo dataset is an export of.
OUR_DOMAIN = "quillstack.io"

ACCOUNT_FIRST = (
    "Northwind", "Bluefin", "Crescent", "Ironwood", "Silverline", "Harbor", "Summit", "Evergreen",
    "Granite", "Redwood", "Beacon", "Cobalt", "Falcon", "Juniper", "Keystone", "Lakeshore", "Maple",
    "Meridian", "Oakridge", "Pinnacle", "Quarry", "Riverbend", "Sable", "Tidal", "Union", "Vista",
    "Westfield", "Yellowstone", "Zenith", "Aurora", "Bramble", "Cedar", "Driftwood", "Ember",
    "Foxglove", "Glacier", "Hawthorn", "Indigo", "Jasper", "Kingfisher", "Larkspur", "Mosaic",
    "Nimbus", "Onyx", "Pioneer", "Quartz", "Rosewood", "Sequoia", "Topaz", "Upland", "Verdant",
    "Willow", "Alder", "Birch", "Canyon", "Delta", "Elm", "Fern", "Garnet", "Heron",
)  # fmt: skip
ACCOUNT_SECOND = (
    "Bay", "Bridge", "Crest", "Dale", "Edge", "Field", "Gate", "Hill", "Isle", "Point", "Lane",
    "Mills", "North", "Peak", "Ridge", "Rock", "Stone", "Vale", "Works", "Yard", "Brook", "Cove",
    "Forge", "Grove", "Haven", "Hollow", "Key", "Light", "Marsh", "Mesa", "Park", "Pass", "Port",
    "Shore", "Spring", "Star", "Trail", "View", "Water", "Wood",
)  # fmt: skip
ACCOUNT_KIND = (
    "Logistics", "Health", "Financial", "Manufacturing", "Retail", "Systems", "Analytics", "Energy",
    "Foods", "Media", "Insurance", "Labs", "Capital", "Pharma", "Software", "Telecom", "Education",
    "Motors", "Hotels", "Partners",
)  # fmt: skip
LEGAL_SUFFIXES = (" Inc.", " LLC", " Ltd", " GmbH", " Corp.", " Inc", ", Inc.", " S.A.", " B.V.", " plc")

INDUSTRIES = (
    "Software", "Financial Services", "Healthcare", "Manufacturing", "Retail", "Logistics",
    "Education", "Media", "Energy", "Professional Services", "Telecommunications", "Public Sector",
)  # fmt: skip

# country, weight, currency, top-level domain
COUNTRIES = (
    ("US", 0.55, "USD", ".com"),
    ("CA", 0.06, "USD", ".ca"),
    ("GB", 0.12, "GBP", ".co.uk"),
    ("DE", 0.08, "EUR", ".de"),
    ("FR", 0.06, "EUR", ".fr"),
    ("NL", 0.04, "EUR", ".nl"),
    ("IE", 0.02, "EUR", ".ie"),
    ("ES", 0.02, "EUR", ".es"),
    ("AU", 0.03, "USD", ".com.au"),
    ("SG", 0.02, "USD", ".sg"),
)
CURRENCIES = ("USD", "EUR", "GBP")

FIRST_NAMES = (
    "Ana", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hiro", "Isabel", "Jonas", "Kavya",
    "Liam", "Maya", "Noah", "Olivia", "Pedro", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera",
    "Will", "Ximena", "Yusuf", "Zoe", "Amir", "Bianca", "Carlos", "Dana", "Emeka", "Freya",
    "Gustav", "Hannah", "Ivan", "Julia", "Kenji", "Lena", "Marco", "Nadia",
)  # fmt: skip
LAST_NAMES = (
    "Ruiz", "Patel", "Nguyen", "Schmidt", "Okafor", "Kowalski", "Rossi", "Dubois", "Tanaka", "Silva",
    "Murphy", "Larsen", "Cohen", "Haddad", "Moreau", "Fischer", "Kim", "Novak", "Brennan", "Alvarez",
    "Singh", "Walsh", "Ito", "Jansen", "Costa", "Meyer", "Osei", "Lindqvist", "Reyes", "Baker",
)  # fmt: skip

# name, domain, partner_type, program_tier, joined (YYYY-MM-DD): a fixed roster of 30 partners.
PARTNERS = (
    ("Northbeam Consulting", "northbeam.com", "services", "gold", "2021-03-15"),
    ("Crestline Cloud Partners", "crestlinecloud.com", "co_sell", "gold", "2020-11-02"),
    ("Ironbridge Systems", "ironbridgesys.com", "reseller", "gold", "2019-06-10"),
    ("Bluefin Data Integrations", "bluefindata.io", "integration", "silver", "2022-01-20"),
    ("Halcyon Digital Agency", "halcyon.agency", "agency", "silver", "2022-05-09"),
    ("Referly Network", "referly.net", "affiliate", "registered", "2023-02-14"),
    ("Summit Ridge Advisors", "summitridge.co", "referral", "gold", "2021-08-30"),
    ("Paragon Channel Solutions", "paragonchannel.com", "reseller", "silver", "2022-09-12"),
    ("Tidewater Technology Group", "tidewatertg.com", "co_sell", "silver", "2022-03-01"),
    ("Kestrel Labs", "kestrellabs.dev", "integration", "gold", "2020-07-07"),
    ("Lumen & Vale", "lumenvale.com", "agency", "registered", "2023-06-19"),
    ("Copperleaf Partners", "copperleaf.partners", "referral", "silver", "2022-10-03"),
    ("Meridian Systems Integrators", "meridiansi.com", "services", "gold", "2019-11-25"),
    ("Quantix Marketplace", "quantix.market", "reseller", "gold", "2021-01-11"),
    ("Brightpath Implementation Services", "brightpath.services", "services", "silver", "2022-04-18"),
    ("Atlas Growth Collective", "atlasgrowth.co", "referral", "registered", "2023-05-22"),
    ("Nimbus Connect", "nimbusconnect.io", "integration", "silver", "2022-08-08"),
    ("Orchard Street Digital", "orchardstreet.digital", "agency", "silver", "2022-12-05"),
    ("Vantage Point Resellers", "vantagepointresellers.com", "reseller", "registered", "2023-03-27"),
    ("Polaris Co-Sell Alliance", "polarisalliance.com", "co_sell", "gold", "2020-02-17"),
    ("Cobalt Affiliates", "cobaltaffiliates.com", "affiliate", "silver", "2022-06-13"),
    ("Evergreen Advisory Group", "evergreenadvisory.com", "referral", "gold", "2021-05-04"),
    ("Stackwise", "stackwise.io", "integration", "registered", "2023-07-31"),
    ("Harbor & Finch Consulting", "harborfinch.com", "services", "registered", "2023-01-16"),
    ("Redwood Revenue Partners", "redwoodrevenue.com", "co_sell", "silver", "2022-02-28"),
    ("Signalpath Media", "signalpath.media", "affiliate", "registered", "2023-09-04"),
    ("Granite Peak Technologies", "granitepeak.tech", "reseller", "silver", "2021-10-18"),
    ("Fjord Analytics GmbH", "fjord-analytics.de", "services", "silver", "2022-11-21"),
    ("Thames Valley Solutions Ltd", "thamesvalleysolutions.co.uk", "co_sell", "registered", "2023-04-10"),
    ("Lattice Integrations", "latticeintegrations.com", "integration", "gold", "2021-12-06"),
)

STAGES = ("Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
