"""Editorial roles: what an anonymous visitor, a staff user without a role, an editor, a reviewer and an
administrator can do in the admin and the API (a matrix, one row per role), and ``sync_roles``.

Editors create and change records but save drafts only; reviewers also publish and unpublish; administrators
also delete and manage users. Each allowed write is checked in the database, not only by its status code."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.roles import ADMINISTRATORS, EDITORS, REVIEWERS, ROLE_DESCRIPTIONS, registry_apps
from accounts.services import roles_sync
from partnerships.models import Partnership
from tests import factories
from tests.helpers import admin_change_form_data

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "staff", "editor", "reviewer", "administrator"]
GROUP_OF = {"editor": EDITORS, "reviewer": REVIEWERS, "administrator": ADMINISTRATORS}

CHANGELIST = reverse("admin:partnerships_partnership_changelist")
ADD = reverse("admin:partnerships_partnership_add")
USERS = reverse("admin:auth_user_changelist")
API_LIST = "/api/v1/partnerships/"

# Admin answers: 302 sends an anonymous visitor to the login page; 403 is a logged-in user without the permission.
LOGIN = 302


def change_url(pk: int) -> str:
    return reverse("admin:partnerships_partnership_change", args=[pk])


def delete_url(pk: int) -> str:
    return reverse("admin:partnerships_partnership_delete", args=[pk])


@pytest.fixture(autouse=True)
def roles() -> None:
    roles_sync()


def user_with(role: str) -> Any:
    if role == "anonymous":
        return None
    user = factories.UserFactory(username=f"{role}-user", is_staff=True)
    if role in GROUP_OF:
        user.groups.add(Group.objects.get(name=GROUP_OF[role]))
    return user


def admin_client_for(role: str) -> Client:
    client = Client()
    user = user_with(role)
    if user is not None:
        client.force_login(user)
    return client


def api_client_for(role: str) -> Client:
    user = user_with(role)
    if user is None:
        return Client()
    return Client(headers={"Authorization": f"Token {Token.objects.create(user=user).key}"})


def unchanged_form(partnership: Partnership, **changes: Any) -> dict[str, Any]:
    """The change form's POST data as a superuser's browser shows it (a role without access cannot load it)."""
    superuser = Client()
    superuser.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    return admin_change_form_data(superuser.get(change_url(partnership.pk)), **changes)


def send(client: Client, method: str, url: str, body: dict[str, Any], **headers: str) -> Any:
    return getattr(client, method)(url, json.dumps(body), content_type="application/json", headers=headers)


def new_partnership_body(*, publish: bool) -> dict[str, Any]:
    jurisdiction = factories.JurisdictionFactory()
    return {
        "name": "Safe Streets & City Police",
        "slug": "safe-streets-city-police",
        "region": factories.RegionFactory().slug,
        "jurisdiction": jurisdiction.slug,
        "ngos": [factories.NGOFactory(jurisdiction=jurisdiction).slug],
        "sources": [factories.SourceFactory(tier="secondary").slug],
        "is_published": publish,
    }


# --- The admin ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "changelist", "add_page", "users"),
    [
        # role            partnerships list  add page  users admin
        ("anonymous", LOGIN, LOGIN, LOGIN),
        ("staff", 403, 403, 403),
        ("editor", 200, 200, 403),
        ("reviewer", 200, 200, 403),
        ("administrator", 200, 200, 200),
    ],
)
def test_admin_pages_by_role(role: str, changelist: int, add_page: int, users: int) -> None:
    factories.PartnershipFactory()
    client = admin_client_for(role)
    assert client.get(CHANGELIST).status_code == changelist
    assert client.get(ADD).status_code == add_page
    assert client.get(USERS).status_code == users


@pytest.mark.parametrize(
    ("role", "status", "saved"),
    [
        ("anonymous", LOGIN, False),
        ("staff", 403, False),
        ("editor", 302, True),
        ("reviewer", 302, True),
        ("administrator", 302, True),
    ],
)
def test_admin_change_by_role(role: str, status: int, saved: bool) -> None:
    partnership = factories.PartnershipFactory(name="Old name")
    data = unchanged_form(partnership, name="New name")
    response = admin_client_for(role).post(change_url(partnership.pk), data)
    assert response.status_code == status, getattr(response, "context_data", None) and response.context_data.get(
        "errors"
    )
    partnership.refresh_from_db()
    assert (partnership.name == "New name") is saved


@pytest.mark.parametrize(
    ("role", "status", "deleted"),
    [
        ("anonymous", LOGIN, False),
        ("staff", 403, False),
        ("editor", 403, False),
        ("reviewer", 403, False),
        ("administrator", 302, True),
    ],
)
def test_admin_delete_by_role(role: str, status: int, deleted: bool) -> None:
    partnership = factories.PartnershipFactory()
    response = admin_client_for(role).post(delete_url(partnership.pk), {"post": "yes"})
    assert response.status_code == status
    assert Partnership.objects.filter(pk=partnership.pk).exists() is not deleted


@pytest.mark.parametrize(
    ("role", "published"),
    [
        ("anonymous", False),
        ("staff", False),
        ("editor", False),
        ("reviewer", True),
        ("administrator", True),
    ],
)
def test_admin_publish_action_by_role(role: str, published: bool) -> None:
    draft = factories.PartnershipFactory(is_published=False)
    client = admin_client_for(role)
    response = client.post(CHANGELIST, {"action": "publish", "_selected_action": [draft.pk]})
    assert response.status_code in {302, 403}
    draft.refresh_from_db()
    assert draft.is_published is published
    if role in GROUP_OF:
        # The action is offered only to those who may use it.
        context = client.get(CHANGELIST).context_data
        assert context is not None
        offered = "publish" in dict(context["action_form"].fields["action"].choices)
        assert offered is published


@pytest.mark.parametrize(("role", "published"), [("editor", False), ("reviewer", True), ("administrator", True)])
def test_publishing_on_the_change_form_needs_a_reviewer(role: str, published: bool) -> None:
    """An editor's change form shows "published" read-only: the edit is saved, the record stays a draft."""
    draft = factories.PartnershipFactory(is_published=False, name="Draft")
    data = unchanged_form(draft, name="Edited draft", is_published="on")
    client = admin_client_for(role)
    page = client.get(change_url(draft.pk)).content.decode()
    assert ('name="is_published"' in page) is published
    assert client.post(change_url(draft.pk), data).status_code == 302
    draft.refresh_from_db()
    assert draft.name == "Edited draft"
    assert draft.is_published is published


