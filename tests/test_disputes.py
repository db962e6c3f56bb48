"""Dispute resolution by reviewers: a reviewer compares the conflicting claims side by side in the admin, chooses
the value and says why; the record takes the value, the resolution is in the record's history (with its context)
and shown publicly beside the claims, which stay visible. Nobody without the permission can resolve, bad input
is a form error and writes nothing, and public pages and the API stay at a fixed number of queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pghistory.models import Events

from partnerships.models import Formalisation, Partnership
from provenance.models import (
    CLAIM_TARGETS,
    CLAIMABLE_FIELDS,
    MANY_TO_MANY_CLAIMABLE,
    DisputeResolution,
    VerificationStatus,
)
from provenance.services import claim_add, dispute_resolve
from tests import factories

pytestmark = pytest.mark.django_db

REVIEWER_NAME = "reviewer-canary-7f3q"


def resolve_url(record: Any) -> str:
    return reverse("admin:provenance_disputeresolution_resolve", args=[type(record).claim_target, record.pk])


def page_url(record: Partnership) -> str:
    return f"/partnerships/{record.slug}/"


def api_url(record: Partnership) -> str:
    return f"/api/v1/partnerships/{record.slug}/"


@pytest.fixture
def reviewer(db) -> Any:
    return factories.UserFactory(username=REVIEWER_NAME, is_staff=True, is_superuser=True)


@pytest.fixture
def reviewer_client(reviewer) -> Client:
    client = Client()
    client.force_login(reviewer)
    return client


@pytest.fixture
def staff_client(db) -> Client:
    """A staff editor who may change partnerships but lacks accounts.resolve_dispute."""
    user = factories.UserFactory(username="plain-editor", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="partnerships"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def disputed(db) -> Partnership:
    """Safe Horizon & NYPD: the seed dates it 2016 in one table and 2001 in two others."""
    partnership: Partnership = factories.PartnershipFactory(name="Safe Horizon & NYPD", year_established=2016)
    table_1 = factories.SourceFactory(title="Seed, Table 1", publisher="Seed")
    table_2 = factories.SourceFactory(title="Seed, Table 2", publisher="Seed", url="https://example.org/t2")
    claim_add(
        record=partnership,
        field="year_established",
        value="2016",
        source=table_1,
        locator="Table 1: notable collaborations",
        quote="| Safe Horizon | NYPD | 2016 |",
    )
    claim_add(
        record=partnership,
        field="year_established",
        value="2001",
        source=table_2,
        locator="Table 2: historical partnerships",
        quote="| Safe Horizon & NYPD | 2001 |",
    )
    partnership.refresh_from_db()
    return partnership


def state(record: models.Model) -> tuple[int, int, Any]:
    """What a refused resolution must leave untouched: resolutions, history events, the record's row."""
    fresh = type(record)._default_manager.get(pk=record.pk)
    return DisputeResolution.objects.count(), Events.objects.count(), (fresh.year_established, fresh.updated_at)


# --- The reviewer's page ---------------------------------------------------------------------------------------


def test_record_change_form_links_to_the_reviewers_page(reviewer_client, disputed) -> None:
    page = reviewer_client.get(reverse("admin:partnerships_partnership_change", args=[disputed.pk])).content.decode()
    assert "Resolve disputes" in page
    assert resolve_url(disputed) in page


def test_reviewer_sees_the_claims_side_by_side(reviewer_client, disputed) -> None:
    response = reviewer_client.get(resolve_url(disputed))
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "Year established",
        "Seed, Table 1",
        "Seed, Table 2",
        "Table 1: notable collaborations",
        "| Safe Horizon &amp; NYPD | 2001 |",
        "https://example.org/t2",
        "Secondary",
        'type="radio" name="chosen_value" value="2001"',
        'type="radio" name="chosen_value" value="2016"',
        'name="csrfmiddlewaretoken"',
    ):
        assert text in page, text


