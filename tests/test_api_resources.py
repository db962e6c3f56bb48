"""What every read-only resource of the API shares: unpublished records are absent and 404, list query
counts do not grow with the page size, unknown filters are refused, every model field has a filter or a
written reason not to, and every public record has a change history without personal data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pghistory
import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from cases.filters import OverreachCaseFilter
from geography.filters import JurisdictionFilter
from legal.filters import LegalInstrumentFilter, OversightBodyFilter
from partnerships.filters import (
    AccountabilityMechanismFilter,
    ChallengeFilter,
    NGOFilter,
    ObjectiveFilter,
    PoliceDepartmentFilter,
    StakeholderGroupFilter,
    SurveillancePracticeFilter,
)
from provenance.filters import SourceFilter
from provenance.services import claim_add
from tests import factories

pytestmark = pytest.mark.django_db


def with_provenance(record: Any, n: int, field: str | None) -> Any:
    record.sources.set([factories.SourceFactory() for _ in range(n)])
    if field:
        for i in range(n):
            claim_add(record=record, field=field, value=f"value {i}", source=factories.SourceFactory())
    return record


def rich_ngo(n: int) -> Any:
    ngo = with_provenance(factories.NGOFactory(), n, "name")
    for _ in range(n):
        factories.PartnershipFactory(ngos=[ngo])
    return ngo


def rich_police(n: int) -> Any:
    police = with_provenance(factories.PoliceDepartmentFactory(), n, "name")
    for _ in range(n):
        factories.PartnershipFactory(police_departments=[police])
    return police


def rich_instrument(n: int) -> Any:
    instrument = with_provenance(factories.LegalInstrumentFactory(), n, "year")
    instrument.topics.set([factories.LegalTopicFactory() for _ in range(n)])
    for _ in range(n):
        factories.OversightBodyFactory().instruments.add(instrument)
    return instrument


def rich_body(n: int) -> Any:
    body = with_provenance(factories.OversightBodyFactory(), n, "powers")
    body.instruments.set([factories.LegalInstrumentFactory() for _ in range(n)])
    return body


def rich_case(n: int) -> Any:
    case = with_provenance(factories.OverreachCaseFactory(), n, "year")
    case.partnerships.set([factories.PartnershipFactory() for _ in range(n)])
    case.surveillance_methods.set([factories.SurveillancePracticeFactory() for _ in range(n)])
    case.issues.set([factories.IssueTypeFactory() for _ in range(n)])
    for _ in range(n):
        factories.CaseQuoteFactory(case=case)
    return case


def rich_jurisdiction(n: int) -> Any:
    jurisdiction = factories.JurisdictionFactory()
    for _ in range(n):
        factories.JurisdictionFactory(parent=jurisdiction, country=jurisdiction.country)
    return jurisdiction


# resource -> (factory of one record with n of every related row, whether it is a PublicRecord)
RESOURCES: dict[str, tuple[Callable[[int], Any], bool]] = {
    "jurisdictions": (rich_jurisdiction, False),
    "ngos": (rich_ngo, True),
    "police-departments": (rich_police, True),
    "surveillance-practices": (lambda n: with_provenance(factories.SurveillancePracticeFactory(), n, "concerns"), True),
    "accountability-mechanisms": (lambda n: with_provenance(factories.AccountabilityMechanismFactory(), n, None), True),
    "legal-instruments": (rich_instrument, True),
    "oversight-bodies": (rich_body, True),
    "cases": (rich_case, True),
    "sources": (lambda n: factories.SourceFactory(), False),
    "objectives": (lambda n: with_provenance(factories.ObjectiveFactory(), n, None), True),
    "challenges": (lambda n: with_provenance(factories.ChallengeFactory(), n, None), True),
    "stakeholder-groups": (lambda n: with_provenance(factories.StakeholderGroupFactory(), n, None), True),
}
PUBLIC_RECORD_RESOURCES = [name for name, (_, public_record) in RESOURCES.items() if public_record]


def count_queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.mark.parametrize("resource", RESOURCES)
def test_list_query_count_does_not_grow_with_page_size(anon_client, resource: str) -> None:
    make, _ = RESOURCES[resource]
    for _ in range(7):
        make(3)
    url = f"/api/v1/{resource}/"
    small = count_queries(anon_client, f"{url}?page_size=5")
    assert small == count_queries(anon_client, f"{url}?page_size=50")
    assert len(anon_client.get(f"{url}?page_size=5").json()["results"]) == 5


@pytest.mark.parametrize("resource", RESOURCES)
def test_detail_query_count_does_not_grow_with_related_rows(anon_client, resource: str) -> None:
    make, _ = RESOURCES[resource]
    few, many = make(1), make(4)
    url = f"/api/v1/{resource}/"
    assert count_queries(anon_client, f"{url}{few.slug}/") == count_queries(anon_client, f"{url}{many.slug}/")


@pytest.mark.parametrize("resource", PUBLIC_RECORD_RESOURCES)
def test_unpublished_records_are_absent_and_404(anon_client, resource: str) -> None:
    make, _ = RESOURCES[resource]
    shown, hidden = make(1), make(1)
    type(hidden).objects.filter(pk=hidden.pk).update(is_published=False)
    url = f"/api/v1/{resource}/"
    listed = [row["slug"] for row in anon_client.get(url).json()["results"]]
    assert shown.slug in listed
    assert hidden.slug not in listed
    for address in (f"{url}{hidden.slug}/", f"{url}{hidden.slug}/history/"):
        response = anon_client.get(address)
        assert response.status_code == 404
        assert response.json() == {"errors": [{"code": "not_found", "detail": "Not found.", "attr": None}]}


@pytest.mark.parametrize("resource", RESOURCES)
def test_unknown_filter_is_refused(anon_client, resource: str) -> None:
    response = anon_client.get(f"/api/v1/{resource}/?colour=red")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["code"], error["attr"]) == ("unknown_parameter", "colour")


@pytest.mark.parametrize("resource", PUBLIC_RECORD_RESOURCES)
def test_common_record_filters(anon_client, resource: str) -> None:
    make, _ = RESOURCES[resource]
    verified, synthetic = make(1), make(1)
    type(verified).objects.filter(pk=verified.pk).update(verification_status="verified")
    type(synthetic).objects.filter(pk=synthetic.pk).update(is_synthetic=True)
    source = verified.sources.first()
    url = f"/api/v1/{resource}/"

    def slugs(query: str) -> set[str]:
        response = anon_client.get(f"{url}?{query}")
        assert response.status_code == 200, response.content
        return {row["slug"] for row in response.json()["results"]}

    assert slugs("verification_status=verified") == {verified.slug}
    assert slugs("synthetic=true") == {synthetic.slug}
    assert slugs("synthetic=false") == {verified.slug}
    assert slugs(f"source={source.slug}") == {verified.slug}
    assert slugs("changed_since=2000-01-01T00:00:00Z") == {verified.slug, synthetic.slug}
    assert slugs("changed_since=2999-01-01T00:00:00Z") == set()


# --- Every model field has a filter, or a written reason not to (NetBox's test_missing_filters) ---------

# Fields no filter is offered for, and why: the address, the publication machinery, free text (found by
# search, ?q=), order in a table, and values no one lists by.
EXEMPT_EVERYWHERE = {
    "id": "internal key; records are addressed by slug",
    "slug": "the record's address: /<resource>/<slug>/",
    "is_published": "the API only ever shows published records",
    "first_published_at": "publication stamp, shown on the record",
    "editorial_note": "free text",
    "created_at": "changed_since covers what a client syncs on",
    "name": "free text, found by search",
    "description": "free text",
    "position": "the order of the table; lists follow it",
}
EXEMPT: dict[type[Any], set[str]] = {
    JurisdictionFilter: set(),
    NGOFilter: {"aliases", "website"},
    PoliceDepartmentFilter: {"aliases", "website"},
    SurveillancePracticeFilter: {"implementation", "concerns"},
    AccountabilityMechanismFilter: {"recommendation", "expected_outcome"},
    LegalInstrumentFilter: {"short_name", "title", "summary", "official_url"},
    OversightBodyFilter: {"powers", "website"},
    OverreachCaseFilter: {"title", "location", "partnership_type", "found_by", "summary", "outcome"},
    SourceFilter: {"title", "author", "url", "archived_url", "accessed_on", "note"},
    ObjectiveFilter: {"intended_benefit"},
    ChallengeFilter: {"potential_solutions"},
    StakeholderGroupFilter: {"key_concerns", "suggested_actions"},
}


@pytest.mark.parametrize("filterset", EXEMPT, ids=lambda f: f.__name__)
def test_every_model_field_has_a_filter_or_an_exemption(filterset: Any) -> None:
    model = filterset._meta.model
    fields = {f.name for f in model._meta.get_fields() if isinstance(f, models.Field) and f.concrete}
    filtered = {f.field_name for f in filterset.base_filters.values()} | set(filterset.base_filters)
    missing = fields - filtered - set(EXEMPT_EVERYWHERE) - EXEMPT[filterset]
    assert not missing, f"{filterset.__name__}: add a filter for {sorted(missing)} or exempt it with a reason."
    stale = EXEMPT[filterset] - fields
    assert not stale, f"{filterset.__name__}: exempt fields that no longer exist: {sorted(stale)}"


@pytest.mark.parametrize("filterset", EXEMPT, ids=lambda f: f.__name__)
def test_every_filter_has_a_label(filterset: Any) -> None:
    assert all(f.label for f in filterset.base_filters.values()), filterset.__name__


# --- History ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", PUBLIC_RECORD_RESOURCES)
def test_every_record_has_a_history_without_personal_data(anon_client, resource: str) -> None:
    make, _ = RESOURCES[resource]
    record = make(1)
    editor = factories.UserFactory(username="jane-reviewer", email="jane@newsroom.test")
    with pghistory.context(user=editor.pk, url="/admin/x/?token=secret-token"):
        record.editorial_note = "Checked again."
        record.save()
        record.sources.add(factories.SourceFactory())

    response = anon_client.get(f"/api/v1/{resource}/{record.slug}/history/")

    assert response.status_code == 200
    events = response.json()
    pairs = [(e["event"], e["changed_fields"]) for e in events]
    assert pairs[0] == ("update", ["editorial_note"])
    assert pairs[-1] == ("insert", [])
    assert ("add", ["sources"]) in pairs
    assert ("remove", ["sources"]) in pairs
    assert all(e.keys() == {"event", "at", "changed_fields"} for e in events)
    text = response.content.decode()
    for personal in (editor.username, editor.email, "secret-token", "/admin/", '"user"'):
        assert personal not in text


def test_history_lists_claims_and_links_added_and_removed(anon_client) -> None:
    case = factories.OverreachCaseFactory(sources=[])
    issue = factories.IssueTypeFactory()
    case.issues.add(issue)
    case.issues.remove(issue)
    claim = claim_add(record=case, field="year", value="2019", source=factories.SourceFactory())
    claim.delete()

    events = anon_client.get(f"/api/v1/cases/{case.slug}/history/").json()

    pairs = [(e["event"], e["changed_fields"]) for e in events]
    for expected in [("add", ["issues"]), ("remove", ["issues"]), ("claim_add", ["year"]), ("claim_remove", ["year"])]:
        assert pairs.count(expected) == 1, pairs
    assert pairs[-1] == ("insert", [])
