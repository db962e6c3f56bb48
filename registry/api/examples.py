"""Examples in the OpenAPI schema, from the shipped data: the partnership whose founding year the seed
document contradicts (1995 in two tables and the prose, 2018 in Table 1). Trimmed (two claims, two checklist
items, two laws); tests/test_api_schema_examples.py checks each against the schema of its response."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample

SOURCE = {
    "slug": "srinagar-insider-ngo-police-partnerships",
    "title": "NGO-Police Partnerships: Accountability when services become surveillance",
    "publisher": "Srinagar Insider",
    "url": None,
    "kind": "news",
    "tier": "secondary",
}

PARTNERSHIP: dict[str, Any] = {
    "slug": "la-strada-international-metropolitan-police",
    "name": "La Strada International & Metropolitan Police",
    "region": {"slug": "europe", "name": "Europe"},
    "jurisdiction": {"slug": "london", "name": "London", "level": "city", "country": "GB"},
    "ngos": [{"slug": "la-strada-international", "name": "La Strada International"}],
    "police_departments": [{"slug": "metropolitan-police-service", "name": "Metropolitan Police Service"}],
    "focus_areas": [{"slug": "human-trafficking", "name": "Human Trafficking"}],
    "focus_summary": "Human trafficking combat",
    "primary_objective": "Combat human trafficking",
    "description": "According to the seed, the partnership combats human trafficking through joint operations, "
    "intelligence sharing and victim support services.",
    "year_established": 1995,
    "year_ended": None,
    "status": "unknown",
    "formalisation": "unknown",
    "data_sharing": "unknown",
    "surveillance_practices": [],
    "verification_status": "disputed",
    "disputed_fields": ["year_established"],
    "dispute_resolutions": [
        {
            "field": "year_established",
            "chosen_value": "1995",
            "reason": "Tables 2 and 3 and the prose of the seed give 1995; only Table 1 gives 2018.",
            "resolved_at": "2026-11-26T09:00:00Z",
        }
    ],
    "sources": [SOURCE],
    "claims": [
        {
            "field": "year_established",
            "value": "1995",
            "source": SOURCE["slug"],
            "locator": "Table 2: historical partnerships",
            "quote": "| Europe | La Strada International & Metropolitan Police | Combat human trafficking | 1995 |",
        },
        {
            "field": "year_established",
            "value": "2018",
            "source": SOURCE["slug"],
            "locator": "Table 1: notable collaborations",
            "quote": "| Europe | La Strada International | Metropolitan Police Service, London "
            "| Human Trafficking | 2018 |",
        },
    ],
    "editorial_note": "Disputed founding year: Table 1 gives 2018; Tables 2 and 3 and the prose give 1995.",
    "is_synthetic": False,
    "first_published_at": "2026-11-25T20:03:03.378331Z",
    "created_at": "2026-11-25T20:03:13.729201Z",
    "updated_at": "2026-11-25T20:03:15.443444Z",
}

PARTNERSHIP_DETAIL: dict[str, Any] = {
    **PARTNERSHIP,
    "accountability_checklist": [
        {
            "mechanism": "data-governance-framework",
            "name": "Data governance framework",
            "status": "unknown",
            "evidence": None,
            "note": "",
        },
        {
            "mechanism": "independent-oversight",
            "name": "Independent oversight",
            "status": "unknown",
            "evidence": None,
            "note": "",
        },
    ],
    "applicable_law": [
        {
            "slug": "iccpr",
            "short_name": "ICCPR",
            "title": "International Covenant on Civil and Political Rights",
            "kind": "treaty",
            "jurisdiction": "international",
            "official_url": "https://www.ohchr.org/en/instruments-mechanisms/instruments/"
            "international-covenant-civil-and-political-rights",
        },
        {
            "slug": "uk-data-protection-act-2018",
            "short_name": "Data Protection Act 2018",
            "title": "Data Protection Act 2018",
            "kind": "statute",
            "jurisdiction": "united-kingdom",
            "official_url": "https://www.legislation.gov.uk/ukpga/2018/12/contents",
        },
    ],
}


def error(code: str, detail: str, attr: str | None = None) -> dict[str, Any]:
    return {"errors": [{"code": code, "detail": detail, "attr": attr}]}


PARTNERSHIP_LIST_EXAMPLES = [
    OpenApiExample(
        "Partnerships in Europe",
        summary="?region=europe: a page of partnerships (the count only with ?count=true)",
        value=PARTNERSHIP,
        response_only=True,
        status_codes=["200"],
    ),
    OpenApiExample(
        "An unknown filter",
        summary="?regoin=europe",
        value=error(
            "unknown_parameter", "Unknown query parameter 'regoin'. Allowed here: count, country, cursor, ...", "regoin"
        ),
        response_only=True,
        status_codes=["400"],
    ),
]

PARTNERSHIP_DETAIL_EXAMPLES = [
    OpenApiExample(
        "A disputed partnership",
        summary="Two sources give different founding years: both claims are listed",
        value=PARTNERSHIP_DETAIL,
        response_only=True,
        status_codes=["200"],
    ),
    OpenApiExample(
        "No such partnership",
        value=error("not_found", "Not found."),
        response_only=True,
        status_codes=["404"],
    ),
]