def test_reviewer_resolves_a_dispute(reviewer_client, reviewer, disputed, anon_client) -> None:
    reason = "Tables 2 and 3 and the prose give 2001; Table 1 lists the year of a later renewal."
    response = reviewer_client.post(
        resolve_url(disputed), {"field": "year_established", "chosen_value": "2001", "reason": reason}
    )
    assert response.status_code == 302
    assert response["Location"] == resolve_url(disputed)

    disputed.refresh_from_db()
    assert disputed.year_established == 2001
    resolution = DisputeResolution.objects.get()
    assert (resolution.partnership, resolution.field, resolution.chosen_value) == (disputed, "year_established", "2001")
    assert resolution.reason == reason
    assert resolution.resolved_by == reviewer
    assert resolution.chosen_claim is not None
    assert resolution.chosen_claim.value == "2001"
    # The sources still disagree: the field stays disputed, the claims stay, and the status says so.
    assert disputed.disputed_fields() == ["year_established"]
    assert disputed.verification_status == VerificationStatus.DISPUTED

    # History: the resolution and the record's change, in one context naming the resolution and its reviewer.
    resolution_event = apps.get_model("provenance", "DisputeResolutionEvent").objects.get()
    change = Events.objects.tracks(disputed).filter(pgh_label="update").order_by("-pgh_id").first()
    assert change is not None
    assert change.pgh_diff["year_established"] == [2016, 2001]
    assert change.pgh_context_id == resolution_event.pgh_context_id
    assert change.pgh_context["dispute_resolution"] == resolution.pk
    assert change.pgh_context["user"] == reviewer.pk

    # The reviewer sees the resolution on the page, with who made it (editors only).
    page = reviewer_client.get(resolve_url(disputed)).content.decode()
    assert "Resolved the dispute about year established: 2001." in page
    assert REVIEWER_NAME in page

    # The public page: the value, the reason, "the reviewers", the conflicting claims; never the reviewer.
    public = anon_client.get(page_url(disputed)).content.decode()
    assert "by the reviewers: <strong>2001</strong> &mdash; " in public
    assert "Tables 2 and 3 and the prose give 2001" in public
    assert "Seed, Table 1" in public
    assert "Seed, Table 2" in public
    assert "sources disagree" in public
    assert "Dispute resolved by the reviewers" in public  # the record's history
    assert REVIEWER_NAME not in public

    # The API: the resolution without any user, and the history entry.
    data = anon_client.get(api_url(disputed)).json()
    assert data["year_established"] == 2001
    assert data["dispute_resolutions"] == [
        {
            "field": "year_established",
            "chosen_value": "2001",
            "reason": reason,
            "resolved_at": data["dispute_resolutions"][0]["resolved_at"],
        }
    ]
    assert len(data["claims"]) == 2
    history = anon_client.get(f"{api_url(disputed)}history/").json()
    assert {"event": "dispute_resolved", "at": history[1]["at"], "changed_fields": ["year_established"]} in history
    for url in (api_url(disputed), f"{api_url(disputed)}history/", "/api/v1/partnerships/"):
        assert REVIEWER_NAME not in anon_client.get(url).content.decode()


def test_a_later_resolution_supersedes_the_earlier(reviewer, disputed, anon_client) -> None:
    dispute_resolve(
        record=disputed, field="year_established", chosen_value="2016", reason="First look.", reviewer=reviewer
    )
    dispute_resolve(
        record=disputed, field="year_established", chosen_value="2001", reason="Second look.", reviewer=reviewer
    )
    disputed.refresh_from_db()
    assert disputed.year_established == 2001
    assert DisputeResolution.objects.count() == 2  # both kept (the history)
    data = anon_client.get(api_url(disputed)).json()
    assert [(r["chosen_value"], r["reason"]) for r in data["dispute_resolutions"]] == [("2001", "Second look.")]
    public = anon_client.get(page_url(disputed)).content.decode()
    assert "Second look." in public
    assert "First look." not in public


def test_choosing_the_value_the_record_already_shows_still_records_the_decision(reviewer, disputed) -> None:
    before = disputed.updated_at
    dispute_resolve(
        record=disputed, field="year_established", chosen_value="2016", reason="The MOU says 2016.", reviewer=reviewer
    )
    disputed.refresh_from_db()
    assert disputed.year_established == 2016
    assert disputed.updated_at > before  # caches and ETags see the new resolution
    assert DisputeResolution.objects.get().chosen_value == "2016"


