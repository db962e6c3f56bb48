"""Every GET operation of the public API, fuzzed from its own OpenAPI schema with Schemathesis.

The schema is read from the running app (``/api/v1/schema/``) on a database holding a few published records,
each resource having one with the slug ``fuzz`` so that detail and history operations reach a real record in
part of the generated cases. Each generated request must answer no server error, only documented status codes
and content types, and a body that matches the documented schema. Generation is seeded and bounded, so a run
is repeatable and takes well under two minutes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from geography.models import JurisdictionLevel
from tests import factories

SEED = 20261125
MAX_EXAMPLES = 25
REAL_SLUG = "fuzz"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def seed_records() -> None:
    """A few published records, one per resource with the slug ``fuzz``, linked to one another."""
    source = factories.SourceFactory(slug=REAL_SLUG)
    region = factories.RegionFactory(slug=REAL_SLUG)
    country = factories.CountryFactory(slug=REAL_SLUG, region=region)
    jurisdiction = factories.JurisdictionFactory(slug=REAL_SLUG, country=country)
    focus = factories.FocusAreaFactory(slug=REAL_SLUG)
    ngo = factories.NGOFactory(slug=REAL_SLUG)
    police = factories.PoliceDepartmentFactory(slug=REAL_SLUG)
    practice = factories.SurveillancePracticeFactory(slug=REAL_SLUG)
    mechanism = factories.AccountabilityMechanismFactory(slug=REAL_SLUG)
    partnership = factories.PartnershipFactory(
        slug=REAL_SLUG,
        region=region,
        jurisdiction=jurisdiction,
        ngos=[ngo],
        police_departments=[police],
        focus_areas=[focus],
        sources=[source],
    )
    partnership.surveillance_practices.set([practice])
    factories.ClaimFactory(partnership=partnership, source=source, field="year_established", value="2001")
    factories.MechanismAssessmentFactory(partnership=partnership, mechanism=mechanism, evidence=source)
    factories.PartnershipFactory.create_batch(2)
    instrument = factories.LegalInstrumentFactory(slug=REAL_SLUG, jurisdiction=jurisdiction)
    instrument.topics.set([factories.LegalTopicFactory()])
    body = factories.OversightBodyFactory(slug=REAL_SLUG, jurisdiction=jurisdiction)
    body.instruments.set([instrument])
    case = factories.OverreachCaseFactory(slug=REAL_SLUG, jurisdiction=jurisdiction)
    case.partnerships.set([partnership])
    case.surveillance_methods.set([practice])
    case.issues.set([factories.IssueTypeFactory()])
    factories.CaseQuoteFactory(case=case, source=source)
    factories.ObjectiveFactory(slug=REAL_SLUG)
    factories.ChallengeFactory(slug=REAL_SLUG)
    factories.StakeholderGroupFactory(slug=REAL_SLUG)


def app_schema() -> dict[str, Any]:
    """The OpenAPI document the app serves at /api/v1/schema/, built as that view builds it. Built at import:
    the per-operation tests are generated from it at collection, before any database exists (a test below
    checks that it is the document actually served)."""
    schema = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    document: dict[str, Any] = json.loads(OpenApiJsonRenderer().render(schema, renderer_context={}))
    return document


def fuzz_config() -> schemathesis.Config:
    config = schemathesis.Config()
    config.update(seed=SEED, max_failures=None)
    config.projects.default.generation.update(
        max_examples=MAX_EXAMPLES, allow_x00=True, no_shrink=True, deterministic=True
    )
    return config


APP_SCHEMA = app_schema()
schema = schemathesis.openapi.from_dict(APP_SCHEMA, config=fuzz_config()).include(method="GET")
schema.app = WSGIHandler()


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """About half the detail and history requests address the seeded record, the others a generated slug."""
    if not path_parameters or "slug" not in path_parameters:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, "slug": REAL_SLUG}])


@pytest.fixture
def seeded(db: None, settings: Any) -> Iterator[None]:
    """The seeded records; no throttling (thousands of requests from one address); and, as Django's test client
    does, the connection kept open between requests (it holds the test's transaction)."""
    settings.REGISTRY_API_ANON_RATE = ""
    seed_records()
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.django_db
def test_the_fuzzed_schema_is_the_one_the_app_serves(anon_client: Any) -> None:
    response = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json() == APP_SCHEMA
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert "GET /api/v1/partnerships/{slug}/history/" in labels
    assert len(labels) == len([path for path in APP_SCHEMA["paths"].values() if "get" in path])


@schema.parametrize()
@pytest.mark.usefixtures("seeded")
def test_every_get_operation_answers_as_documented(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


# --- Regressions found by the fuzzer, kept as tests ----------------------------------------------------


def strict_call(path: str, query: dict[str, Any] | None = None) -> None:
    schema[path]["GET"].Case(query=query or {}).call_and_validate(checks=CHECKS)


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("path", ["/api/v1/jurisdictions/", "/api/v1/cases/"])
def test_a_jurisdiction_without_country_or_parent_matches_the_schema(path: str) -> None:
    european_union = factories.JurisdictionFactory(level=JurisdictionLevel.SUPRANATIONAL, country=None)
    factories.OverreachCaseFactory(jurisdiction=european_union)
    strict_call(path, {"page_size": 100})


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/ngos/",
        "/api/v1/police-departments/",
        "/api/v1/oversight-bodies/",
        "/api/v1/legal-instruments/",
        "/api/v1/sources/",
    ],
)
def test_a_blank_url_matches_the_schema(path: str) -> None:
    strict_call(path)


@pytest.mark.usefixtures("seeded")
def test_an_unknown_export_format_answers_a_documented_status() -> None:
    strict_call("/api/v1/partnerships/", {"format": "AAA"})


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("path", ["/api/v1/challenges/", "/api/v1/sources/", "/api/v1/partnerships/"])
def test_changed_since_with_a_far_utc_offset_is_not_a_server_error(path: str) -> None:
    """Found by the fuzzer: Python accepts offsets PostgreSQL refuses; the filter normalises them to UTC."""
    response = Client().get(path, {"changed_since": "1959-08-15T19:14:16-18:07"})
    assert response.status_code == 200, response.content