@pytest.mark.parametrize(("role", "unpublished"), [("editor", False), ("reviewer", True)])
def test_unpublish_action_needs_a_reviewer(role: str, unpublished: bool) -> None:
    record = factories.PartnershipFactory(is_published=True)
    admin_client_for(role).post(CHANGELIST, {"action": "unpublish", "_selected_action": [record.pk]})
    record.refresh_from_db()
    assert record.is_published is not unpublished


def test_list_editable_publish_column_is_disabled_for_editors(rf: Any) -> None:
    """If a changelist offers "published" in list_editable, an editor's value is ignored (the field is disabled)."""
    from django.contrib import admin

    model_admin = admin.site._registry[Partnership]
    model_admin.list_editable = ["is_published"]
    try:
        for role, disabled in (("editor", True), ("reviewer", False)):
            request = rf.get(CHANGELIST)
            request.user = user_with(role)
            formset = model_admin.get_changelist_formset(request)
            assert formset.form.base_fields["is_published"].disabled is disabled
    finally:
        del model_admin.list_editable


# --- The API -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "create_draft", "create_published", "patch", "unpublish", "delete"),
    [
        # role            POST draft  POST published  PATCH name  PATCH unpublish  DELETE
        ("anonymous", 401, 401, 401, 401, 405),
        ("staff", 403, 403, 403, 403, 405),
        ("editor", 201, 403, 200, 403, 405),
        ("reviewer", 201, 201, 200, 200, 405),
        ("administrator", 201, 201, 200, 200, 405),
    ],
)
def test_api_by_role(role: str, create_draft: int, create_published: int, patch: int, unpublish: int, delete: int):
    client = api_client_for(role)
    draft_body = new_partnership_body(publish=False)
    response = send(client, "post", API_LIST, draft_body)
    assert response.status_code == create_draft, response.content
    assert Partnership.objects.filter(slug=draft_body["slug"], is_published=False).exists() is (create_draft == 201)

    published_body = {**new_partnership_body(publish=True), "slug": "published-at-once"}
    response = send(client, "post", API_LIST, published_body)
    assert response.status_code == create_published, response.content
    assert Partnership.objects.filter(slug="published-at-once").exists() is (create_published == 201)
    if create_published == 403 and role != "staff":
        assert "verify" in response.json()["errors"][0]["detail"]

    record = factories.PartnershipFactory(is_published=True, name="Old name")
    url = f"{API_LIST}{record.slug}/"
    response = send(client, "patch", url, {"name": "New name"}, **{"If-Match": "*"})
    assert response.status_code == patch, response.content
    response = send(client, "patch", url, {"is_published": False}, **{"If-Match": "*"})
    assert response.status_code == unpublish, response.content
    record.refresh_from_db()
    assert (record.name == "New name") is (patch == 200)
    assert record.is_published is not (unpublish == 200)

    assert client.delete(f"{API_LIST}{factories.PartnershipFactory().slug}/").status_code == delete


