"""Synthetic benchmark data: a deterministic, realistic registry of any size up to a million partnerships.

``synthetic_data_generate(partnerships=N, seed=S)`` writes N partnerships and related records in proportion
(NGOs ~N/5, police departments ~N/10, sources ~N/2, legal instruments ~N/10, overreach cases ~N/20, a
jurisdiction tree of a few thousand nodes at 1M, ~2 claims per partnership with ~5% disputed, accountability
assessments, several many-to-many links per partnership). The same N and seed always give the same rows
(slugs, names, values); only database ids and the year ranges (1970 to the current year) depend on when it runs.

Safety:
- every generated record and source has ``is_synthetic=True``, every generated slug starts with ``syn-``,
  sources are published by "Synthetic data generator (outlet NNN)" at ``*.synthetic.invalid`` URLs;
- generated jurisdictions form their own tree under "International (synthetic data)", so synthetic law never
  applies to a real partnership and synthetic names never clash with real ones;
- taxonomies (regions, countries, focus areas, surveillance practices, accountability mechanisms, legal topics,
  issue types) are reused when they exist (matched by slug, then name, or ISO code), otherwise created as
  ordinary, non-synthetic reference rows with their change history;
- it refuses to load twice; ``replace=True`` first deletes the previous synthetic rows and never a real one
  (if a real record refers to a synthetic one, it stops and changes nothing).

Speed: rows go in through PostgreSQL ``COPY`` in batches, in one transaction, with foreign keys checked at
the end of each batch. History: the pghistory triggers of the bulk-written tables are *ignored* for the load
and for ``replace`` (``pgtrigger.ignore``, around each COPY or DELETE, for that table's trigger only; see
``_history_ignored`` for the measurements), which would otherwise write one event row per generated row;
instead one pghistory context row records each load (command, N, seed, row counts). So synthetic rows never
appear in the history of the registry. Foreign keys, check and unique constraints all stay in force, and
they are most of the cost, with the search-vector trigger. Measured on this project's 2-core box: 100k partnerships
(1.2M rows) in 81 s, 1M partnerships (12.3M rows, 5.3 GB) in 13 min 4 s with the secondary indexes built after the
rows (19 min 8 s without), deleting those in 4 min.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import pghistory
import pghistory.trigger
import pgtrigger
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils.text import slugify
from django_countries import countries as iso_countries
from pghistory.models import Context
from tqdm import tqdm

from cases.models import CaseQuote, FinderKind, IssueType, OverreachCase
from geography.models import Country, Jurisdiction, JurisdictionLevel, Region
from legal.models import InstrumentKind, LegalInstrument, LegalTopic, OversightBody, OversightKind
from partnerships.models import (
    NGO,
    AccountabilityMechanism,
    AssessmentStatus,
    DataSharing,
    FocusArea,
    Formalisation,
    MechanismAssessment,
    Partnership,
    PartnershipStatus,
    PoliceDepartment,
    SurveillancePractice,
)
from provenance.models import Claim, PublicRecord, Source, SourceKind, SourceTier, VerificationStatus
from registry.history import command_context

MAX_PARTNERSHIPS = 1_000_000
SLUG_PREFIX = "syn-"
ROOT_SLUG = "syn-international"
PUBLISHER = "Synthetic data generator"
URL_HOST = "synthetic.invalid"  # .invalid is reserved (RFC 2606): never a real site
EARLIEST_YEAR = 1970
BATCH = 20_000
DISPUTED_SHARE = 0.05
ASSESSED_SHARE = 0.25
PUBLISHED_SHARE = 0.97
# Timestamps are spread over a fixed window so that two runs give the same rows.
TIMESTAMP_START = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
TIMESTAMP_DAYS = 4 * 365

# --- Taxonomies (reused by slug or name when present) ---------------------------------------------------------
REGIONS = ["Africa", "Asia", "Europe", "North America", "South America", "Oceania"]
# The seed (and the shipped data) call the continent "Australia": reuse that region for Oceania when present.
REGION_ALIASES = {"Oceania": ["australia"]}
COUNTRY_NAMES = {"US": "United States"}  # as the shipped data names it; otherwise django-countries' names
# ISO 3166-1 alpha-2 codes by region; uninhabited territories are left out.
REGION_COUNTRIES = {
    "Africa": "DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG MW ML MR "
    "MU YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD TZ TG TN UG EH ZM ZW",
    "Asia": "AF AM AZ BH BD BT BN KH CN CY GE HK IN ID IR IQ IL JP JO KZ KW KG LA LB MO MY MV MN MM NP KP OM PK PS "
    "PH QA SA SG KR LK SY TW TJ TH TL TR TM AE UZ VN YE",
    "Europe": "AX AL AD AT BY BE BA BG HR CZ DK EE FO FI FR DE GI GR GG HU IS IE IM IT JE LV LI LT LU MT MD MC ME "
    "NL MK NO PL PT RO RU SM RS SK SI ES SJ SE CH UA GB VA",
    "North America": "AI AG AW BS BB BZ BM BQ CA KY CR CU CW DM DO SV GL GD GP GT HT HN JM MQ MX MS NI PA PR BL KN "
    "LC MF PM VC SX TT TC US VG VI",
    "South America": "AR BO BR CL CO EC FK GF GY PY PE SR UY VE",
    "Oceania": "AS AU CK FJ PF GU KI MH FM NR NC NZ NU NF MP PW PG PN WS SB TK TO TV VU WF",
}
# The seed's countries come first, so even a small data set has them.
FIRST_COUNTRIES = ["US", "GB", "IN", "ZA", "AU", "CA", "FR", "DE", "BR", "KE", "NL", "ES", "IT", "MX", "JP", "NG"]
SUPRANATIONAL = {
    "European Union": "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE",
    "African Union": "DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG MW "
    "ML MR MU MA MZ NA NE NG RW ST SN SC SL SO ZA SS SD TZ TG TN UG EH ZM ZW",
    "Association of Southeast Asian Nations": "BN KH ID LA MY MM PH SG TH VN",
    "Mercosur": "AR BR PY UY BO",
}
FOCUS_AREAS = [
    "Domestic Violence",
    "Human Trafficking",
    "Child Protection",
    "Gender-based Violence",
    "Community Safety",
    "Drug Abuse",
    "Youth Crime",
    "Victim Support",
]
PRACTICES = [  # the seed's table: name, implementation, concerns
    ("Predictive Policing", "Data analytics to forecast crime hotspots", "Risk of bias, profiling, data accuracy"),
    ("Body-Worn Cameras", "Recording police-public interactions", "Privacy, data access, storage concerns"),
    ("CCTV Monitoring", "Installation in public spaces", "Privacy infringement, data misuse"),
    ("Social Media Monitoring", "Tracking online activities for threats", "Free speech concerns, data privacy"),
]
MECHANISMS = [  # the seed's seven recommendations: slug, name, recommendation, expected outcome
    (
        "data-governance-framework",
        "Data governance framework",
        "Establish Clear Data Governance Frameworks",
        "Clear guidelines for data sharing, enhanced data protection",
    ),
    (
        "community-involvement",
        "Community involvement",
        "Enhance Community Involvement",
        "Increased community trust and engagement",
    ),
    (
        "transparency-reports",
        "Transparency reports",
        "Implement Regular Transparency Reports",
        "Improved accountability and public awareness",
    ),
    (
        "joint-training",
        "Joint training",
        "Conduct Joint Training Programs",
        "Better collaboration and understanding between NGOs and police",
    ),
    (
        "independent-oversight",
        "Independent oversight",
        "Enforce Independent Oversight",
        "Objective evaluation of partnership practices",
    ),
    (
        "feedback-mechanisms",
        "Feedback mechanisms",
        "Develop Feedback Mechanisms",
        "Continuous improvement of partnership strategies",
    ),
    (
        "secure-technology-audit-trails",
        "Secure technology with audit trails",
        "Implement Technology Solutions",
        "Secure and transparent data transactions",
    ),
]
LEGAL_TOPICS = [
    "Data Protection",
    "Consent",
    "Individual Rights",
    "Privacy Rights",
    "Transparency",
    "Accountability",
    "Surveillance Oversight",
    "Legal Compliance",
    "Balancing Benefits and Rights Protection",
]
ISSUE_TYPES = ["Privacy Breach", "Data Misuse", "Discriminatory Practices", "Mission Creep", "Unlawful Retention"]

# --- Word lists for names and text ------------------------------------------------------------------------------
SYLLABLES = [
    "al",
    "bra",
    "cor",
    "den",
    "el",
    "fal",
    "gar",
    "hol",
    "is",
    "kel",
    "lor",
    "mar",
    "nor",
    "os",
    "pel",
    "quin",
    "ros",
    "sel",
    "tor",
    "ul",
    "var",
    "wen",
    "yar",
    "zel",
    "ash",
    "bel",
    "cal",
    "dun",
    "ev",
    "fen",
    "glen",
    "har",
    "ing",
    "jas",
    "kin",
    "lan",
    "mor",
    "nev",
    "orr",
    "pen",
    "rav",
    "sto",
    "tal",
    "ven",
    "wil",
]
PLACE_ENDINGS = [
    "ford",
    "mouth",
    "ton",
    "field",
    "bury",
    "haven",
    "dale",
    "mere",
    "wick",
    "stead",
    "burg",
    "ville",
    "port",
    "bridge",
    "moor",
    "gate",
    "ley",
    "wood",
    "holm",
    "by",
]
PLACE_PREFIXES = ["", "", "", "", "North ", "South ", "East ", "West ", "Port ", "New ", "Upper ", "Lower "]
SUBNATIONAL_KINDS = ["Province", "State", "Region", "County", "District", "Territory", "Prefecture"]
NGO_ADJECTIVES = [
    "Safe",
    "Bright",
    "New",
    "Open",
    "Shared",
    "Common",
    "United",
    "Free",
    "Hope",
    "Clear",
    "Strong",
    "Steady",
    "Kind",
    "True",
    "Silver",
    "Green",
    "Golden",
    "First",
    "Quiet",
    "Brave",
    "Gentle",
    "Rising",
    "Caring",
    "Whole",
]
NGO_NOUNS = [
    "Harbour",
    "Horizon",
    "Bridge",
    "Path",
    "Haven",
    "Light",
    "Circle",
    "Door",
    "Voice",
    "Shelter",
    "Compass",
    "Anchor",
    "Roots",
    "Futures",
    "Steps",
    "Ground",
    "Hands",
    "Home",
    "Way",
    "Lantern",
    "Refuge",
    "Spring",
    "Tide",
]
NGO_CAUSES = [
    "Women's Aid",
    "Child Rights",
    "Victim Support",
    "Anti-Trafficking",
    "Youth Outreach",
    "Family Safety",
    "Migrant Rights",
    "Community Safety",
    "Survivors'",
    "Domestic Abuse",
    "Street Outreach",
    "Legal Advice",
    "Mental Health",
    "Recovery",
    "Refugee Support",
]
NGO_TYPES = [
    "Foundation",
    "Network",
    "Trust",
    "Alliance",
    "Collective",
    "Association",
    "Centre",
    "Coalition",
    "Initiative",
    "Society",
    "Project",
    "Council",
    "Institute",
    "Services",
]
POLICE_KINDS = [
    "Police Department",
    "Police Service",
    "Metropolitan Police",
    "Constabulary",
    "Sheriff's Office",
    "Police Force",
    "Municipal Police",
    "Regional Police",
    "Public Safety Department",
]
NATIONAL_POLICE_KINDS = ["National Police", "Federal Police", "Gendarmerie", "Police Service", "Police Agency"]
POLICE_DIVISIONS = [
    "North District",
    "South District",
    "East District",
    "West District",
    "Central Division",
    "Harbour Division",
    "Transit Bureau",
    "Public Protection Unit",
    "Special Victims Unit",
    "Community Policing Unit",
    "Safeguarding Command",
    "Missing Persons Bureau",
    "Cyber Crime Unit",
    "Child Abuse Investigation Team",
    "Domestic Abuse Unit",
    "Modern Slavery Unit",
]
PROGRAMMES = [
    "Joint Referral Programme",
    "Safeguarding Hub",
    "Task Force",
    "Victim Advocacy Project",
    "Outreach Partnership",
    "Multi-Agency Panel",
    "Helpline Agreement",
    "Data-Sharing Pilot",
]
OBJECTIVE_VERBS = ["Provide", "Improve", "Strengthen", "Coordinate", "Expand", "Support", "Deliver", "Combat"]
OBJECTIVE_OBJECTS = [
    "victim support for domestic violence cases",
    "referrals of trafficking survivors to shelters",
    "child protection and anti-trafficking work",
    "early help for young people at risk",
    "safety planning for survivors of abuse",
    "outreach to people sleeping rough",
    "joint responses to missing children",
    "support for victims of hate crime",
    "crisis response for people in mental distress",
    "identification of victims of exploitation",
]
OBJECTIVE_GROUPS = ["", "", " in the city", " across the region", " for migrant communities", " in schools"]
FOCUS_PHRASES = ["victim support", "prevention", "combat", "early intervention", "survivor services", "outreach"]

TEXT_SLOTS: dict[str, list[str]] = {
    "org": [
        "shelter",
        "advocacy network",
        "helpline",
        "outreach team",
        "legal aid clinic",
        "support centre",
        "refuge",
        "youth project",
        "survivors' charity",
        "community organisation",
    ],
    "police": [
        "local police",
        "city police",
        "regional police",
        "national police",
        "specialist unit",
        "public protection unit",
        "neighbourhood team",
        "sheriff's office",
    ],
    "group": [
        "survivors of domestic abuse",
        "children at risk",
        "victims of trafficking",
        "young people",
        "migrant workers",
        "older residents",
        "people experiencing homelessness",
        "families in crisis",
        "sex workers",
        "asylum seekers",
    ],
    "data": [
        "case notes",
        "referral records",
        "helpline call logs",
        "names and addresses",
        "risk assessments",
        "immigration status",
        "health information",
        "location data",
        "photographs of injuries",
        "shelter occupancy lists",
    ],
    "activity": [
        "share referrals within forty-eight hours",
        "run joint outreach patrols",
        "co-locate caseworkers in the police station",
        "operate a shared case management system",
        "hold weekly multi-agency risk meetings",
        "train officers in trauma-informed interviewing",
        "publish joint statistics every quarter",
        "staff a twenty-four hour helpline together",
    ],
    "concern": [
        "the retention of victims' data",
        "the lack of informed consent",
        "profiling of minority neighbourhoods",
        "mission drift away from service delivery",
        "unrestricted police access to case files",
        "the absence of an independent audit",
        "the use of predictive risk scores",
        "the sharing of immigration status",
    ],
    "tech": [
        "a shared database",
        "a case management platform",
        "body-worn camera footage",
        "automated risk scoring",
        "a mobile reporting app",
        "CCTV feeds",
        "social media monitoring tools",
        "a secure messaging service",
    ],
    "purpose": [
        "flag repeat victims",
        "track referrals between agencies",
        "identify trafficking routes",
        "prioritise calls for service",
        "match missing persons reports",
        "map incidents across the city",
    ],
    "report": ["annual transparency reports", "quarterly statistics", "an open data portal", "audit summaries"],
    "gap": [
        "the figures are rarely broken down by neighbourhood",
        "no report has been published since the pilot ended",
        "requests for the underlying data have been refused",
        "the reports omit data shared informally",
    ],
    "recommendation": [
        "a written data retention schedule",
        "a community advisory board",
        "regular independent audits",
        "clearer consent forms",
        "an end to real-time police access",
        "published data-sharing agreements",
    ],
    "funder": [
        "a national crime prevention fund",
        "the city council",
        "a private foundation",
        "an international development grant",
        "the police budget",
        "a lottery-funded programme",
    ],
    "interval": ["month", "quarter", "six months", "year"],
    "year": [str(y) for y in range(1975, 2025)],
    "place": ["the capital", "the northern districts", "the harbour area", "rural counties", "the inner city"],
}
TEXT_TEMPLATES = [
    "The {org} and the {police} agreed in {year} to {activity} for {group}.",
    "Under the agreement, {data} collected by caseworkers may be passed to the {police} on request.",
    "Caseworkers reported that {group} were reluctant to seek help once {data} began to reach the {police}.",
    "An internal review found that {concern} had not been addressed in the original memorandum.",
    "The partnership publishes {report}, although {gap}.",
    "Staff of the {org} receive joint training with officers every {interval}.",
    "Residents raised concerns about {concern} at a public meeting in {year}.",
    "Referrals from the {police} to the {org} rose sharply after {year}.",
    "The programme relies on {tech} to {purpose}.",
    "Access to {data} is limited to named officers, and every query is logged.",
    "Critics argue that {concern} risks turning a support service into an instrument of surveillance.",
    "The memorandum of understanding does not say how long {data} may be kept.",
    "An oversight body reviewed the arrangement in {year} and recommended {recommendation}.",
    "Funding comes from {funder}, which asks for outcome figures every {interval}.",
    "Survivors can ask for their {data} to be withheld from the {police}, but few are told of this option.",
    "In {place}, the {org} works with the {police} to {activity}.",
    "A local newspaper reported in {year} that {data} had been shared without a court order.",
    "The {police} say that {tech} helps them {purpose}.",
    "Advocates for {group} have asked for {recommendation}.",
    "Since {year}, the {org} has supported thousands of {group} referred by the {police}.",
    "Neither partner has published an assessment of {concern}.",
    "The arrangement began informally and was formalised in {year} with a written agreement.",
]
SPEAKERS = [
    "an anonymous community member",
    "a caseworker at a partner organisation",
    "a senior police officer",
    "a survivor interviewed by researchers",
    "a local councillor",
    "a data protection officer",
    "a spokesperson for the NGO",
    "a civil liberties lawyer",
]
LOCATORS = ["p. {n}", "Table {n}", "section {n}", "paragraph {n}", "annex {n}", "slide {n}"]
FINDERS = [
    (FinderKind.AUDIT, "an audit by an independent oversight body"),
    (FinderKind.OVERSIGHT_BODY, "the regional data protection authority"),
    (FinderKind.NGO_REPORT, "a report by a civil liberties organisation"),
    (FinderKind.JOURNALISM, "an investigation by a local newspaper"),
    (FinderKind.COURT, "a court ruling on a judicial review"),
    (FinderKind.WHISTLEBLOWER, "a whistleblower inside the partnership"),
    (FinderKind.UNKNOWN, ""),
]
SOURCE_KINDS = [  # kind, tier, weight
    (SourceKind.NEWS, SourceTier.SECONDARY, 35),
    (SourceKind.NGO_REPORT, SourceTier.SECONDARY, 25),
    (SourceKind.ACADEMIC, SourceTier.SECONDARY, 10),
    (SourceKind.OFFICIAL_STATISTICS, SourceTier.SECONDARY, 5),
    (SourceKind.OFFICIAL_WEBSITE, SourceTier.PRIMARY, 8),
    (SourceKind.PRIMARY_DOCUMENT, SourceTier.PRIMARY, 17),
]
SOURCE_TITLES = {
    SourceKind.NEWS: "News: {subject} in {place}",
    SourceKind.NGO_REPORT: "NGO report: {subject} in {place}",
    SourceKind.ACADEMIC: "Study: {subject} in {place}",
    SourceKind.OFFICIAL_STATISTICS: "Statistics: {subject} in {place}, {year}",
    SourceKind.OFFICIAL_WEBSITE: "Website: {subject} in {place}",
    SourceKind.PRIMARY_DOCUMENT: "Memorandum of understanding on {subject} in {place}",
}
SOURCE_SUBJECTS = [
    "police referrals of domestic violence survivors",
    "data sharing between shelters and police",
    "trafficking victim identification",
    "child protection partnerships",
    "community policing and outreach",
    "body-worn camera footage in victim interviews",
    "predictive risk scores for repeat victims",
    "joint task forces on exploitation",
    "helpline records and police access",
]
INSTRUMENT_SUBJECTS = [
    "Data Protection",
    "Victims' Rights",
    "Police Powers",
    "Surveillance Oversight",
    "Information Sharing",
    "Child Safeguarding",
    "Modern Slavery",
    "Domestic Abuse",
    "Community Policing",
    "Privacy",
    "Biometric Data",
    "Freedom of Information",
]
INSTRUMENT_FORMS = {
    InstrumentKind.STATUTE: "{subject} Act {year}",
    InstrumentKind.REGULATION: "{subject} Regulations {year}",
    InstrumentKind.DIRECTIVE: "Directive on {subject} ({year})",
    InstrumentKind.TREATY: "Convention on {subject} ({year})",
    InstrumentKind.BILL: "{subject} Bill {year}",
    InstrumentKind.REPORT: "Report on {subject} and Policing ({year})",
    InstrumentKind.GUIDANCE: "Guidance on {subject} in Police Partnerships ({year})",
}
OVERSIGHT_FORMS = [
    (OversightKind.COMMISSIONER, "{place} Surveillance Commissioner"),
    (OversightKind.COMMISSIONER, "Office of the {place} Information Commissioner"),
    (OversightKind.COMMISSIONER, "{place} Data Protection Authority"),
    (OversightKind.COMMUNITY_COUNCIL, "{place} Community Advisory Council on Policing"),
    (OversightKind.COMMUNITY_COUNCIL, "{place} Police Accountability Board"),
    (OversightKind.COURT, "{place} Investigatory Powers Tribunal"),
    (OversightKind.OTHER, "{place} Independent Office for Police Conduct"),
]
CASE_TITLES = [
    "{practice} data from a {focus} partnership shared with police in {place}",
    "Shelter records used for {practice} in {place}",
    "{focus} helpline logs passed to police without consent in {place}",
    "{practice} programme flagged survivors as suspects in {place}",
    "Audit finds {focus} partnership in {place} kept data for years",
]


# --- Plan ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SyntheticPlan:
    """How many rows of each kind a load of ``partnerships`` partnerships writes (before links and claims)."""

    partnerships: int
    ngos: int
    police_departments: int
    sources: int
    legal_instruments: int
    oversight_bodies: int
    overreach_cases: int
    countries: int
    jurisdictions: int


def synthetic_plan(*, partnerships: int) -> SyntheticPlan:
    n = partnerships
    if n <= 0:
        return SyntheticPlan(0, 0, 0, 0, 0, 0, 0, 0, 0)
    available = sum(len(codes.split()) for codes in REGION_COUNTRIES.values())
    country_count = min(available, max(8, n // 1000))
    return SyntheticPlan(
        partnerships=n,
        ngos=max(2, n // 5),
        police_departments=max(2, n // 10),
        sources=max(4, n // 2),
        legal_instruments=max(10, n // 10),
        oversight_bodies=max(5, n // 100),
        overreach_cases=max(2, n // 20),
        countries=country_count,
        jurisdictions=max(country_count * 4, min(4000, n // 250)),
    )


@dataclass
class SyntheticReport:
    """What a load (or a delete) did: rows per model and seconds per stage."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    table_seconds: dict[str, float] = field(default_factory=dict)  # time in COPY and DELETE, by table

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


