"""The editors' admin: every registered model's pages open, changelists cost a fixed number of queries,
a partnership's page carries its claims, sources, checklist and history, and bad input is a form error."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection, models
from django.forms.models import _get_foreign_key
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from factory.django import DjangoModelFactory
from pghistory import config as pghistory_config
from pghistory.models import Events

from partnerships.models import Partnership
from provenance.models import Claim, VerificationStatus
from provenance.services import claim_add
from tests import factories

pytestmark = pytest.mark.django_db

EVENTS_MODEL = pghistory_config.admin_queryset().model

# Every factory in tests/factories.py, by the model it builds; plus the few models of Django's own apps.
FACTORIES: dict[type[models.Model], Callable[..., Any]] = {
    factory._meta.model: factory
    for _, factory in inspect.getmembers(factories, inspect.isclass)
    if issubclass(factory, DjangoModelFactory) and factory._meta.model is not None
}
FACTORIES[Group] = lambda: Group.objects.create(name=f"Group {Group.objects.count() + 1}")

# The pghistory events admin is read-only and shows events of other records; it has its own test below.
REGISTERED = sorted((model for model in admin.site._registry if model is not EVENTS_MODEL), key=lambda m: m._meta.label)


def admin_url(model: type[models.Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def build(model: type[models.Model]) -> models.Model:
    if model not in FACTORIES:
        pytest.fail(f"{model._meta.label} is registered in the admin but tests/factories.py has no factory for it.")
    return FACTORIES[model]()


def form_data(response: Any) -> dict[str, Any]:
    """The POST body the change page would send unchanged: its form, every inline formset and management form."""
    data: dict[str, Any] = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
        forms += formset.forms
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            key = form.add_prefix(name)
            if value is None or value is False:
                continue
            if value is True:
                data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            else:
                data[key] = str(value)
    return data


def test_every_registered_model_has_a_factory():
    missing = [model._meta.label for model in REGISTERED if model not in FACTORIES]
    assert not missing, f"Registered in the admin without a factory in tests/factories.py: {missing}"


def test_every_tracked_registry_model_is_registered():
    from django.apps import apps

    ours = {"provenance", "geography", "partnerships", "legal", "cases"}
    unregistered = [
        model._meta.label
        for model in apps.get_models()
        if model._meta.app_label in ours
        and not hasattr(model, "pgh_tracked_model")  # event tables: the pghistory events admin shows them
        and not model._meta.concrete_model._meta.auto_created  # many-to-many links: edited on their records
        and model not in admin.site._registry
    ]
    assert not unregistered, f"Models editors cannot reach in the admin: {unregistered}"


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_admin_pages_open(admin_client: Client, editor: Any, model: type[models.Model]):
    obj = build(model)
    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    response = admin_client.get(admin_url(model, "changelist"), {"q": "x"})
    assert response.status_code == 200
    # Records made elsewhere (imports, the public's requests) have no add page; every other model has one.
    request = RequestFactory().get("/")
    request.user = editor
    addable = admin.site._registry[model].has_add_permission(request)
    assert admin_client.get(admin_url(model, "add")).status_code == (200 if addable else 403)
    response = admin_client.get(admin_url(model, "change", obj.pk))
    assert response.status_code == 200
    assert str(obj) in response.content.decode()


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_changelist_queries_do_not_grow_with_rows(admin_client: Client, model: type[models.Model]):
    build(model)
    url = admin_url(model, "changelist")
    admin_client.get(url)  # warm the session and the content type cache
    with CaptureQueriesContext(connection) as one_row:
        assert admin_client.get(url).status_code == 200
    for _ in range(3):
        build(model)
    with CaptureQueriesContext(connection) as four_rows:
        assert admin_client.get(url).status_code == 200
    assert len(four_rows) == len(one_row), "\n".join(q["sql"] for q in four_rows.captured_queries)


def _partnerships_with_relations(count: int) -> list[Partnership]:
    focus = [factories.FocusAreaFactory(), factories.FocusAreaFactory()]
    return [
        factories.PartnershipFactory(
            ngos=[factories.NGOFactory(), factories.NGOFactory()],
            police_departments=[factories.PoliceDepartmentFactory()],
            focus_areas=focus,
        )
        for _ in range(count)
    ]


def test_partnership_changelist_has_a_fixed_query_count(admin_client: Client):
    url = admin_url(Partnership, "changelist")
    _partnerships_with_relations(3)
    admin_client.get(url)
    with CaptureQueriesContext(connection) as three:
        response = admin_client.get(url)
    assert response.content.decode().count('class="action-select"') == 3
    _partnerships_with_relations(7)
    # session, user, pghistory context + savepoint, one query per related list filter (regions, focus
    # areas, surveillance practices), COUNT(*), the page of rows (joined with region and jurisdiction,
    # with the disputed EXISTS inside), pghistory context + savepoint release.
    with CaptureQueriesContext(connection) as ten:
        response = admin_client.get(url)
    assert response.content.decode().count('class="action-select"') == 10
    assert len(ten) == len(three) <= 9, "\n".join(q["sql"] for q in ten.captured_queries)


def test_partnership_changelist_filters_disputed_records(admin_client: Client):
    factories.PartnershipFactory(name="Calm")
    disputed = factories.PartnershipFactory(name="Contested")
    claim_add(record=disputed, field="year_established", value="2016", source=factories.SourceFactory())
    claim_add(record=disputed, field="year_established", value="2001", source=factories.SourceFactory())
    response = admin_client.get(admin_url(Partnership, "changelist"), {"disputed": "yes"})
    page = response.content.decode()
    assert "Contested" in page
    assert "Calm" not in page
    assert "Calm" in admin_client.get(admin_url(Partnership, "changelist"), {"disputed": "no"}).content.decode()


def test_partnership_page_shows_claims_sources_checklist_and_history(admin_client: Client):
    source = factories.SourceFactory(title="Table 2: historical partnerships")
    partnership = factories.PartnershipFactory(name="Safe Horizon & NYPD", sources=[source])
    claim_add(record=partnership, field="year_established", value="2001", source=source, locator="Table 2")
    factories.MechanismAssessmentFactory(partnership=partnership, mechanism__name="Independent oversight")

    page = admin_client.get(admin_url(Partnership, "change", partnership.pk)).content.decode()

    assert 'value="2001"' in page  # the claim, in its inline
    assert 'value="Table 2"' in page
    assert "Table 2: historical partnerships" in page  # the source, chosen in the sources field
    assert "Independent oversight" in page  # the checklist inline
    assert "Recent changes" in page
    assert "created" in page  # the partnership's own insert event
    assert "field=year_established" in page  # the claim's insert event
    assert f"obj=partnerships.Partnership:{partnership.pk}" in page  # link to all its events


def test_an_edit_shows_in_the_history_with_its_author(admin_client: Client):
    partnership = factories.PartnershipFactory(year_established=2016)
    url = admin_url(Partnership, "change", partnership.pk)
    data = form_data(admin_client.get(url))
    data["year_established"] = "2001"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    partnership.refresh_from_db()
    assert partnership.year_established == 2001

    page = admin_client.get(url).content.decode()
    assert "year_established: 2016 → 2001" in page
    assert f"editor ({url})" in page


def test_a_year_out_of_range_is_a_form_error_and_changes_nothing(admin_client: Client):
    partnership = factories.PartnershipFactory(year_established=2015)
    url = admin_url(Partnership, "change", partnership.pk)
    data = form_data(admin_client.get(url))
    events_before = Events.objects.tracks(partnership).count()
    data["year_established"] = "1700"

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1800." in response.content.decode()
    partnership.refresh_from_db()
    assert partnership.year_established == 2015
    assert Events.objects.tracks(partnership).count() == events_before


def test_a_database_constraint_is_a_form_error_not_a_server_error(admin_client: Client):
    # "An end year only if the partnership ended" is a CheckConstraint; the form reports it.
    partnership = factories.PartnershipFactory(year_established=2010, status="active")
    url = admin_url(Partnership, "change", partnership.pk)
    data = form_data(admin_client.get(url))
    data["year_ended"] = "2012"

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "Only an ended partnership can have an end year." in response.content.decode()
    partnership.refresh_from_db()
    assert partnership.year_ended is None


def test_editor_adds_sources_and_a_claim_on_the_partnership_page(admin_client: Client):
    partnership = factories.PartnershipFactory(sources=[])
    news, mou = factories.SourceFactory(), factories.SourceFactory(kind="primary_document", tier="primary")
    url = admin_url(Partnership, "change", partnership.pk)
    data = form_data(admin_client.get(url))
    data["sources"] = [str(news.pk), str(mou.pk)]
    data.update({"claims-0-field": "year_established", "claims-0-value": "1995", "claims-0-source": str(mou.pk)})

    response = admin_client.post(url, data)

    assert response.status_code == 302
    assert set(partnership.sources.all()) == {news, mou}
    claim = Claim.objects.get(partnership=partnership)
    assert (claim.field, claim.value, claim.source) == ("year_established", "1995", mou)
    rows = admin.site._registry[Partnership].history_events(partnership)
    assert {(e.pgh_label, e.pgh_model) for e in rows} >= {
        ("add", "partnerships.PartnershipSourcesEvent"),
        ("insert", "provenance.ClaimEvent"),
    }
    page = admin_client.get(url).content.decode()
    assert f"<td>add</td><td>sources</td><td>source_id={mou.pk}</td><td>editor ({url})</td>" in page


def test_a_claim_on_a_field_the_record_has_not_is_refused(admin_client: Client):
    partnership = factories.PartnershipFactory()
    url = admin_url(Partnership, "change", partnership.pk)
    data = form_data(admin_client.get(url))
    data.update(
        {"claims-0-field": "short_name", "claims-0-value": "X", "claims-0-source": str(factories.SourceFactory().pk)}
    )

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not Claim.objects.exists()


def test_a_published_slug_cannot_be_edited(admin_client: Client):
    partnership = factories.PartnershipFactory(slug="safe-horizon-nypd", is_published=True)
    url = admin_url(Partnership, "change", partnership.pk)
    response = admin_client.get(url)
    assert "slug" not in response.context["adminform"].form.fields
    data = form_data(response)
    data["slug"] = "renamed"

    assert admin_client.post(url, data).status_code == 302
    partnership.refresh_from_db()
    assert partnership.slug == "safe-horizon-nypd"


def test_autocomplete_finds_ngos_for_a_partnership(admin_client: Client):
    factories.NGOFactory(name="Safe Horizon")
    factories.NGOFactory(name="La Strada International")
    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "partnerships", "model_name": "partnership", "field_name": "ngos", "term": "horizon"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Safe Horizon"]


def test_search_finds_a_partnership_by_its_organisations_names(admin_client: Client):
    factories.PartnershipFactory(name="Safe Horizon & NYPD", ngos=[factories.NGOFactory(name="Safe Horizon")])
    factories.PartnershipFactory(
        name="Joint response", police_departments=[factories.PoliceDepartmentFactory(name="Metropolitan Police")]
    )
    factories.PartnershipFactory(name="Elsewhere")
    url = admin_url(Partnership, "changelist")
    for term, expected in [("horizon", "Safe Horizon &amp; NYPD"), ("metropolitan police", "Joint response")]:
        page = admin_client.get(url, {"q": term}).content.decode()
        assert page.count('class="action-select"') == 1
        assert expected in page


def test_autocomplete_finds_a_police_department_by_alias(admin_client: Client):
    factories.PoliceDepartmentFactory(name="New York City Police Department", aliases=["NYPD"])
    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "partnerships", "model_name": "partnership", "field_name": "police_departments", "term": "nypd"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["New York City Police Department"]


def test_history_button_opens_the_records_history_and_its_raw_events(admin_client: Client):
    partnership = factories.PartnershipFactory(name="Safe Horizon & NYPD")
    response = admin_client.get(admin_url(Partnership, "history", partnership.pk))
    assert response.status_code == 200
    events_url = response.context["events_url"]
    events_page = admin_client.get(events_url)
    assert events_page.status_code == 200
    assert "partnerships.PartnershipEvent" in events_page.content.decode()
    event = Events.objects.tracks(partnership).get()
    assert admin_client.get(admin_url(EVENTS_MODEL, "change", event.pk)).status_code == 200


def test_a_region_history_lists_its_own_events_not_every_partnership_in_it(admin_client: Client):
    region = factories.RegionFactory()
    factories.PartnershipFactory(region=region)
    events_url = admin_client.get(admin_url(type(region), "history", region.pk)).context["events_url"]
    assert "method=tracks" in events_url
    page = admin_client.get(events_url).content.decode()
    assert "geography.RegionEvent" in page
    assert "partnerships.PartnershipEvent" not in page


def test_publish_and_verification_actions(admin_client: Client):
    draft = factories.PartnershipFactory(is_published=False, sources=[])
    claim_add(record=draft, field="name", value=draft.name, source=factories.SourceFactory(tier="primary"))
    draft.verification_status = VerificationStatus.UNVERIFIED
    draft.save()
    url = admin_url(Partnership, "changelist")
    for action in ("publish", "refresh_verification"):
        response = admin_client.post(url, {"action": action, "_selected_action": [draft.pk]})
        assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_published
    assert draft.verification_status == VerificationStatus.VERIFIED


# --- Rules every ModelAdmin follows (so a new model's admin cannot quietly miss them) ------------------
OWN_APPS = {"provenance", "geography", "partnerships", "legal", "cases"}
OWN_ADMINS = [ma for model, ma in admin.site._registry.items() if model._meta.app_label in OWN_APPS]


def _unwidgeted_relations(admin_or_inline: Any, request: Any) -> list[str]:
    """Form fields relating to a registered model that render as a plain <select> of every row."""
    if hasattr(admin_or_inline, "parent_model"):
        base_fields = admin_or_inline.get_formset(request).form.base_fields
        parent_fk = _get_foreign_key(admin_or_inline.parent_model, admin_or_inline.model, admin_or_inline.fk_name)
        skip = {parent_fk.name} if parent_fk else set()
    else:
        base_fields = admin_or_inline.get_form(request).base_fields
        skip = set()
    widgeted = {*admin_or_inline.get_autocomplete_fields(request), *admin_or_inline.raw_id_fields}
    return [
        name
        for name in base_fields
        if name not in skip | widgeted
        and admin_or_inline.model._meta.get_field(name).is_relation
        and admin_or_inline.model._meta.get_field(name).related_model in admin.site._registry
    ]


NO_FILTER_NEEDED = {"Region", "FocusArea", "LegalTopic", "IssueType", "CaseQuote"}  # a name is all they have


@pytest.mark.parametrize("model_admin", OWN_ADMINS, ids=lambda ma: ma.model._meta.label)
def test_admin_rules(rf: Any, editor: Any, model_admin: Any):
    request = rf.get("/")
    request.user = editor
    assert model_admin.get_search_fields(request), "search_fields (autocomplete needs them)"
    assert model_admin.list_filter or model_admin.model.__name__ in NO_FILTER_NEEDED, "list_filter"
    for admin_or_inline in [model_admin, *model_admin.get_inline_instances(request)]:
        assert not _unwidgeted_relations(admin_or_inline, request), "use autocomplete_fields or raw_id_fields"
    for column in model_admin.get_list_display(request):
        field = next((f for f in model_admin.model._meta.fields if f.name == column), None)
        if field is not None and field.many_to_one:
            assert column in model_admin.list_select_related, f"{column} in list_display needs list_select_related"


def test_verification_status_follows_the_evidence_saved_in_the_admin(admin_client: Client):
    """Adding a contradicting claim in the admin makes the record disputed; nobody types a status in."""
    partnership = factories.PartnershipFactory(year_established=2001)
    table_1, table_2 = factories.SourceFactory(), factories.SourceFactory()
    url = admin_url(Partnership, "change", partnership.pk)
    data = form_data(admin_client.get(url))
    data.update(
        {
            "claims-TOTAL_FORMS": "2",
            "claims-0-field": "year_established",
            "claims-0-value": "2001",
            "claims-0-source": str(table_2.pk),
            "claims-1-field": "year_established",
            "claims-1-value": "2016",
            "claims-1-source": str(table_1.pk),
        }
    )
    data.pop("verification_status", None)

    response = admin_client.post(url, data)

    assert response.status_code == 302
    partnership.refresh_from_db()
    assert partnership.verification_status == VerificationStatus.DISPUTED
    assert "verification_status" not in form_data(admin_client.get(url))  # shown, not editable