def test_api_etag_changes_when_a_dispute_is_resolved(reviewer, disputed, anon_client) -> None:
    first = anon_client.get(api_url(disputed))
    dispute_resolve(record=disputed, field="year_established", chosen_value="2016", reason="MOU.", reviewer=reviewer)
    again = anon_client.get(api_url(disputed), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert again.json()["dispute_resolutions"][0]["reason"] == "MOU."


# --- Who may resolve -------------------------------------------------------------------------------------------


def test_editor_without_the_permission_gets_403_and_nothing_is_written(staff_client, disputed) -> None:
    before = state(disputed)
    assert staff_client.get(resolve_url(disputed)).status_code == 403
    response = staff_client.post(
        resolve_url(disputed), {"field": "year_established", "chosen_value": "2001", "reason": "Because."}
    )
    assert response.status_code == 403
    assert staff_client.get(reverse("admin:provenance_disputeresolution_add")).status_code == 403
    assert state(disputed) == before


def test_anonymous_visitors_are_sent_to_the_login(anon_client, disputed) -> None:
    response = anon_client.post(
        resolve_url(disputed), {"field": "year_established", "chosen_value": "2001", "reason": "Because."}
    )
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert not DisputeResolution.objects.exists()


def test_the_service_refuses_a_user_without_the_permission(disputed) -> None:
    editor = factories.UserFactory(username="no-perm", is_staff=True)
    with pytest.raises(PermissionDenied):
        dispute_resolve(
            record=disputed, field="year_established", chosen_value="2001", reason="Because.", reviewer=editor
        )
    assert not DisputeResolution.objects.exists()


def test_a_reviewer_with_the_permission_but_not_superuser_may_resolve(disputed) -> None:
    permission = Permission.objects.filter(content_type__app_label="accounts", codename="resolve_dispute").first()
    if permission is None:
        pytest.skip("accounts.resolve_dispute is not defined yet (the roles work adds it)")
    user = factories.UserFactory(username="reviewer-role", is_staff=True)
    user.user_permissions.add(permission)
    client = Client()
    client.force_login(user)
    response = client.post(
        resolve_url(disputed), {"field": "year_established", "chosen_value": "2001", "reason": "The MOU."}
    )
    assert response.status_code == 302
    disputed.refresh_from_db()
    assert disputed.year_established == 2001


def test_cross_site_post_without_csrf_token_is_refused(reviewer, disputed) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)
    response = client.post(
        resolve_url(disputed), {"field": "year_established", "chosen_value": "2001", "reason": "Because."}
    )
    assert response.status_code == 403
    assert not DisputeResolution.objects.exists()


# --- Bad input: a clear form error, nothing written --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"chosen_value": "1999", "reason": "Because."}, "Select a valid choice"),
        ({"chosen_value": "2001", "reason": ""}, "Say why this value was chosen"),
        ({"chosen_value": "2001", "reason": "   \n  "}, "Say why this value was chosen"),
        ({"reason": "Because."}, "Choose a value."),
    ],
    ids=["value-no-source-gives", "blank-reason", "whitespace-reason", "no-value"],
)
def test_bad_input_is_a_form_error_and_writes_nothing(reviewer_client, disputed, data, message) -> None:
    before = state(disputed)
    response = reviewer_client.post(resolve_url(disputed), {"field": "year_established", **data})
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'class="errorlist' in page
    assert state(disputed) == before


@pytest.mark.parametrize("field", ["name", "ngos", "no_such_field", ""])
def test_a_field_that_is_not_disputed_or_not_resolvable_is_refused(reviewer_client, disputed, field) -> None:
    before = state(disputed)
    response = reviewer_client.post(resolve_url(disputed), {"field": field, "chosen_value": "x", "reason": "Because."})
    assert response.status_code == 400
    assert state(disputed) == before


def test_unknown_record_or_kind_is_404(reviewer_client, disputed) -> None:
    url = reverse("admin:provenance_disputeresolution_resolve", args=["partnership", disputed.pk + 1000])
    assert reviewer_client.get(url).status_code == 404
    url = reverse("admin:provenance_disputeresolution_resolve", args=["region", disputed.pk])
    assert reviewer_client.get(url).status_code == 404


def test_a_claimed_value_the_field_cannot_hold_is_refused_whole(reviewer, disputed) -> None:
    claim_add(record=disputed, field="year_established", value="1700", source=factories.SourceFactory())
    before = state(disputed)
    with pytest.raises(ValidationError) as error:
        dispute_resolve(
            record=disputed, field="year_established", chosen_value="1700", reason="Old.", reviewer=reviewer
        )
    assert "chosen_value" in error.value.message_dict
    assert state(disputed) == before  # the resolution written first was rolled back with it


def test_many_to_many_disputes_are_refused_clearly(reviewer) -> None:
    partnership = factories.PartnershipFactory()
    claim_add(record=partnership, field="ngos", value="Safe Horizon", source=factories.SourceFactory())
    claim_add(record=partnership, field="ngos", value="Safe Horizon Inc.", source=factories.SourceFactory())
    with pytest.raises(ValidationError, match="edit it in the record's form"):
        dispute_resolve(
            record=partnership, field="ngos", chosen_value="Safe Horizon", reason="Because.", reviewer=reviewer
        )