# --- Helpers ---------------------------------------------------------------------------------------------------
_SLUG_RE = re.compile(r"[^a-z0-9]+")


def _slugpart(text: str, limit: int = 60) -> str:
    """A slug fragment from ASCII-ish text (fast: the generator's names are built from ASCII word lists)."""
    part = _SLUG_RE.sub("-", text.lower()).strip("-")[:limit].strip("-")
    return part or "x"


def _copy_escape(text: str) -> str:
    """Escape a value for COPY's text format (for names that come from outside the word lists)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _acronym(name: str) -> str:
    return "".join(word[0] for word in name.replace("-", " ").split() if word[0].isupper())


def _alias(name: str) -> str:
    """A plausible abbreviation (2-5 capitals, like NYPD), or none."""
    acronym = _acronym(name.split(",")[0])
    return acronym if 2 <= len(acronym) <= 5 else ""


def _weighted_cumulative(weights: Sequence[float]) -> list[float]:
    total = 0.0
    out = []
    for w in weights:
        total += w
        out.append(total)
    return out


class _Pick:
    """Weighted choice over a fixed list, fast enough to call millions of times."""

    def __init__(self, rng: random.Random, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.rng = rng
        self.items = list(items)
        self.cum = _weighted_cumulative(weights)

    def one(self) -> Any:
        return self.rng.choices(self.items, cum_weights=self.cum)[0]

    def many(self, k: int) -> list[Any]:
        return self.rng.choices(self.items, cum_weights=self.cum, k=k)


class _Text:
    """Pools of sentences built once from templates; paragraphs are sampled from them."""

    def __init__(self, rng: random.Random, pool_size: int = 4000) -> None:
        self.rng = rng
        sentences: set[str] = set()
        slot_re = re.compile(r"\{(\w+)\}")
        attempts = 0
        while len(sentences) < pool_size and attempts < pool_size * 5:
            attempts += 1
            template = rng.choice(TEXT_TEMPLATES)
            sentence = slot_re.sub(lambda m: rng.choice(TEXT_SLOTS[m.group(1)]), template)
            sentences.add(sentence[0].upper() + sentence[1:])
        self.sentences = sorted(sentences)
        rng.shuffle(self.sentences)
        self.mean_len = sum(len(s) + 1 for s in self.sentences) / len(self.sentences)

    def sentence(self) -> str:
        return self.sentences[int(self.rng.random() * len(self.sentences))]

    def body(self, low: int = 500, high: int = 3000) -> str:
        """0.5-3 KB of prose in paragraphs (already escaped for COPY: paragraph breaks are ``\\n\\n``)."""
        target = self.rng.triangular(low, high, low + (high - low) * 0.25)
        count = max(2, round(target / self.mean_len))
        chosen = self.rng.choices(self.sentences, k=count)
        paragraphs = [" ".join(chosen[i : i + 4]) for i in range(0, count, 4)]
        return "\\n\\n".join(paragraphs)

    def short(self, low: int, high: int) -> str:
        target = self.rng.uniform(low, high)
        count = max(1, int(target / self.mean_len))
        return " ".join(self.rng.choices(self.sentences, k=count))


@dataclass
class _Jurisdictions:
    ids: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    country: list[int] = field(default_factory=list)  # index into _Countries, -1 above national level
    place: list[str] = field(default_factory=list)  # "Ashford, United Kingdom"


@dataclass
class _Countries:
    codes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    region_ids: list[int] = field(default_factory=list)


def _history_triggers(operation: str) -> dict[str, list[tuple[str, str]]]:
    """The pghistory event triggers that fire on ``operation`` ("INSERT" or "DELETE"), by table:
    table -> [(pgtrigger URI, trigger name in the database)]."""
    found: dict[str, list[tuple[str, str]]] = {}
    for model, trigger in pgtrigger.registered():
        if isinstance(trigger, pghistory.trigger.Event) and str(trigger.operation) == operation:
            uri = f"{model._meta.label}:{trigger.name}"
            found.setdefault(model._meta.db_table, []).append((uri, trigger.get_pgid(model)))
    return found


@contextmanager
def _history_ignored(triggers: Sequence[tuple[str, str]], cursor: Any) -> Iterator[None]:
    """Ignore these history triggers (``pgtrigger.ignore``) for the statements of this block, and check it.

    Only the triggers of the one table being written are ignored: the trigger functions still run for every
    row and look their own name up in the ignore list, so a short list is what keeps this cheap (measured:
    200k link rows took 4.9 s with the table's own trigger ignored, 4.2 s with it disabled, 8.6 s with it
    writing events, and 11.5 s with the triggers of every bulk table in the list)."""
    uris = [uri for uri, _ in triggers]
    with pgtrigger.ignore(*uris):
        if triggers:
            # pgtrigger puts the (transaction-local) ignore list in front of each statement Django runs; COPY
            # goes past Django, so run one statement now and check that the list is in place.
            cursor.execute("SELECT current_setting('pgtrigger.ignore', true)")
            (setting,) = cursor.fetchone()
            if any(pgid not in (setting or "") for _, pgid in triggers):
                raise RuntimeError("pgtrigger.ignore is not in effect; refusing to bulk-write without it.")
        yield


class _Loader:
    """Writes rows with COPY (and deletes them) through Django's psycopg connection, history triggers ignored."""

    def __init__(self, cursor: Any, progress: bool) -> None:
        self.cursor = cursor  # Django cursor wrapper
        self.progress = progress
        self.insert_triggers = _history_triggers("INSERT")
        self.delete_triggers = _history_triggers("DELETE")
        self.table_seconds: dict[str, float] = {}  # time spent in COPY per table

    def reserve_ids(self, model: type[models.Model], count: int) -> list[int]:
        if count <= 0:
            return []
        self.cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in self.cursor.fetchall()]

    def copy(self, table: str, columns: Sequence[str], lines: list[str]) -> None:
        if not lines:
            return
        started = time.perf_counter()
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        with (
            _history_ignored(self.insert_triggers.get(table, []), self.cursor),
            self.cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy,
        ):
            step = 5000
            for start in range(0, len(lines), step):
                copy.write("\n".join(lines[start : start + step]) + "\n")
        self.table_seconds[table] = self.table_seconds.get(table, 0.0) + time.perf_counter() - started

    def delete(self, table: str, sql: str, params: Sequence[Any] | None = None) -> int:
        """Run a DELETE on ``table`` with its history trigger ignored; the number of rows deleted."""
        # The savepoint keeps the transaction usable when the database refuses (a real row refers to a synthetic
        # one), so that pgtrigger can reset its ignore list and the refusal reaches the caller as it is.
        with _history_ignored(self.delete_triggers.get(table, []), self.cursor), transaction.atomic():
            self.cursor.execute(sql, params)
            return int(self.cursor.rowcount)

    def bar(self, stage: str, total: int) -> tqdm[Any]:
        return tqdm(total=total, desc=f"{stage:<22}", unit="row", unit_scale=True, disable=not self.progress)