def test_an_editor_may_resend_an_unchanged_published_flag() -> None:
    """A PATCH whose body repeats the current is_published changes no publication: editors may send it."""
    record = factories.PartnershipFactory(is_published=True)
    client = api_client_for("editor")
    body = {"name": "Renamed", "is_published": True}
    assert send(client, "patch", f"{API_LIST}{record.slug}/", body, **{"If-Match": "*"}).status_code == 200


def test_reviewers_and_administrators_may_resolve_disputes_editors_may_not() -> None:
    assert not user_with("editor").has_perm("accounts.resolve_dispute")
    assert user_with("reviewer").has_perm("accounts.resolve_dispute")
    assert user_with("administrator").has_perm("accounts.resolve_dispute")
    assert not user_with("staff").has_perm("accounts.verify_record")


# --- The roles themselves ----------------------------------------------------------------------------------


def perms_of(name: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=name).permissions.values_list("content_type__app_label", "codename")
    }


def test_every_model_of_the_registry_apps_is_in_the_editors_role() -> None:
    """Derived from the installed apps: a model added later joins the roles with no edit to accounts.roles."""
    editors = perms_of(EDITORS)
    own_models = [model for config in registry_apps() for model in config.get_models()]
    assert {"partnerships", "provenance", "legal", "cases", "geography"} <= {m._meta.app_label for m in own_models}
    for model in own_models:
        label, name = model._meta.app_label, model._meta.model_name
        if "view" in model._meta.default_permissions:
            assert f"{label}.view_{name}" in editors
        if "delete" in model._meta.default_permissions:
            assert f"{label}.delete_{name}" not in editors
        if "add" in model._meta.default_permissions and not hasattr(model, "pgh_tracked_model"):
            assert f"{label}.add_{name}" in editors
            assert f"{label}.change_{name}" in editors
    assert "provenance.add_claim" in editors
    assert "partnerships.change_partnershipsourceslink" in editors
    assert not any(p.startswith(("auth.", "authtoken.")) for p in editors)
    assert "accounts.verify_record" not in editors


def test_reviewers_are_editors_plus_verifying_and_administrators_hold_everything() -> None:
    assert perms_of(REVIEWERS) == perms_of(EDITORS) | {"accounts.verify_record", "accounts.resolve_dispute"}
    administrators = perms_of(ADMINISTRATORS)
    assert Permission.objects.count() == len(administrators)
    assert {"auth.change_user", "auth.change_group", "authtoken.add_tokenproxy", "partnerships.delete_partnership"} <= (
        administrators
    )


def test_sync_roles_is_idempotent_and_repairs_drift() -> None:
    first = StringIO()
    call_command("sync_roles", stdout=first)
    assert "up to date" in first.getvalue()  # the fixture (and migrate) already synced
    before = {name: perms_of(name) for name in (EDITORS, REVIEWERS, ADMINISTRATORS)}

    editors = Group.objects.get(name=EDITORS)
    editors.permissions.remove(Permission.objects.get(codename="add_partnership"))
    editors.permissions.add(Permission.objects.get(codename="delete_partnership"))
    Group.objects.get(name=REVIEWERS).delete()

    repaired = StringIO()
    call_command("sync_roles", stdout=repaired)
    out = repaired.getvalue()
    assert "Created group Reviewers." in out
    assert "Editors: added 1 permission (partnerships.add_partnership)." in out
    assert "Editors: removed 1 permission (partnerships.delete_partnership)." in out
    assert {name: perms_of(name) for name in before} == before

    again = StringIO()
    call_command("sync_roles", stdout=again)
    assert "up to date" in again.getvalue()
    assert roles_sync() == []


def test_groups_admin_describes_each_role() -> None:
    client = admin_client_for("administrator")
    url = reverse("admin:auth_group_changelist")
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as three_groups:
        client.get(url)
    for n in range(4):
        Group.objects.create(name=f"Other group {n}")
    with CaptureQueriesContext(connection) as seven_groups:
        page = client.get(url)
    assert len(seven_groups) == len(three_groups) <= 10
    assert page.status_code == 200
    content = page.content.decode()
    for description in ROLE_DESCRIPTIONS.values():
        assert description in content
    detail = client.get(reverse("admin:auth_group_change", args=[Group.objects.get(name=REVIEWERS).pk]))
    assert ROLE_DESCRIPTIONS[REVIEWERS] in detail.content.decode()