def test_an_undisputed_field_is_refused(reviewer, disputed) -> None:
    claim_add(record=disputed, field="name", value=disputed.name, source=factories.SourceFactory())
    with pytest.raises(ValidationError, match="do not disagree"):
        dispute_resolve(record=disputed, field="name", chosen_value=disputed.name, reason="Why.", reviewer=reviewer)


# --- Text to the field's type ----------------------------------------------------------------------------------


def test_a_jurisdiction_named_by_a_claim_becomes_the_related_record(reviewer) -> None:
    california = factories.JurisdictionFactory(slug="california", name="California")
    united_states = factories.JurisdictionFactory(slug="united-states", name="United States")
    instrument = factories.LegalInstrumentFactory(jurisdiction=california)
    claim_add(record=instrument, field="jurisdiction", value="United States", source=factories.SourceFactory())
    claim_add(record=instrument, field="jurisdiction", value="california", source=factories.SourceFactory())
    dispute_resolve(
        record=instrument, field="jurisdiction", chosen_value="United States", reason="Seed.", reviewer=reviewer
    )
    instrument.refresh_from_db()
    assert instrument.jurisdiction == united_states
    dispute_resolve(
        record=instrument, field="jurisdiction", chosen_value="california", reason="Statute.", reviewer=reviewer
    )
    instrument.refresh_from_db()
    assert instrument.jurisdiction == california


def test_an_unknown_related_name_is_a_clear_error(reviewer) -> None:
    instrument = factories.LegalInstrumentFactory()
    claim_add(record=instrument, field="jurisdiction", value="Atlantis", source=factories.SourceFactory())
    claim_add(record=instrument, field="jurisdiction", value="Lemuria", source=factories.SourceFactory())
    with pytest.raises(ValidationError, match="No jurisdiction is called"):
        dispute_resolve(
            record=instrument, field="jurisdiction", chosen_value="Atlantis", reason="Myth.", reviewer=reviewer
        )
    assert not DisputeResolution.objects.exists()


def test_a_choice_is_accepted_by_its_label(reviewer) -> None:
    partnership = factories.PartnershipFactory()
    mou_label = str(Formalisation(Formalisation.MOU).label)
    claim_add(record=partnership, field="formalisation", value=mou_label, source=factories.SourceFactory())
    claim_add(record=partnership, field="formalisation", value="informal", source=factories.SourceFactory())
    dispute_resolve(
        record=partnership, field="formalisation", chosen_value=mou_label, reason="Signed MOU.", reviewer=reviewer
    )
    partnership.refresh_from_db()
    assert partnership.formalisation == Formalisation.MOU


# --- The database's rules --------------------------------------------------------------------------------------


def test_many_to_many_claimable_fields_are_the_models_own() -> None:
    for target, label in CLAIM_TARGETS.items():
        model = apps.get_model(label)
        m2m = {name for name in CLAIMABLE_FIELDS[target] if model._meta.get_field(name).many_to_many}
        assert m2m == set(MANY_TO_MANY_CLAIMABLE.get(target, ())), target


@pytest.mark.parametrize(
    "values",
    [
        {"reason": "  "},
        {"chosen_value": ""},
        {"field": "ngos"},
        {"field": "website"},  # an NGO field, not a partnership one
    ],
    ids=["blank-reason", "empty-value", "m2m-field", "field-of-another-record"],
)
def test_the_database_refuses_an_invalid_resolution(values: dict[str, str]) -> None:
    partnership = factories.PartnershipFactory()
    row = {"partnership": partnership, "field": "year_established", "chosen_value": "2001", "reason": "Why."}
    with pytest.raises(IntegrityError), transaction.atomic():
        DisputeResolution.objects.create(**{**row, **values})


def test_the_database_refuses_a_resolution_about_no_record_or_two() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        DisputeResolution.objects.create(field="name", chosen_value="x", reason="Why.")
    with pytest.raises(IntegrityError), transaction.atomic():
        DisputeResolution.objects.create(
            partnership=factories.PartnershipFactory(),
            ngo=factories.NGOFactory(),
            field="name",
            chosen_value="x",
            reason="Why.",
        )


# --- Other record types and the admin lists ----------------------------------------------------------------------