BULK_MODELS: list[type[models.Model]] = [
    Source,
    Jurisdiction,
    NGO,
    PoliceDepartment,
    LegalInstrument,
    OversightBody,
    Partnership,
    MechanismAssessment,
    Claim,
    OverreachCase,
    CaseQuote,
]


def _through(model: type[models.Model], name: str) -> tuple[str, str, str]:
    """Table and the two columns of a many-to-many field's through table."""
    m2m = model._meta.get_field(name)
    through = m2m.remote_field.through  # type: ignore[union-attr]
    return through._meta.db_table, m2m.m2m_column_name(), m2m.m2m_reverse_name()  # type: ignore[union-attr]


RECORD_COLUMNS = ["id", "slug", "verification_status", "is_published", "first_published_at", "is_synthetic"]
RECORD_COLUMNS.append("editorial_note")


# --- The generator ---------------------------------------------------------------------------------------------
class _Generator:
    def __init__(self, *, plan: SyntheticPlan, seed: int, loader: _Loader, report: SyntheticReport) -> None:
        self.plan = plan
        self.seed = seed
        self.loader = loader
        self.report = report
        today = dt.datetime.now(tz=dt.UTC).date()
        self.this_year = today.year
        self.years = list(range(EARLIEST_YEAR, self.this_year + 1))
        self.text = _Text(self.rng("text"))
        # Timestamps and dates as ready-made strings.
        ts_rng = self.rng("timestamps")
        stamps = sorted(
            TIMESTAMP_START + dt.timedelta(seconds=ts_rng.randrange(TIMESTAMP_DAYS * 86400)) for _ in range(5000)
        )
        self.stamps = [s.strftime("%Y-%m-%d %H:%M:%S+00") for s in stamps]
        first_day = dt.date(EARLIEST_YEAR, 1, 1)
        self.days = [(first_day + dt.timedelta(days=i)).isoformat() for i in range((today - first_day).days)]
        self.countries = _Countries()
        self.jur = _Jurisdictions()
        self.focus_ids: list[int] = []
        self.focus_names: list[str] = []
        self.practice_ids: list[int] = []
        self.practice_names: list[str] = []
        self.mechanism_ids: list[int] = []
        self.topic_ids: list[int] = []
        self.issue_ids: list[int] = []
        self.source_ids: list[int] = []
        self.source_primary = bytearray()
        self.source_outlet = array("H")
        self.ngo_ids: list[int] = []
        self.ngo_names: list[str] = []
        self.ngo_aliases: list[str] = []
        self.ngo_by_country: dict[int, list[int]] = {}
        self.police_ids: list[int] = []
        self.police_names: list[str] = []
        self.police_aliases: list[str] = []
        self.police_by_country: dict[int, list[int]] = {}
        self.instrument_ids: list[int] = []
        self.instruments_by_jur: dict[int, list[int]] = {}
        self.partnership_ids = array("q")
        self.partnership_jur = array("i")
        self.partnership_year = array("h")

    def rng(self, stage: str) -> random.Random:
        """One independent, seeded stream per stage, so a change in one stage leaves the others' rows alone."""
        return random.Random(f"{self.seed}:{stage}")  # noqa: S311 - reproducible test data, not security

    # -- small helpers
    def stamp_pair(self, rng: random.Random) -> tuple[str, str]:
        i = int(rng.random() * len(self.stamps))
        j = min(len(self.stamps) - 1, i + int(rng.random() * 400))
        return self.stamps[i], self.stamps[j]

    def status_for(self, sources: Sequence[int]) -> str:
        """The status ``derive_verification_status`` would give a record citing these sources (none disputed)."""
        if any(self.source_primary[s] for s in sources):
            return VerificationStatus.VERIFIED
        if len({self.source_outlet[s] for s in sources}) >= 2:
            return VerificationStatus.CORROBORATED
        return VerificationStatus.UNVERIFIED

    def pick_sources(self, rng: random.Random, low: int, high: int) -> list[int]:
        count = low + int((high - low + 1) * rng.random() ** 1.5)  # mostly ``low``: one or two sources
        n = len(self.source_ids)
        # Skewed: a few sources (big reports) are cited very often.
        picked = {int(n * rng.random() ** 1.6) for _ in range(count)}
        while len(picked) < min(low, n):
            picked.add(int(n * rng.random()))
        return sorted(picked)

    def record_values(self, rng: random.Random, slug: str, status: str, created: str, note: str = "") -> list[str]:
        """slug, verification status, publication (first published when created), synthetic, note."""
        if rng.random() < PUBLISHED_SHARE:
            return [slug, status, "t", created, "t", note]
        return [slug, status, "f", "\\N", "t", note]

    def timed(self, stage: str, func: Callable[[], None]) -> None:
        started = time.perf_counter()
        func()
        self.report.seconds[stage] = time.perf_counter() - started

    def count(self, model: type[models.Model] | str, rows: int) -> None:
        label = model if isinstance(model, str) else model._meta.label
        self.report.rows[label] = self.report.rows.get(label, 0) + rows

    # -- stages
    def run(self) -> None:
        self.timed("taxonomies", self.load_taxonomies)
        self.timed("jurisdictions", self.load_jurisdictions)
        self.timed("sources", self.load_sources)
        self.timed("ngos", self.load_ngos)
        self.timed("police departments", self.load_police)
        self.timed("legal instruments", self.load_instruments)
        self.timed("oversight bodies", self.load_oversight_bodies)
        self.timed("partnerships", self.load_partnerships)
        self.timed("overreach cases", self.load_cases)

    def load_taxonomies(self) -> None:
        """Reuse the reference rows that exist (by slug, then name); create the missing ones (with history)."""
        region_ids = {name: _taxonomy_row(Region, name, REGION_ALIASES.get(name, ())).pk for name in REGIONS}
        wanted = _country_order(self.rng("countries"))[: self.plan.countries]
        by_code = {c.code: c for c in Country.objects.filter(code__in=[code for code, _ in wanted])}
        for code, region in wanted:
            country = by_code.get(code) or _country_create(code, region_ids[region])
            self.countries.codes.append(code)
            self.countries.names.append(_copy_escape(country.name))  # names go into COPY rows as they are
            self.countries.region_ids.append(country.region_id)
        for name in FOCUS_AREAS:
            self.focus_ids.append(_taxonomy_row(FocusArea, name).pk)
            self.focus_names.append(name)
        for name, implementation, concerns in PRACTICES:
            practice = _record_taxonomy_row(
                SurveillancePractice, slugify(name), name, {"implementation": implementation, "concerns": concerns}
            )
            self.practice_ids.append(practice.pk)
            self.practice_names.append(practice.name)
        for position, (slug, name, recommendation, outcome) in enumerate(MECHANISMS, start=1):
            mechanism = _record_taxonomy_row(
                AccountabilityMechanism,
                slug,
                name,
                {"recommendation": recommendation, "expected_outcome": outcome, "position": position},
            )
            self.mechanism_ids.append(mechanism.pk)
        self.topic_ids = [_taxonomy_row(LegalTopic, name).pk for name in LEGAL_TOPICS]
        self.issue_ids = [_taxonomy_row(IssueType, name).pk for name in ISSUE_TYPES]

    def load_jurisdictions(self) -> None:
        rng = self.rng("jurisdictions")
        plan = self.plan
        # name, level, parent index, country index, place label
        rows: list[tuple[str, str, int, int, str]] = [("International (synthetic data)", "international", -1, -1, "")]
        supra_index: dict[str, int] = {}
        member_of = {code: name for name, codes in SUPRANATIONAL.items() for code in codes.split()}
        for code in self.countries.codes:
            group = member_of.get(code)
            if group and group not in supra_index:
                supra_index[group] = len(rows)
                rows.append((group, JurisdictionLevel.SUPRANATIONAL, 0, -1, group))
        national_index = []
        for ci, code in enumerate(self.countries.codes):
            parent = supra_index.get(member_of.get(code, ""), 0)
            national_index.append(len(rows))
            rows.append((self.countries.names[ci], JurisdictionLevel.NATIONAL, parent, ci, self.countries.names[ci]))
        remaining = max(0, plan.jurisdictions - len(rows))
        n_sub = max(len(national_index), remaining // 4)
        n_city = max(len(national_index), remaining - n_sub)
        country_weight = [rng.paretovariate(1.2) * (4 if ci < 6 else 1) for ci in range(len(national_index))]
        country_pick = _Pick(rng, range(len(national_index)), country_weight)
        used_names: set[tuple[int, str]] = set()

        def unique_name(parent: int, make: Callable[[], str]) -> str:
            for _ in range(20):
                name = make()
                if (parent, name) not in used_names:
                    break
            else:
                base = name
                k = 2
                while (parent, name) in used_names:
                    name = f"{base} {k}"
                    k += 1
            used_names.add((parent, name))
            return name

        def place_word() -> str:
            stem = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 2)))
            return rng.choice(PLACE_PREFIXES) + stem.capitalize() + rng.choice(PLACE_ENDINGS)

        sub_index = []
        for k in range(n_sub):
            ci = k if k < len(national_index) else country_pick.one()
            parent = national_index[ci]
            name = unique_name(parent, lambda: f"{place_word()} {rng.choice(SUBNATIONAL_KINDS)}")
            sub_index.append(len(rows))
            rows.append((name, JurisdictionLevel.SUBNATIONAL, parent, ci, f"{name}, {self.countries.names[ci]}"))
        sub_pick = _Pick(rng, sub_index, [rng.paretovariate(1.3) for _ in sub_index])
        for _ in range(n_city):
            parent = sub_pick.one()
            ci = rows[parent][3]
            name = unique_name(parent, place_word)
            rows.append((name, JurisdictionLevel.CITY, parent, ci, f"{name}, {self.countries.names[ci]}"))

        ids = self.loader.reserve_ids(Jurisdiction, len(rows))
        codes = self.countries.codes
        country_pk = dict(Country.objects.filter(code__in=codes).values_list("code", "pk"))
        lines = []
        bar = self.loader.bar("jurisdictions", len(rows))
        for i, (name, level, parent, ci, place) in enumerate(rows):
            if level == JurisdictionLevel.INTERNATIONAL:
                slug = ROOT_SLUG
            elif level == JurisdictionLevel.NATIONAL:
                slug = f"{SLUG_PREFIX}{codes[ci].lower()}"
            else:
                slug = f"{SLUG_PREFIX}{_slugpart(name, 50)}-{i}"
            lines.append(
                "\t".join(
                    [
                        str(ids[i]),
                        slug,
                        name,
                        level,
                        str(ids[parent]) if parent >= 0 else "\\N",
                        str(country_pk[codes[ci]]) if ci >= 0 else "\\N",
                        "",
                    ]
                )
            )
            self.jur.ids.append(ids[i])
            self.jur.names.append(name)
            self.jur.levels.append(level)
            self.jur.country.append(ci)
            self.jur.place.append(place)
        self.loader.copy(
            Jurisdiction._meta.db_table,
            ["id", "slug", "name", "level", "parent_id", "country_id", "subdivision_code"],
            lines,
        )
        bar.update(len(rows))
        bar.close()
        self.count(Jurisdiction, len(rows))

    def jurisdiction_picker(self, rng: random.Random, shares: dict[str, float]) -> _Pick:
        """Jurisdictions weighted by level share and a heavy-tailed popularity (a few big cities)."""
        by_level: dict[str, list[int]] = {}
        for i, level in enumerate(self.jur.levels):
            if level in shares:
                by_level.setdefault(level, []).append(i)
        items: list[int] = []
        weights: list[float] = []
        for level, share in shares.items():
            members = by_level.get(level, [])
            popularity = [rng.paretovariate(1.1) for _ in members]
            total = sum(popularity) or 1.0
            items.extend(members)
            weights.extend(share * p / total for p in popularity)
        return _Pick(rng, items, weights)

    def load_sources(self) -> None:
        rng = self.rng("sources")
        n = self.plan.sources
        outlets = min(250, max(5, n // 40))
        kind_pick = _Pick(rng, [(k, t) for k, t, _ in SOURCE_KINDS], [w for _, _, w in SOURCE_KINDS])
        places = self.jur.place
        columns = ["id", "slug", "title", "publisher", "author", "url", "archived_url", "published_on"]
        columns += ["accessed_on", "kind", "tier", "note", "is_synthetic", "created_at", "updated_at"]
        bar = self.loader.bar("sources", n)
        last_day = len(self.days) - 1
        for start in range(0, n, BATCH):
            size = min(BATCH, n - start)
            ids = self.loader.reserve_ids(Source, size)
            lines = []
            for k in range(size):
                i = start + k
                kind, tier = kind_pick.one()
                outlet = int(outlets * rng.random() ** 1.5)
                place = places[1 + int(rng.random() * (len(places) - 1))] or "the region"
                published = int(last_day * rng.random() ** 0.5)
                year = self.days[published][:4]
                title = "Synthetic " + SOURCE_TITLES[kind].format(
                    subject=rng.choice(SOURCE_SUBJECTS), place=place, year=year
                )
                slug = f"{SLUG_PREFIX}source-{_slugpart(title[10:], 60)}-{i}"
                url = f"https://outlet{outlet:03d}.{URL_HOST}/{year}/{slug}"
                archived = f"https://archive.{URL_HOST}/{year}/{slug}" if rng.random() < 0.4 else ""
                accessed = min(last_day, published + int(rng.random() * 1500))
                created, updated = self.stamp_pair(rng)
                lines.append(
                    "\t".join(
                        [
                            str(ids[k]),
                            slug,
                            _copy_escape(title),
                            f"{PUBLISHER} (outlet {outlet:03d})",
                            "",
                            url,
                            archived,
                            self.days[published],
                            self.days[accessed],
                            kind,
                            tier,
                            "Synthetic benchmark data: this document does not exist.",
                            "t",
                            created,
                            updated,
                        ]
                    )
                )
                self.source_primary.append(1 if tier == SourceTier.PRIMARY else 0)
                self.source_outlet.append(outlet)
            self.source_ids.extend(ids)
            self.loader.copy(Source._meta.db_table, columns, lines)
            bar.update(size)
        bar.close()
        self.count(Source, n)

    def load_organisations(
        self,
        *,
        model: type[NGO] | type[PoliceDepartment],
        count: int,
        stage: str,
        make_name: Callable[[random.Random, int], str],
        shares: dict[str, float],
        alias_share: float,
    ) -> tuple[list[int], list[str], list[str], dict[int, list[int]]]:
        rng = self.rng(stage)
        pick = self.jurisdiction_picker(rng, shares)
        sources_table, src_owner, src_target = _through(model, "sources")
        columns = [*RECORD_COLUMNS, "name", "aliases", "jurisdiction_id", "website", "description"]
        columns += ["created_at", "updated_at"]
        used: set[tuple[int, str]] = set()
        all_ids: list[int] = []
        names: list[str] = []
        aliases: list[str] = []
        by_country: dict[int, list[int]] = {}
        kind = "ngo" if model is NGO else "police"
        bar = self.loader.bar(stage, count)
        for start in range(0, count, BATCH):
            size = min(BATCH, count - start)
            ids = self.loader.reserve_ids(model, size)
            lines: list[str] = []
            links: list[str] = []
            for k in range(size):
                i = start + k
                j = pick.one()
                name = make_name(rng, j)
                if (j, name) in used:
                    base, m = name, 2
                    while (j, name) in used:
                        name = f"{base} {m}"
                        m += 1
                used.add((j, name))
                alias = _alias(name) if rng.random() < alias_share else ""
                slug = f"{SLUG_PREFIX}{kind}-{_slugpart(name, 70)}-{i}"
                website = f"https://{_slugpart(name, 40)}.{URL_HOST}/" if rng.random() < 0.7 else ""
                sources = self.pick_sources(rng, 1, 2)
                created, updated = self.stamp_pair(rng)
                lines.append(
                    "\t".join(
                        [
                            str(ids[k]),
                            *self.record_values(rng, slug, self.status_for(sources), created),
                            name,
                            "{" + alias + "}" if alias else "{}",
                            str(self.jur.ids[j]),
                            website,
                            self.text.body(),
                            created,
                            updated,
                        ]
                    )
                )
                links.extend(f"{ids[k]}\t{self.source_ids[s]}" for s in sources)
                names.append(name)
                aliases.append(alias or name.split(",")[0])  # the short form partnerships are named with
                by_country.setdefault(self.jur.country[j], []).append(i)
            self.loader.copy(model._meta.db_table, columns, lines)
            self.loader.copy(sources_table, [src_owner, src_target], links)
            self.count(f"{model._meta.label}.sources", len(links))
            all_ids.extend(ids)
            bar.update(size)
        bar.close()
        self.count(model, count)
        return all_ids, names, aliases, by_country

    def load_ngos(self) -> None:
        def make_name(rng: random.Random, j: int) -> str:
            form = rng.random()
            place = self.jur.names[j]
            if form < 0.35:
                return f"{rng.choice(NGO_ADJECTIVES)} {rng.choice(NGO_NOUNS)} {rng.choice(NGO_TYPES)}"
            if form < 0.7:
                return f"{place} {rng.choice(NGO_CAUSES)} {rng.choice(NGO_TYPES)}"
            if form < 0.85:
                return f"{rng.choice(NGO_CAUSES)} {rng.choice(NGO_TYPES)} of {place}"
            return (
                f"{rng.choice(NGO_ADJECTIVES)} {rng.choice(NGO_NOUNS)} {rng.choice(NGO_CAUSES)} {rng.choice(NGO_TYPES)}"
            )

        self.ngo_ids, self.ngo_names, self.ngo_aliases, self.ngo_by_country = self.load_organisations(
            model=NGO,
            count=self.plan.ngos,
            stage="ngos",
            make_name=make_name,
            shares={"city": 0.65, "subnational": 0.2, "national": 0.15},
            alias_share=0.3,
        )

    def load_police(self) -> None:
        def make_name(rng: random.Random, j: int) -> str:
            place = self.jur.names[j]
            if self.jur.levels[j] == JurisdictionLevel.NATIONAL:
                base = f"{place} {rng.choice(NATIONAL_POLICE_KINDS)}"
            else:
                base = f"{place} {rng.choice(POLICE_KINDS)}"
            if rng.random() < 0.35:
                return f"{base}, {rng.choice(POLICE_DIVISIONS)}"
            return base

        self.police_ids, self.police_names, self.police_aliases, self.police_by_country = self.load_organisations(
            model=PoliceDepartment,
            count=self.plan.police_departments,
            stage="police departments",
            make_name=make_name,
            shares={"city": 0.55, "subnational": 0.3, "national": 0.15},
            alias_share=0.7,
        )

    def load_instruments(self) -> None:
        rng = self.rng("legal instruments")
        n = self.plan.legal_instruments
        pick = self.jurisdiction_picker(
            rng, {"international": 0.01, "supranational": 0.04, "national": 0.45, "subnational": 0.35, "city": 0.15}
        )
        kinds = _Pick(
            rng,
            [
                InstrumentKind.STATUTE,
                InstrumentKind.REGULATION,
                InstrumentKind.GUIDANCE,
                InstrumentKind.REPORT,
                InstrumentKind.BILL,
                InstrumentKind.DIRECTIVE,
                InstrumentKind.TREATY,
            ],
            [40, 20, 15, 10, 5, 5, 5],
        )
        # Enumeration members are written by value.
        topics_table, t_owner, t_target = _through(LegalInstrument, "topics")
        sources_table, s_owner, s_target = _through(LegalInstrument, "sources")
        columns = [*RECORD_COLUMNS, "short_name", "title", "jurisdiction_id", "kind", "year", "in_force_from"]
        columns += ["in_force_to", "summary", "official_url", "created_at", "updated_at"]
        claim_columns = ["legal_instrument_id", "field", "value", "source_id", "locator", "quote", "note"]
        claim_columns.append("created_at")
        used: set[tuple[int, str]] = set()
        bar = self.loader.bar("legal instruments", n)
        first_day = dt.date(EARLIEST_YEAR, 1, 1)
        for start in range(0, n, BATCH):
            size = min(BATCH, n - start)
            ids = self.loader.reserve_ids(LegalInstrument, size)
            lines: list[str] = []
            topic_links: list[str] = []
            source_links: list[str] = []
            claims: list[str] = []
            for k in range(size):
                i = start + k
                j = pick.one()
                level = self.jur.levels[j]
                kind = _kind_for_level(kinds.one(), level)
                year = self.years[int(len(self.years) * rng.random() ** 0.7)]
                subject = rng.choice(INSTRUMENT_SUBJECTS)
                title = INSTRUMENT_FORMS[kind].format(subject=subject, year=year)
                if level in ("subnational", "city"):
                    title = f"{self.jur.names[j]} {title}"
                short = f"{_acronym(subject + ' ' + str(kind.label))} {year}"
                if (j, short) in used:
                    base, m = short, 2
                    while (j, short) in used:
                        short = f"{base} ({m})"
                        m += 1
                used.add((j, short))
                in_from = in_to = "\\N"
                if kind != InstrumentKind.BILL and rng.random() < 0.85:
                    start_day = (dt.date(year, 1, 1) - first_day).days + int(rng.random() * 700)
                    start_day = min(start_day, len(self.days) - 1)
                    in_from = self.days[start_day]
                    if rng.random() < 0.15:
                        end_day = start_day + int(rng.random() * (len(self.days) - 1 - start_day))
                        in_to = self.days[end_day]
                sources = self.pick_sources(rng, 1, 2)
                slug = f"{SLUG_PREFIX}law-{_slugpart(title, 70)}-{i}"
                created, updated = self.stamp_pair(rng)
                lines.append(
                    "\t".join(
                        [
                            str(ids[k]),
                            *self.record_values(rng, slug, self.status_for(sources), created),
                            short,
                            title,
                            str(self.jur.ids[j]),
                            kind.value,
                            str(year),
                            in_from,
                            in_to,
                            self.text.body(),
                            f"https://law.{URL_HOST}/{slug}",
                            created,
                            updated,
                        ]
                    )
                )
                for t in sorted(rng.sample(range(len(self.topic_ids)), rng.randint(1, 3))):
                    topic_links.append(f"{ids[k]}\t{self.topic_ids[t]}")
                source_links.extend(f"{ids[k]}\t{self.source_ids[s]}" for s in sources)
                claims.append(
                    "\t".join(
                        [
                            str(ids[k]),
                            "year",
                            str(year),
                            str(self.source_ids[sources[0]]),
                            rng.choice(LOCATORS).format(n=rng.randint(1, 60)),
                            f"Adopted in {year}.",
                            "",
                            created,
                        ]
                    )
                )
                self.instruments_by_jur.setdefault(j, []).append(ids[k])
            self.instrument_ids.extend(ids)
            self.loader.copy(LegalInstrument._meta.db_table, columns, lines)
            self.loader.copy(topics_table, [t_owner, t_target], topic_links)
            self.loader.copy(sources_table, [s_owner, s_target], source_links)
            self.loader.copy(Claim._meta.db_table, claim_columns, claims)
            self.count(LegalInstrument, size)
            self.count(f"{LegalInstrument._meta.label}.topics", len(topic_links))
            self.count(f"{LegalInstrument._meta.label}.sources", len(source_links))
            self.count(Claim, len(claims))
            bar.update(size)
        bar.close()

    def load_oversight_bodies(self) -> None:
        rng = self.rng("oversight bodies")
        n = self.plan.oversight_bodies
        pick = self.jurisdiction_picker(
            rng, {"international": 0.01, "supranational": 0.03, "national": 0.4, "subnational": 0.3, "city": 0.26}
        )
        inst_table, i_owner, i_target = _through(OversightBody, "instruments")
        sources_table, s_owner, s_target = _through(OversightBody, "sources")
        columns = [*RECORD_COLUMNS, "name", "kind", "jurisdiction_id", "powers", "website", "created_at"]
        columns.append("updated_at")
        used: set[tuple[int, str]] = set()
        bar = self.loader.bar("oversight bodies", n)
        for start in range(0, n, BATCH):
            size = min(BATCH, n - start)
            ids = self.loader.reserve_ids(OversightBody, size)
            lines: list[str] = []
            inst_links: list[str] = []
            source_links: list[str] = []
            for k in range(size):
                i = start + k
                j = pick.one()
                kind, form = rng.choice(OVERSIGHT_FORMS)
                name = form.format(place=self.jur.names[j])
                if (j, name) in used:
                    base, m = name, 2
                    while (j, name) in used:
                        name = f"{base} ({m})"
                        m += 1
                used.add((j, name))
                sources = self.pick_sources(rng, 1, 2)
                slug = f"{SLUG_PREFIX}body-{_slugpart(name, 70)}-{i}"
                created, updated = self.stamp_pair(rng)
                lines.append(
                    "\t".join(
                        [
                            str(ids[k]),
                            *self.record_values(rng, slug, self.status_for(sources), created),
                            name,
                            kind,
                            str(self.jur.ids[j]),
                            self.text.short(300, 1000),
                            f"https://{_slugpart(name, 40)}.{URL_HOST}/" if rng.random() < 0.8 else "",
                            created,
                            updated,
                        ]
                    )
                )
                local = self.instruments_by_jur.get(j) or self.instrument_ids
                for inst in sorted(set(rng.choices(local, k=rng.randint(1, 3)))):
                    inst_links.append(f"{ids[k]}\t{inst}")
                source_links.extend(f"{ids[k]}\t{self.source_ids[s]}" for s in sources)
            self.loader.copy(OversightBody._meta.db_table, columns, lines)
            self.loader.copy(inst_table, [i_owner, i_target], inst_links)
            self.loader.copy(sources_table, [s_owner, s_target], source_links)
            self.count(OversightBody, size)
            self.count(f"{OversightBody._meta.label}.instruments", len(inst_links))
            self.count(f"{OversightBody._meta.label}.sources", len(source_links))
            bar.update(size)
        bar.close()

    def load_partnerships(self) -> None:
        rng = self.rng("partnerships")
        n = self.plan.partnerships
        pick = self.jurisdiction_picker(rng, {"city": 0.6, "subnational": 0.25, "national": 0.15})
        statuses = _Pick(rng, PartnershipStatus.values, [60, 20, 20])
        formalisations = _Pick(
            rng,
            [
                Formalisation.MOU.value,
                Formalisation.CONTRACT.value,
                Formalisation.TASK_FORCE.value,
                Formalisation.INFORMAL.value,
                Formalisation.UNKNOWN.value,
            ],
            [35, 15, 15, 20, 15],
        )
        sharing = _Pick(
            rng,
            [
                DataSharing.NONE.value,
                DataSharing.REFERRALS.value,
                DataSharing.CASE_LEVEL.value,
                DataSharing.SHARED_DATABASE.value,
                DataSharing.REAL_TIME.value,
                DataSharing.UNKNOWN.value,
            ],
            [15, 30, 20, 10, 5, 20],
        )
        focus_pick = _Pick(rng, range(len(self.focus_ids)), [30, 20, 18, 12, 8, 5, 4, 3][: len(self.focus_ids)])
        assessment_status = _Pick(rng, AssessmentStatus.values, [35, 40, 25])
        tables = {
            name: _through(Partnership, name)
            for name in ("ngos", "police_departments", "focus_areas", "surveillance_practices", "sources")
        }
        columns = [*RECORD_COLUMNS, "name", "focus_summary", "primary_objective", "description"]
        columns += ["year_established", "year_ended", "status", "formalisation", "data_sharing", "jurisdiction_id"]
        columns += ["region_id", "created_at", "updated_at"]
        claim_columns = ["partnership_id", "field", "value", "source_id", "locator", "quote", "note", "created_at"]
        assessment_columns = ["partnership_id", "mechanism_id", "status", "evidence_id", "note", "updated_at"]
        other_claim_fields = ["name", "status", "formalisation", "data_sharing", "focus_summary", "primary_objective"]
        n_years = len(self.years)
        bar = self.loader.bar("partnerships", n)
        for start in range(0, n, BATCH):
            size = min(BATCH, n - start)
            ids = self.loader.reserve_ids(Partnership, size)
            lines, claims, assessments = [], [], []
            links: dict[str, list[str]] = {name: [] for name in tables}
            for k in range(size):
                i = start + k
                pid = ids[k]
                j = pick.one()
                ci = self.jur.country[j]
                # About one of each: most partnerships join one NGO and one police force on one focus area.
                ngo_count = 1 if rng.random() < 0.9 else 2
                ngos = _local_choice(rng, self.ngo_by_country.get(ci), len(self.ngo_ids), ngo_count)
                police_count = 1 if rng.random() < 0.95 else 2
                police = _local_choice(rng, self.police_by_country.get(ci), len(self.police_ids), police_count)
                focus = sorted({focus_pick.one() for _ in range(rng.choice((1, 1, 1, 2)))})
                practices = sorted(
                    {int(rng.random() * len(self.practice_ids)) for _ in range(rng.choice((0, 0, 0, 1, 1, 2)))}
                )
                disputed = rng.random() < DISPUTED_SHARE
                sources = self.pick_sources(rng, 2 if disputed else 1, 3)
                # Named like the seed ("Safe Horizon & NYPD"), kept to 80 characters where the names allow.
                ngo_label = self.ngo_names[ngos[0]]
                police_label = self.police_aliases[police[0]]
                if len(ngo_label) + len(police_label) > 77:
                    ngo_label = self.ngo_aliases[ngos[0]]
                    if len(ngo_label) + len(police_label) > 77:
                        ngo_label = _acronym(ngo_label)
                name = f"{ngo_label} & {police_label}"
                if rng.random() < 0.25:
                    programme = rng.choice(PROGRAMMES)
                    if len(name) + len(programme) < 80:
                        name = f"{name} {programme}"
                focus_summary = f"{self.focus_names[focus[0]]} {rng.choice(FOCUS_PHRASES)}"
                objective = (
                    f"{rng.choice(OBJECTIVE_VERBS)} {rng.choice(OBJECTIVE_OBJECTS)}{rng.choice(OBJECTIVE_GROUPS)}"
                )
                status = statuses.one()
                year: int | None = self.years[int(n_years * rng.random() ** 0.6)]
                if not disputed and rng.random() < 0.02:
                    year = None
                year_ended: int | None = None
                if status == PartnershipStatus.ENDED and year is not None and rng.random() < 0.8:
                    year_ended = rng.randint(year, self.this_year)
                formalisation, data_sharing = formalisations.one(), sharing.one()
                created, updated = self.stamp_pair(rng)
                # Claims: the founding year from one source (two disagreeing sources when disputed), plus one
                # more field from one of the partnership's sources.
                claim_sources = list(sources)
                note = ""
                if year is not None:
                    claims.append(
                        _claim_line(
                            rng,
                            pid,
                            "year_established",
                            str(year),
                            self.source_ids[sources[0]],
                            f"The partnership was established in {year}.",
                            created,
                        )
                    )
                if disputed and year is not None:
                    other = year + rng.choice((-1, 1)) * rng.randint(1, 15)
                    other = min(self.this_year, max(EARLIEST_YEAR, other))
                    if other == year:
                        other = year - 1 if year > EARLIEST_YEAR else year + 1
                    claims.append(
                        _claim_line(
                            rng,
                            pid,
                            "year_established",
                            str(other),
                            self.source_ids[sources[1]],
                            f"The partnership began in {other}.",
                            created,
                        )
                    )
                    note = (
                        f"Sources disagree on the year the partnership was established ({min(year, other)} or "
                        f"{max(year, other)}); the editors show {year} until a primary source settles it."
                    )
                    if year_ended is not None and year_ended < year:
                        year_ended = year
                field_name = rng.choice(other_claim_fields)
                value = {
                    "name": name,
                    "status": status,
                    "formalisation": formalisation,
                    "data_sharing": data_sharing,
                    "focus_summary": focus_summary,
                    "primary_objective": objective,
                }[field_name]
                claims.append(
                    _claim_line(
                        rng,
                        pid,
                        field_name,
                        value,
                        self.source_ids[rng.choice(claim_sources)],
                        self.text.sentence(),
                        created,
                    )
                )
                verification = VerificationStatus.DISPUTED if disputed else self.status_for(claim_sources)
                lines.append(
                    "\t".join(
                        [
                            str(pid),
                            *self.record_values(
                                rng, f"{SLUG_PREFIX}{_slugpart(name, 80)}-{i}", verification, created, note
                            ),
                            name,
                            focus_summary,
                            objective,
                            self.text.body(),
                            str(year) if year is not None else "\\N",
                            str(year_ended) if year_ended is not None else "\\N",
                            status,
                            formalisation,
                            data_sharing,
                            str(self.jur.ids[j]),
                            str(self.countries.region_ids[ci]),
                            created,
                            updated,
                        ]
                    )
                )
                links["ngos"].extend(f"{pid}\t{self.ngo_ids[x]}" for x in ngos)
                links["police_departments"].extend(f"{pid}\t{self.police_ids[x]}" for x in police)
                links["focus_areas"].extend(f"{pid}\t{self.focus_ids[x]}" for x in focus)
                links["surveillance_practices"].extend(f"{pid}\t{self.practice_ids[x]}" for x in practices)
                links["sources"].extend(f"{pid}\t{self.source_ids[x]}" for x in sources)
                if rng.random() < ASSESSED_SHARE:
                    mechanisms = sorted(rng.sample(range(len(self.mechanism_ids)), rng.randint(3, 7)))
                    for m in mechanisms:
                        a_status = assessment_status.one()
                        evidence = "\\N"
                        a_note = ""
                        if a_status != AssessmentStatus.UNKNOWN:
                            evidence = str(self.source_ids[rng.choice(sources)])
                            a_note = self.text.sentence()
                        assessments.append(
                            f"{pid}\t{self.mechanism_ids[m]}\t{a_status}\t{evidence}\t{a_note}\t{updated}"
                        )
                self.partnership_ids.append(pid)
                self.partnership_jur.append(j)
                self.partnership_year.append(year or 0)
            self.loader.copy(Partnership._meta.db_table, columns, lines)
            for name, (table, owner, target) in tables.items():
                self.loader.copy(table, [owner, target], links[name])
                self.count(f"{Partnership._meta.label}.{name}", len(links[name]))
            self.loader.copy(Claim._meta.db_table, claim_columns, claims)
            self.loader.copy(MechanismAssessment._meta.db_table, assessment_columns, assessments)
            self.count(Partnership, size)
            self.count(Claim, len(claims))
            self.count(MechanismAssessment, len(assessments))
            bar.update(size)
        bar.close()

    def load_cases(self) -> None:
        rng = self.rng("overreach cases")
        n = self.plan.overreach_cases
        tables = {
            name: _through(OverreachCase, name)
            for name in ("partnerships", "surveillance_methods", "issues", "sources")
        }
        columns = [*RECORD_COLUMNS, "title", "location", "jurisdiction_id", "year", "partnership_type", "found_by"]
        columns += ["found_by_kind", "summary", "outcome", "created_at", "updated_at"]
        claim_columns = ["overreach_case_id", "field", "value", "source_id", "locator", "quote", "note", "created_at"]
        quote_columns = ["case_id", "text", "speaker", "source_id", "position"]
        partnership_types = ["NGO & Police", "NGO & Law Enforcement", "Shelter & Police", "Helpline & Police"]
        bar = self.loader.bar("overreach cases", n)
        total = len(self.partnership_ids)
        for start in range(0, n, BATCH):
            size = min(BATCH, n - start)
            ids = self.loader.reserve_ids(OverreachCase, size)
            lines, claims, quotes = [], [], []
            links: dict[str, list[str]] = {name: [] for name in tables}
            for k in range(size):
                i = start + k
                cid = ids[k]
                involved = sorted({int(rng.random() * total) for _ in range(rng.choice((1, 1, 1, 2)))})
                j = self.partnership_jur[involved[0]]
                founded = max([self.partnership_year[p] for p in involved] + [EARLIEST_YEAR])
                year = rng.randint(founded, self.this_year)
                practices = sorted({int(rng.random() * len(self.practice_ids)) for _ in range(rng.randint(1, 2))})
                issues = sorted({int(rng.random() * len(self.issue_ids)) for _ in range(rng.randint(1, 2))})
                title = rng.choice(CASE_TITLES).format(
                    practice=self.practice_names[practices[0]],
                    focus=rng.choice(FOCUS_AREAS).lower(),
                    place=self.jur.names[j],
                )
                title = title[0].upper() + title[1:]
                found_kind, found_by = rng.choice(FINDERS)
                sources = self.pick_sources(rng, 1, 2)
                created, updated = self.stamp_pair(rng)
                lines.append(
                    "\t".join(
                        [
                            str(cid),
                            *self.record_values(
                                rng, f"{SLUG_PREFIX}case-{_slugpart(title, 80)}-{i}", self.status_for(sources), created
                            ),
                            title,
                            self.jur.place[j][:200],
                            str(self.jur.ids[j]),
                            str(year),
                            rng.choice(partnership_types),
                            found_by,
                            found_kind,
                            self.text.body(),
                            self.text.short(200, 1000),
                            created,
                            updated,
                        ]
                    )
                )
                claims.append(
                    "\t".join(
                        [
                            str(cid),
                            "year",
                            str(year),
                            str(self.source_ids[sources[0]]),
                            rng.choice(LOCATORS).format(n=rng.randint(1, 40)),
                            f"It happened in {year}.",
                            "",
                            created,
                        ]
                    )
                )
                links["partnerships"].extend(f"{cid}\t{self.partnership_ids[p]}" for p in involved)
                links["surveillance_methods"].extend(f"{cid}\t{self.practice_ids[x]}" for x in practices)
                links["issues"].extend(f"{cid}\t{self.issue_ids[x]}" for x in issues)
                links["sources"].extend(f"{cid}\t{self.source_ids[x]}" for x in sources)
                texts = {self.text.sentence() for _ in range(rng.choice((0, 1, 1, 2)))}
                for position, text in enumerate(sorted(texts)):
                    quotes.append(
                        f"{cid}\t{text}\t{rng.choice(SPEAKERS)}\t{self.source_ids[rng.choice(sources)]}\t{position}"
                    )
            self.loader.copy(OverreachCase._meta.db_table, columns, lines)
            for name, (table, owner, target) in tables.items():
                self.loader.copy(table, [owner, target], links[name])
                self.count(f"{OverreachCase._meta.label}.{name}", len(links[name]))
            self.loader.copy(Claim._meta.db_table, claim_columns, claims)
            self.loader.copy(CaseQuote._meta.db_table, quote_columns, quotes)
            self.count(OverreachCase, size)
            self.count(Claim, len(claims))
            self.count(CaseQuote, len(quotes))
            bar.update(size)
        bar.close()


def _kind_for_level(kind: InstrumentKind, level: str) -> InstrumentKind:
    """Treaties and directives above the nation, statutes and bills at or below it."""
    if level == JurisdictionLevel.INTERNATIONAL:
        return (
            kind
            if kind in (InstrumentKind.TREATY, InstrumentKind.REPORT, InstrumentKind.GUIDANCE)
            else (InstrumentKind.TREATY)
        )
    if level == JurisdictionLevel.SUPRANATIONAL:
        return {InstrumentKind.STATUTE: InstrumentKind.DIRECTIVE, InstrumentKind.BILL: InstrumentKind.REGULATION}.get(
            kind, kind
        )
    return {InstrumentKind.TREATY: InstrumentKind.STATUTE, InstrumentKind.DIRECTIVE: InstrumentKind.REGULATION}.get(
        kind, kind
    )


def _claim_line(
    rng: random.Random, pid: int, field_name: str, value: str, source_id: int, quote: str, created: str
) -> str:
    locator = rng.choice(LOCATORS).format(n=rng.randint(1, 80))
    return f"{pid}\t{field_name}\t{value}\t{source_id}\t{locator}\t{quote}\t\t{created}"


def _local_choice(rng: random.Random, local: list[int] | None, total: int, count: int) -> list[int]:
    """Mostly organisations from the same country, sometimes from anywhere (cross-border partnerships)."""
    chosen: list[int] = []
    for _ in range(count):
        x = local[int(rng.random() * len(local))] if local and rng.random() < 0.9 else int(rng.random() * total)
        if x not in chosen:
            chosen.append(x)
    return chosen


def _country_order(rng: random.Random) -> list[tuple[str, str]]:
    """(code, region) for every country the generator knows, the seed's countries first, the rest shuffled."""
    region_of = {code: region for region, codes in REGION_COUNTRIES.items() for code in codes.split()}
    known = {c.code for c in iso_countries}
    rest = sorted(code for code in region_of if code in known and code not in FIRST_COUNTRIES)
    rng.shuffle(rest)
    return [(code, region_of[code]) for code in [*FIRST_COUNTRIES, *rest]]


def _taxonomy_row(model: type[Any], name: str, aliases: Sequence[str] = ()) -> Any:
    """A reference row found by slug, then by name (case-insensitive), then by alias slugs; created if missing."""
    slug = slugify(name)
    row = (
        model.objects.filter(slug=slug).first()
        or model.objects.filter(name__iexact=name).first()
        or model.objects.filter(slug__in=aliases).order_by("slug").first()
    )
    return row or model.objects.create(slug=slug, name=name)


def _record_taxonomy_row(model: type[Any], slug: str, name: str, values: dict[str, Any]) -> Any:
    """Like ``_taxonomy_row`` for reference tables that are public records (practices, mechanisms)."""
    row = model.objects.filter(slug=slug).first() or model.objects.filter(name__iexact=name).first()
    return row or model.objects.create(slug=slug, name=name, is_published=True, **values)


def _country_create(code: str, region_id: int) -> Country:
    name = COUNTRY_NAMES.get(code) or str(dict(iso_countries)[code])
    slug = slugify(name)
    if Country.objects.filter(Q(slug=slug) | Q(name=name)).exists():
        name, slug = f"{name} ({code})", f"{slug}-{code.lower()}"
    return Country.objects.create(code=code, name=name, slug=slug, region_id=region_id)


# --- Counting and deleting synthetic data ----------------------------------------------------------------------
def _record_models() -> list[type[PublicRecord]]:
    """Synthetic-capable models in delete order (records that refer to others first)."""
    first: list[type[PublicRecord]] = [
        OverreachCase,
        Partnership,
        OversightBody,
        LegalInstrument,
        NGO,
        PoliceDepartment,
    ]
    from django.apps import apps

    rest = [m for m in apps.get_models() if issubclass(m, PublicRecord) and m not in first]
    return [*first, *sorted(rest, key=lambda m: m._meta.label)]


# The synthetic jurisdiction tree: the synthetic root and everything below it whose slug is a synthetic one.
# Parameters: the root's slug, the LIKE pattern of synthetic slugs.
_SYNTHETIC_JURISDICTIONS_SQL = f"""
    WITH RECURSIVE tree(id) AS (
        SELECT id FROM {Jurisdiction._meta.db_table} WHERE slug = %s
        UNION ALL
        SELECT j.id FROM {Jurisdiction._meta.db_table} j JOIN tree ON j.parent_id = tree.id
    )
    SELECT id FROM tree WHERE id IN (SELECT id FROM {Jurisdiction._meta.db_table} WHERE slug LIKE %s)
"""
_SYNTHETIC_JURISDICTIONS_PARAMS = [ROOT_SLUG, f"{SLUG_PREFIX}%"]


def synthetic_data_counts() -> dict[str, int]:
    """How many synthetic rows of each kind the database holds (only kinds with at least one)."""
    counts: dict[str, int] = {}
    models_: list[type[models.Model]] = [*_record_models(), Source]
    for model in models_:
        found = model.objects.filter(is_synthetic=True).count()  # type: ignore[attr-defined]
        if found:
            counts[model._meta.label] = found
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({_SYNTHETIC_JURISDICTIONS_SQL}) s", _SYNTHETIC_JURISDICTIONS_PARAMS)
        (jurisdictions,) = cursor.fetchone()
    if jurisdictions:
        counts[Jurisdiction._meta.label] = jurisdictions
    return counts


def _delete_all(loader: _Loader, report: SyntheticReport) -> None:
    """Delete every synthetic row, dependants first. Only rows marked synthetic (or hanging off them: their
    claims, assessments, quotes and links) are deleted; if a real row refers to one, the database refuses."""
    qn = connection.ops.quote_name
    record_models = _record_models()

    def run(label: str, table: str, where: str, params: Sequence[str] | None = None) -> None:
        started = time.perf_counter()
        deleted = loader.delete(table, f"DELETE FROM {qn(table)} WHERE {where}", params)
        loader.table_seconds[table] = loader.table_seconds.get(table, 0.0) + time.perf_counter() - started
        if deleted:
            report.deleted[label] = report.deleted.get(label, 0) + deleted

    def synthetic(model: type[models.Model]) -> str:
        return f"IN (SELECT id FROM {qn(model._meta.db_table)} WHERE is_synthetic)"

    bar = loader.bar("delete previous", len(record_models) * 3 + 4)
    run(CaseQuote._meta.label, CaseQuote._meta.db_table, f"case_id {synthetic(OverreachCase)}")
    bar.update(1)
    for model in record_models:
        target = getattr(model, "claim_target", "")
        if target:
            run(Claim._meta.label, Claim._meta.db_table, f"{target}_id {synthetic(model)}")
        bar.update(1)
    run(
        MechanismAssessment._meta.label,
        MechanismAssessment._meta.db_table,
        f"partnership_id {synthetic(Partnership)}",
    )
    bar.update(1)
    for model in record_models:
        for m2m in model._meta.many_to_many:
            table, owner, _target = _through(model, m2m.name)
            run(f"{model._meta.label}.{m2m.name}", table, f"{owner} {synthetic(model)}")
        bar.update(1)
    deletable: list[type[models.Model]] = [*record_models, Source]
    for record_model in deletable:
        run(record_model._meta.label, record_model._meta.db_table, "is_synthetic")
        bar.update(1)
    run(
        Jurisdiction._meta.label,
        Jurisdiction._meta.db_table,
        f"id IN ({_SYNTHETIC_JURISDICTIONS_SQL})",
        _SYNTHETIC_JURISDICTIONS_PARAMS,
    )
    bar.update(2)
    bar.close()


@contextmanager
def _bulk_transaction() -> Iterator[_Loader]:
    """One transaction; foreign keys checked per statement (not all at commit), history triggers ignored."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        yield _Loader(cursor, progress=False)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's default, for what follows in the transaction


# From this many partnerships on, the load drops the secondary indexes of the tables it writes and builds them again
# afterwards (``_secondary_indexes_deferred``): one sorted build beats a million GIN and trigram insertions.
DEFER_INDEXES_FROM = 250_000


def _bulk_tables() -> list[str]:
    """Every table a load writes: the bulk models' and their many-to-many links'."""
    tables = set()
    for model in BULK_MODELS:
        tables.add(model._meta.db_table)
        for m2m in model._meta.many_to_many:
            tables.add(m2m.remote_field.through._meta.db_table)  # type: ignore[union-attr]
    return sorted(tables)


@contextmanager
def _secondary_indexes_deferred(loader: _Loader, report: SyntheticReport) -> Iterator[None]:
    """Drop the indexes of the bulk tables that no constraint uses (the primary keys and the unique ones stay, so
    every constraint is still checked row by row), run the block, then create them again from their own
    definitions (``pg_get_indexdef``), in the same transaction: if anything fails, the rollback brings every
    index back as it was. The tables are locked against readers for the load (``DROP INDEX``)."""
    cursor = loader.cursor
    cursor.execute(
        """
        SELECT index_class.relname, pg_get_indexdef(i.indexrelid)
          FROM pg_index i
          JOIN pg_class table_class ON table_class.oid = i.indrelid
          JOIN pg_class index_class ON index_class.oid = i.indexrelid
         WHERE table_class.relname = ANY(%s) AND table_class.relnamespace = 'public'::regnamespace
           AND NOT i.indisunique AND NOT i.indisprimary
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
         ORDER BY table_class.relname, index_class.relname
        """,
        [_bulk_tables()],
    )
    indexes: list[tuple[str, str]] = cursor.fetchall()
    started = time.perf_counter()
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    report.seconds["drop indexes"] = time.perf_counter() - started
    yield
    started = time.perf_counter()
    # More memory for the sorts of the builds (this transaction only).
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for _, definition in tqdm(indexes, desc=f"{'indexes':<22}", unit="index", disable=not loader.progress):
        cursor.execute(definition)
    report.seconds["build indexes"] = time.perf_counter() - started


def synthetic_data_generate(
    *,
    partnerships: int,
    seed: int,
    replace: bool = False,
    progress: bool = True,
    defer_indexes: bool | None = None,
) -> SyntheticReport:
    """Load a synthetic data set (see the module docstring). Raises ``SyntheticDataExists`` if one is loaded and
    ``replace`` is false, and ``SyntheticDataInUse`` if real records refer to the synthetic rows to replace.
    ``defer_indexes``: build the secondary indexes after the rows instead of during (default: from
    ``DEFER_INDEXES_FROM`` partnerships on)."""
    if not 0 <= partnerships <= MAX_PARTNERSHIPS:
        raise ValueError(f"partnerships must be between 0 and {MAX_PARTNERSHIPS:,}.")
    plan = synthetic_plan(partnerships=partnerships)
    report = SyntheticReport()
    with (
        command_context("generate_synthetic", partnerships=partnerships, seed=seed, replace=replace),
        pghistory.context() as history_context,
        _bulk_transaction() as loader,
    ):
        loader.progress = progress
        # One load at a time: a second run waits here, then finds the first one's data.
        loader.cursor.execute("SELECT pg_advisory_xact_lock(hashtext('registry.generate_synthetic'))")
        existing = synthetic_data_counts()
        if existing and not replace:
            raise SyntheticDataExists(existing)
        if existing:
            started = time.perf_counter()
            try:
                with transaction.atomic():
                    _delete_all(loader, report)
            except IntegrityError as error:
                raise SyntheticDataInUse(str(error)) from error
            report.seconds["delete previous"] = time.perf_counter() - started
        if plan.partnerships:
            if defer_indexes is None:
                defer_indexes = plan.partnerships >= DEFER_INDEXES_FROM
            with _secondary_indexes_deferred(loader, report) if defer_indexes else nullcontext():
                _Generator(plan=plan, seed=seed, loader=loader, report=report).run()
        report.table_seconds = dict(sorted(loader.table_seconds.items(), key=lambda item: -item[1]))
        if report.rows or report.deleted:
            # The one history record of the load: the synthetic rows themselves write no events.
            Context.objects.update_or_create(
                id=history_context.id,
                defaults={
                    "metadata": {
                        **history_context.metadata,
                        "synthetic": True,
                        "rows": report.rows,
                        "deleted": report.deleted,
                    }
                },
            )
    if report.rows or report.deleted:
        started = time.perf_counter()
        synthetic_data_analyze()
        report.seconds["analyze"] = time.perf_counter() - started
    return report


def synthetic_data_analyze() -> None:
    """Refresh the planner's statistics for every table a load writes."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in _bulk_tables()))


class SyntheticDataExists(Exception):
    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        summary = ", ".join(f"{n:,} {label}" for label, n in counts.items())
        super().__init__(f"Synthetic data is already loaded ({summary}). Run again with --replace to delete it first.")


class SyntheticDataInUse(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(
            "The previous synthetic data cannot be deleted because real records still refer to it; nothing was "
            f"changed. Remove those references first. Database said: {detail}"
        )
