"""No lost edits: two editors saving the same record cannot silently overwrite each other, in the change form,
in the changelist's list_editable and its actions, and through the API (412 saying what changed)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pghistory.models import Events
from rest_framework.authtoken.models import Token

from partnerships.models import Partnership
from provenance.models import Claim
from provenance.services import claim_add
from registry.admin_conflicts import SALT, VERSION_FIELD, VERSIONS_FIELD
from tests import factories
from tests.helpers import admin_change_form_data

pytestmark = pytest.mark.django_db


def change_url(obj: Any) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def changelist_url(model: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.fixture
def other_client() -> Client:
    """A second editor, working at the same time as ``admin_client`` (user "editor")."""
    client = Client()
    client.force_login(factories.UserFactory(username="alice", is_staff=True, is_superuser=True))
    return client


def all_events(partnership: Partnership) -> int:
    return Events.objects.references(partnership).count() + Events.objects.tracks(partnership).count()


def form_errors(response: Any) -> str:
    form = response.context["adminform"].form
    return " ".join(error for errors in form.errors.values() for error in errors)


# --- Change form -------------------------------------------------------------------------------------------------


def test_the_second_save_is_refused_and_says_what_changed(admin_client: Client, other_client: Client):
    partnership = factories.PartnershipFactory(name="Safe Horizon & NYPD")
    url = change_url(partnership)
    mine, theirs = admin_client.get(url), other_client.get(url)
    assert f'name="{VERSION_FIELD}"' in mine.content.decode()  # the browser sends the version back

    first = other_client.post(url, admin_change_form_data(theirs, name="Safe Horizon and NYPD", _save="Save"))
    assert first.status_code == 302
    events_before = all_events(partnership)

    second = admin_client.post(url, admin_change_form_data(mine, name="Safe Horizon with the NYPD", _save="Save"))

    assert second.status_code == 200
    errors = form_errors(second)
    assert "Someone else saved this record after you opened it, so nothing of yours was saved." in errors
    assert "you started from “Safe Horizon & NYPD”, it is now “Safe Horizon and NYPD”" in errors
    assert "alice" in errors  # who made the other change
    page = second.content.decode()
    assert "Safe Horizon with the NYPD" in page  # the editor's input is kept to reapply
    assert "you changed it too: the value below is yours." in errors
    partnership.refresh_from_db()
    assert partnership.name == "Safe Horizon and NYPD"
    assert all_events(partnership) == events_before  # nothing of the second editor was written

    # The form now carries the current version: saving again applies the input on purpose.
    again = admin_client.post(url, admin_change_form_data(second, _save="Save"))
    assert again.status_code == 302
    partnership.refresh_from_db()
    assert partnership.name == "Safe Horizon with the NYPD"


def test_sequential_saves_and_saves_that_change_nothing_do_not_conflict(admin_client: Client, other_client: Client):
    partnership = factories.PartnershipFactory(year_established=2015)
    url = change_url(partnership)
    theirs = other_client.get(url)
    for year in ("2016", "2017"):  # one editor saving twice, reloading in between (as the redirect does)
        response = admin_client.post(url, admin_change_form_data(admin_client.get(url), year_established=year))
        assert response.status_code == 302
    mine = admin_client.get(url)
    assert other_client.post(url, admin_change_form_data(theirs, _save="Save")).status_code == 200  # stale now
    # A save that changes nothing writes no event, so it does not make the other editor's page stale.
    theirs = other_client.get(url)
    assert admin_client.post(url, admin_change_form_data(mine, _save="Save")).status_code == 302
    assert other_client.post(url, admin_change_form_data(theirs, description="Added.")).status_code == 302
    partnership.refresh_from_db()
    assert (partnership.year_established, partnership.description) == (2017, "Added.")


def test_a_link_or_a_claim_added_by_someone_else_also_conflicts(admin_client: Client):
    partnership = factories.PartnershipFactory(ngos=[])
    url = change_url(partnership)
    page = admin_client.get(url)
    ngo = factories.NGOFactory(name="Safe Horizon")
    partnership.ngos.add(ngo)

    response = admin_client.post(url, admin_change_form_data(page, description="Mine."))

    assert response.status_code == 200
    assert "NGOs: added “Safe Horizon”" in form_errors(response)
    partnership.refresh_from_db()
    assert partnership.description != "Mine."
    assert list(partnership.ngos.all()) == [ngo]  # the form's (empty) NGO list did not remove it
    # The refused form now lists the NGO added meanwhile (the editor left the NGOs alone): saving again keeps it.
    assert admin_client.post(url, admin_change_form_data(response)).status_code == 302
    partnership.refresh_from_db()
    assert partnership.description == "Mine."
    assert list(partnership.ngos.all()) == [ngo]

    page = admin_client.get(url)
    claim_add(record=partnership, field="year_established", value="2001", source=factories.SourceFactory())
    response = admin_client.post(url, admin_change_form_data(page, description="Mine."))
    assert response.status_code == 200
    assert "claim: added field=year_established, value=2001" in form_errors(response)
    assert Claim.objects.filter(partnership=partnership).count() == 1


def test_a_field_only_the_other_editor_changed_is_kept_when_saving_again(admin_client: Client, other_client: Client):
    partnership = factories.PartnershipFactory(description="Old description.", name="Old name")
    url = change_url(partnership)
    mine = admin_client.get(url)
    other = other_client.post(url, admin_change_form_data(other_client.get(url), description="Their description."))
    assert other.status_code == 302

    refused = admin_client.post(url, admin_change_form_data(mine, name="My name"))
    assert "the form shows it." in form_errors(refused)
    assert admin_client.post(url, admin_change_form_data(refused)).status_code == 302

    partnership.refresh_from_db()
    assert (partnership.name, partnership.description) == ("My name", "Their description.")


def test_a_claim_changed_by_the_other_editor_is_not_undone_when_saving_again(admin_client: Client):
    partnership = factories.PartnershipFactory(name="Old name")
    claim = claim_add(record=partnership, field="year_established", value="2016", source=factories.SourceFactory())
    url = change_url(partnership)
    mine = admin_client.get(url)
    claim.value, claim.quote = "2001", "Founded in 2001."
    claim.save()  # someone else corrects the claim meanwhile

    refused = admin_client.post(url, admin_change_form_data(mine, name="New name"))
    assert refused.status_code == 200
    assert "claim: changed" in form_errors(refused)
    assert admin_client.post(url, admin_change_form_data(refused)).status_code == 302

    claim.refresh_from_db()
    partnership.refresh_from_db()
    assert (partnership.name, claim.value, claim.quote) == ("New name", "2001", "Founded in 2001.")


def test_an_inline_row_is_not_written_when_the_record_is_stale(admin_client: Client, other_client: Client):
    partnership = factories.PartnershipFactory()
    source = factories.SourceFactory()
    url = change_url(partnership)
    mine = admin_client.get(url)
    assert other_client.post(url, admin_change_form_data(other_client.get(url), status="ended")).status_code == 302
    data = admin_change_form_data(
        mine, **{"claims-0-field": "year_established", "claims-0-value": "1995", "claims-0-source": str(source.pk)}
    )

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "status: you started from" in form_errors(response)
    assert not Claim.objects.filter(partnership=partnership).exists()


@pytest.mark.parametrize("version", [None, "", "forged", "other-record"])
def test_a_form_without_a_valid_version_is_refused(admin_client: Client, version: str | None):
    partnership, other = factories.PartnershipFactory(), factories.PartnershipFactory()
    url = change_url(partnership)
    data = admin_change_form_data(admin_client.get(url), description="Mine.")
    if version is None:
        del data[VERSION_FIELD]
    elif version == "other-record":
        data[VERSION_FIELD] = admin_change_form_data(admin_client.get(change_url(other)))[VERSION_FIELD]
    else:
        data[VERSION_FIELD] = version

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "reload the page" in form_errors(response)
    partnership.refresh_from_db()
    assert partnership.description != "Mine."


def test_the_add_form_needs_no_version(admin_client: Client):
    source = factories.SourceFactory.build()
    url = reverse("admin:provenance_source_add")
    data = admin_change_form_data(admin_client.get(url), title=source.title, slug=source.slug, kind="news")
    data.update(tier="secondary")
    response = admin_client.post(url, data)
    assert response.status_code == 302, form_errors(response)


def test_other_record_types_are_guarded_too(admin_client: Client, other_client: Client):
    source = factories.SourceFactory(title="Annual report")
    url = change_url(source)
    mine = admin_client.get(url)
    assert other_client.post(url, admin_change_form_data(other_client.get(url), title="Annual report 2024")).status_code
    response = admin_client.post(url, admin_change_form_data(mine, publisher="Mine"))
    assert response.status_code == 200
    assert "title: you started from “Annual report”, it is now “Annual report 2024”" in form_errors(response)


def test_reading_the_version_costs_one_query_whatever_the_rows(admin_client: Client):
    partnerships = [
        factories.PartnershipFactory(ngos=[factories.NGOFactory(), factories.NGOFactory()]) for _ in range(5)
    ]
    for partnership in partnerships:
        claim_add(record=partnership, field="name", value=partnership.name, source=factories.SourceFactory())
    model_admin = admin.site._registry[Partnership]
    with CaptureQueriesContext(connection) as one:
        model_admin.record_versions([partnerships[0].pk])
    with CaptureQueriesContext(connection) as five:
        versions = model_admin.record_versions([p.pk for p in partnerships], lock=True)
    assert len(one) == len(five) == 1
    assert len(set(map(json.dumps, versions.values()))) == 5


def version_reads(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if 'MAX("pgh_id")' in q["sql"] or "MAX(U0" in q["sql"]]


def test_the_change_page_and_a_save_each_read_the_version_in_one_query(admin_client: Client):
    partnership = factories.PartnershipFactory(ngos=[factories.NGOFactory(), factories.NGOFactory()])
    for year in ("2001", "2016"):
        claim_add(record=partnership, field="year_established", value=year, source=factories.SourceFactory())
    url = change_url(partnership)
    with CaptureQueriesContext(connection) as page_queries:
        page = admin_client.get(url)
    with CaptureQueriesContext(connection) as save_queries:
        assert admin_client.post(url, admin_change_form_data(page, description="Edited.")).status_code == 302
    assert len(version_reads(page_queries)) == 1
    [locked] = version_reads(save_queries)
    assert "FOR UPDATE" in locked


# --- Changelist: list_editable and actions ----------------------------------------------------------------------


def changelist_data(response: Any, **changes: Any) -> dict[str, Any]:
    """What the changelist form posts back on "Save" (the list_editable formset), with ``changes``."""
    formset = response.context["cl"].formset
    data: dict[str, Any] = {VERSIONS_FIELD: response.context[VERSIONS_FIELD], "_save": "Save"}
    for form in [formset.management_form, *formset.forms]:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            data[bound.html_name] = "on" if value is True else str(value)
    for key, value in changes.items():
        if value is False:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def row_prefix(response: Any, obj: Any) -> str:
    forms = response.context["cl"].formset.forms
    return next(form.prefix for form in forms if form.instance.pk == obj.pk)


def test_list_editable_refuses_the_whole_save_when_a_row_changed(admin_client: Client, other_client: Client):
    drafts = [factories.PartnershipFactory(is_published=False, name=f"Draft {n}") for n in range(3)]
    url = changelist_url(Partnership)
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(url)
    versions_reads = [q for q in queries.captured_queries if "MAX(" in q["sql"] and "pgh_id" in q["sql"]]
    assert len(versions_reads) == 1  # one query for the versions of every row shown
    assert f'name="{VERSIONS_FIELD}"' in page.content.decode()
    other_page = other_client.get(url)
    other = other_client.post(
        url, changelist_data(other_page, **{f"{row_prefix(other_page, drafts[2])}-is_published": "on"})
    )
    assert other.status_code == 302
    assert Partnership.objects.get(pk=drafts[2].pk).is_published

    data = changelist_data(
        page,
        **{f"{row_prefix(page, drafts[0])}-is_published": "on", f"{row_prefix(page, drafts[1])}-is_published": "on"},
    )
    response = admin_client.post(url, data)

    assert response.status_code == 200
    text = response.content.decode()
    assert "Nothing was saved: some rows changed since you loaded this list." in text
    assert "“Draft 2” changed after the list was shown" in text
    assert "is published: you started from “no”, it is now “yes”" in text
    published = set(Partnership.objects.filter(is_published=True).values_list("name", flat=True))
    assert published == {"Draft 2"}  # neither of the first editor's rows was saved

    # The refused page carries the current versions and the other change on the row the editor left alone:
    # saving it again applies the editor's input and keeps the other's.
    assert admin_client.post(url, changelist_data(response)).status_code == 302
    assert Partnership.objects.filter(is_published=True).count() == 3


def test_the_versions_cost_no_query_of_their_own_on_the_changelist(admin_client: Client):
    """The rows' versions are read in the page's query: a partnership changelist stays at 9 queries (session,
    user, pghistory context and savepoints, the related filters' choices, COUNT, the page), whatever the rows."""
    url = changelist_url(Partnership)
    factories.PartnershipFactory(ngos=[factories.NGOFactory()])
    admin_client.get(url)
    with CaptureQueriesContext(connection) as one:
        page = admin_client.get(url)
    for _ in range(6):
        partnership = factories.PartnershipFactory(ngos=[factories.NGOFactory()])
        claim_add(record=partnership, field="name", value=partnership.name, source=factories.SourceFactory())
    with CaptureQueriesContext(connection) as seven:
        page = admin_client.get(url)
    assert len(seven) == len(one) <= 9, "\n".join(q["sql"] for q in seven.captured_queries)
    rows = signing.loads(page.context[VERSIONS_FIELD], salt=SALT)["rows"]
    assert len(rows) == 7
    assert sum(version["provenance.ClaimEvent"] > 0 for version in rows.values()) == 6  # the rows with a claim


def test_list_editable_without_versions_is_refused(admin_client: Client):
    draft = factories.PartnershipFactory(is_published=False)
    url = changelist_url(Partnership)
    page = admin_client.get(url)
    data = changelist_data(page, **{f"{row_prefix(page, draft)}-is_published": "on"})
    del data[VERSIONS_FIELD]
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "sent without the versions of its rows" in response.content.decode()
    assert not Partnership.objects.get(pk=draft.pk).is_published


def test_an_action_on_a_row_changed_since_the_list_was_shown_is_refused(admin_client: Client, other_client: Client):
    drafts = [factories.PartnershipFactory(is_published=False, name=f"Draft {n}") for n in range(2)]
    url = changelist_url(Partnership)
    page = admin_client.get(url)
    versions = page.context[VERSIONS_FIELD]
    record = Partnership.objects.get(pk=drafts[1].pk)
    other_client.post(
        change_url(record),
        admin_change_form_data(other_client.get(change_url(record)), year_established="2001"),
    )
    selection = {"action": "publish", "index": "0", "_selected_action": [str(d.pk) for d in drafts]}

    response = admin_client.post(url, {**selection, VERSIONS_FIELD: versions}, follow=True)

    text = response.content.decode()
    assert "The action was not applied to any row" in text
    assert "“Draft 1” changed after the list was shown" in text
    assert "year established: you started from “2015”, it is now “2001”" in text
    assert not Partnership.objects.filter(is_published=True).exists()

    fresh = admin_client.get(url).context[VERSIONS_FIELD]
    response = admin_client.post(url, {**selection, VERSIONS_FIELD: fresh}, follow=True)
    assert "Published 2 record(s)." in response.content.decode()
    assert Partnership.objects.filter(is_published=True).count() == 2


def test_a_forged_versions_field_refuses_the_action(admin_client: Client):
    draft = factories.PartnershipFactory(is_published=False)
    forged = signing.dumps({"m": "partnerships.Partnership", "rows": {}}, salt="another-salt")
    selection = {"action": "publish", "index": "0", "_selected_action": [str(draft.pk)], VERSIONS_FIELD: forged}
    response = admin_client.post(changelist_url(Partnership), selection, follow=True)
    assert "unreadable" in response.content.decode()
    assert not Partnership.objects.get(pk=draft.pk).is_published
    assert SALT != "another-salt"


# --- API ------------------------------------------------------------------------------------------------------


def writer_client() -> Client:
    user = factories.UserFactory()
    for app_label, codename in (("partnerships", "change_partnership"), ("accounts", "verify_record")):
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return Client(headers={"Authorization": f"Token {Token.objects.create(user=user).key}"})


def test_the_api_412_says_what_changed_and_where_the_current_version_is(anon_client: Client):
    partnership = factories.PartnershipFactory(is_published=True, year_established=2016)
    url = f"/api/v1/partnerships/{partnership.slug}/"
    etag = anon_client.get(url)["ETag"]
    claim_add(record=partnership, field="year_established", value="2001", source=factories.SourceFactory())
    partnership.refresh_from_db()
    partnership.description = "Changed by someone else."
    partnership.save()
    current = anon_client.get(url)["ETag"]

    response = writer_client().patch(
        url, json.dumps({"name": "Renamed"}), content_type="application/json", headers={"If-Match": etag}
    )

    assert response.status_code == 412
    body = response.json()
    assert body["errors"][0]["code"] == "stale"
    assert body["current_etag"] == current == response["ETag"]
    assert body["history"].endswith(f"/api/v1/partnerships/{partnership.slug}/history/")
    changed = {field for change in body["recent_changes"] for field in change["changed_fields"]}
    assert {"description", "year_established"} <= changed
    assert all(set(change) == {"event", "at", "changed_fields"} for change in body["recent_changes"])  # no editor
    partnership.refresh_from_db()
    assert partnership.name != "Renamed"


def test_the_schema_documents_the_412_body(anon_client: Client):
    schema = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    stale = schema["paths"]["/api/v1/partnerships/{slug}/"]["patch"]["responses"]["412"]
    ref = stale["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][ref]["properties"]
    assert {"errors", "current_etag", "last_modified", "history", "recent_changes"} <= properties.keys()