def test_an_ngo_dispute_is_resolved_and_shown_on_its_page_and_in_the_api(reviewer, anon_client) -> None:
    ngo = factories.NGOFactory(name="Safe Horizon")
    claim_add(record=ngo, field="name", value="Safe Horizon", source=factories.SourceFactory())
    claim_add(record=ngo, field="name", value="Victim Services Agency", source=factories.SourceFactory())
    dispute_resolve(record=ngo, field="name", chosen_value="Safe Horizon", reason="Renamed in 1996.", reviewer=reviewer)
    page = anon_client.get(f"/ngos/{ngo.slug}/").content.decode()
    assert "Renamed in 1996." in page
    assert REVIEWER_NAME not in page
    data = anon_client.get(f"/api/v1/ngos/{ngo.slug}/").json()
    assert data["dispute_resolutions"][0]["chosen_value"] == "Safe Horizon"
    listed = anon_client.get("/api/v1/ngos/").json()["results"][0]
    assert listed["dispute_resolutions"][0]["reason"] == "Renamed in 1996."
    csv = b"".join(anon_client.get("/api/v1/ngos/", {"format": "csv"}).streaming_content).decode()
    assert "dispute_resolutions" not in csv.splitlines()[0]


def test_reviewers_start_from_the_list_of_disputed_records(reviewer_client, disputed) -> None:
    factories.PartnershipFactory(name="Agreed partnership")
    response = reviewer_client.get(reverse("admin:provenance_disputeresolution_add"))
    assert response.status_code == 200
    page = response.content.decode()
    assert resolve_url(disputed) in page
    assert "Agreed partnership" not in page


def test_resolutions_list_is_read_only(reviewer_client, reviewer, disputed) -> None:
    resolution = dispute_resolve(
        record=disputed, field="year_established", chosen_value="2001", reason="Why.", reviewer=reviewer
    )
    page = reviewer_client.get(reverse("admin:provenance_disputeresolution_changelist")).content.decode()
    assert "2001" in page
    assert REVIEWER_NAME in page
    change = reverse("admin:provenance_disputeresolution_change", args=[resolution.pk])
    assert reviewer_client.post(change, {"reason": "Edited."}).status_code == 403
    resolution.refresh_from_db()
    assert resolution.reason == "Why."


def test_resolution_admin_pages_open_at_a_fixed_query_count(reviewer_client) -> None:
    changelist = reverse("admin:provenance_disputeresolution_changelist")
    resolution = factories.DisputeResolutionFactory()
    assert reviewer_client.get(changelist, {"q": "x"}).status_code == 200
    change = reviewer_client.get(reverse("admin:provenance_disputeresolution_change", args=[resolution.pk]))
    assert change.status_code == 200
    assert str(resolution) in change.content.decode()
    reviewer_client.get(changelist)  # warm the session
    one = count_queries(reviewer_client, changelist)
    for _ in range(4):
        factories.DisputeResolutionFactory()
    assert count_queries(reviewer_client, changelist) == one


# --- Query counts --------------------------------------------------------------------------------------------------


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def resolve_many(record: Any, reviewer: Any, times: int) -> None:
    for n in range(times):
        value = "2001" if n % 2 else "2016"
        dispute_resolve(
            record=record, field="year_established", chosen_value=value, reason=f"Look {n}.", reviewer=reviewer
        )


def test_public_page_and_api_queries_do_not_grow_with_resolutions(reviewer, disputed, anon_client) -> None:
    others = []
    for n in range(3):
        other = factories.PartnershipFactory(name=f"Other {n}")
        claim_add(record=other, field="year_established", value="1999", source=factories.SourceFactory())
        claim_add(record=other, field="year_established", value="2000", source=factories.SourceFactory())
        others.append(other)
    resolve_many(disputed, reviewer, 1)
    urls = [page_url(disputed), api_url(disputed), f"{api_url(disputed)}history/", "/api/v1/partnerships/"]
    before = [count_queries(anon_client, url) for url in urls]
    resolve_many(disputed, reviewer, 4)
    for other in others:
        dispute_resolve(record=other, field="year_established", chosen_value="1999", reason="Why.", reviewer=reviewer)
    assert [count_queries(anon_client, url) for url in urls] == before


def test_reviewers_page_queries_do_not_grow_with_claims_or_resolutions(reviewer_client, reviewer, disputed) -> None:
    reviewer_client.get(resolve_url(disputed))  # warm the session
    before = count_queries(reviewer_client, resolve_url(disputed))
    resolve_many(disputed, reviewer, 3)
    for n in range(4):
        claim_add(record=disputed, field="year_established", value=str(1990 + n), source=factories.SourceFactory())
    assert count_queries(reviewer_client, resolve_url(disputed)) == before
