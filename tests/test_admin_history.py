"""The admin's history page of a record (who changed what when, field by field, with its links and claims) and
revert as a recorded change: restored values, a new event saying what it reverted, refusals that write nothing."""

from __future__ import annotations

import pghistory
import pghistory.core
import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.http import urlencode

from geography.models import Region
from partnerships.models import Partnership
from tests import factories
from tests.helpers import admin_change_form_data

pytestmark = pytest.mark.django_db

PartnershipEvent = Partnership.pgh_event_model


def history_url(record) -> str:
    return reverse("admin:partnerships_partnership_history", args=[record.pk])


def revert_url(record, event, label: str = "") -> str:
    url = reverse("admin:partnerships_partnership_revert", args=[record.pk])
    return f"{url}?{urlencode({'event': f'{label or event._meta.label}:{event.pk}'})}"


def link_event_model():
    return next(
        m for m in pghistory.core.event_models() if m.pgh_tracked_model._meta.concrete_model is Partnership.ngos.through
    )


def updates(record):
    return PartnershipEvent.objects.filter(pgh_obj_id=record.pk, pgh_label="update").order_by("pgh_id")


def change(record, editor, **values):
    """Save new values as an editor's request would (the middleware's context: user and url)."""
    with pghistory.context(user=editor.pk, url=f"/admin/partnerships/partnership/{record.pk}/change/"):
        for name, value in values.items():
            setattr(record, name, value)
        record.save()
    return updates(record).last()


def row_of(response, event):
    """The page's row of ``event`` (events written in one transaction share a time, and a test is one transaction,
    so most tests find rows by event rather than by position; the order has a test of its own)."""
    return next(row for row in response.context["rows"] if row.reference == f"{event._meta.label}:{event.pk}")


def event_count() -> int:
    return sum(m.objects.count() for m in pghistory.core.event_models())


def test_page_lists_a_change_with_its_diff_and_author(admin_client: Client, editor):
    partnership = factories.PartnershipFactory(name="Safe Horizon & NYPD", year_established=2016)
    event = change(partnership, editor, year_established=2001, status="ended", year_ended=2020)

    response = admin_client.get(history_url(partnership))

    assert response.status_code == 200
    rows = response.context["rows"]
    newest = row_of(response, event)
    assert newest.action == "Changed"
    assert newest.who == "editor"
    assert ("Year established", "2016", "2001") in newest.changes
    assert any(name == "Status" and after == "Ended" for name, _, after in newest.changes)
    assert ("Year ended", "—", "2020") in newest.changes
    page = response.content.decode()
    assert "Revert to before this change" in page
    created = next(row for row in rows if row.action == "Created")
    assert ("Name", "Safe Horizon & NYPD") in created.values


def test_page_shows_links_and_claims_with_names_and_who_made_them(admin_client: Client, editor):
    partnership = factories.PartnershipFactory(ngos=[])
    ngo = factories.NGOFactory(name="La Strada International")
    source = factories.SourceFactory(title="Table 2: historical partnerships", publisher="")
    with pghistory.context(command="load_shipped_data"):
        partnership.ngos.add(ngo)
    with pghistory.context(user=editor.pk, import_id=7):
        factories.ClaimFactory(partnership=partnership, field="year_established", value="1995", source=source)
    with pghistory.context(user=editor.pk):
        partnership.ngos.remove(ngo)

    rows = admin_client.get(history_url(partnership)).context["rows"]

    # (Events written in one transaction share a time; a test is one transaction, so no order is asserted here.)
    by_action = {row.action: row for row in rows}
    removed, claim, added = by_action["Link removed: NGOs"], by_action["Added claim"], by_action["Link added: NGOs"]
    assert (removed.link, removed.who) == ("NGO: La Strada International", "editor")
    assert removed.revert_url
    assert claim.who == "editor · import #7"
    assert ("Value", "1995") in claim.values
    assert ("Source", "Table 2: historical partnerships") in claim.values
    assert not claim.revert_url  # a claim is edited in its inline, not reverted from here
    assert (added.link, added.who) == ("NGO: La Strada International", "command load_shipped_data")


def test_a_revert_restores_the_old_value_as_a_recorded_change(admin_client: Client, editor):
    partnership = factories.PartnershipFactory(year_established=2016)
    event = change(partnership, editor, year_established=2001)

    confirm = admin_client.post(revert_url(partnership, event))
    assert confirm.status_code == 200
    assert confirm.context["changes"] == [("Year established", "2001", "2016")]
    partnership.refresh_from_db()
    assert partnership.year_established == 2001  # the confirmation page writes nothing

    response = admin_client.post(revert_url(partnership, event), {"confirm": "yes"})

    assert response.status_code == 302
    assert response["Location"] == history_url(partnership)
    partnership.refresh_from_db()
    assert partnership.year_established == 2016
    revert = updates(partnership).last()
    assert revert.pk != event.pk
    context = revert.pgh_context.metadata
    assert context["revert_of"] == event.pk
    assert context["revert_of_event"] == f"{PartnershipEvent._meta.label}:{event.pk}"
    assert context["user"] == editor.pk
    page = admin_client.get(history_url(partnership))
    newest = row_of(page, revert)
    assert newest.who == f"editor · revert of event {event.pk}"
    assert ("Year established", "2001", "2016") in newest.changes
    assert f"Reverted event {event.pk}" in page.content.decode()


def test_a_stale_revert_is_refused_and_offers_the_newest_change(admin_client: Client, editor):
    partnership = factories.PartnershipFactory(year_established=2016)
    first = change(partnership, editor, year_established=2001)
    second = change(partnership, editor, year_established=1999)
    before = event_count()

    response = admin_client.post(revert_url(partnership, first), {"confirm": "yes"})

    assert response.status_code == 409
    page = response.content.decode()
    assert "changed again after event" in page
    assert response.context["newest_url"] == revert_url(partnership, second)
    partnership.refresh_from_db()
    assert partnership.year_established == 1999
    assert event_count() == before
    # The newest change can be reverted.
    assert admin_client.post(revert_url(partnership, second), {"confirm": "yes"}).status_code == 302
    partnership.refresh_from_db()
    assert partnership.year_established == 2001


def test_a_change_and_a_change_back_since_the_event_also_make_it_stale(admin_client: Client, editor):
    partnership = factories.PartnershipFactory(year_established=2016)
    first = change(partnership, editor, year_established=2001)
    change(partnership, editor, year_established=1999)
    change(partnership, editor, year_established=2001)  # back to what the first event set

    assert admin_client.post(revert_url(partnership, first), {"confirm": "yes"}).status_code == 409
    partnership.refresh_from_db()
    assert partnership.year_established == 2001


def test_a_later_change_of_another_field_does_not_block_the_revert(admin_client: Client, editor):
    partnership = factories.PartnershipFactory(year_established=2016, description="")
    first = change(partnership, editor, year_established=2001)
    change(partnership, editor, description="Now documented.")

    assert admin_client.post(revert_url(partnership, first), {"confirm": "yes"}).status_code == 302
    partnership.refresh_from_db()
    assert (partnership.year_established, partnership.description) == (2016, "Now documented.")


def test_an_event_of_another_record_is_refused(admin_client: Client, editor):
    partnership, other = factories.PartnershipFactory(), factories.PartnershipFactory(year_established=2016)
    event = change(other, editor, year_established=2001)
    before = event_count()

    response = admin_client.post(revert_url(partnership, event), {"confirm": "yes"})

    assert response.status_code == 409
    assert "a change of another partnership" in response.content.decode()
    other.refresh_from_db()
    assert other.year_established == 2001
    assert event_count() == before
    # An event table that is neither the record's nor its links': not found.
    assert admin_client.post(revert_url(partnership, event, label="provenance.ClaimEvent")).status_code == 404
    event.pk = 10**9
    assert admin_client.post(revert_url(partnership, event)).status_code == 404  # no such event
    bare = reverse("admin:partnerships_partnership_revert", args=[partnership.pk])
    for query in ("", "?event=nonsense", "?event=partnerships.PartnershipEvent:x"):
        assert admin_client.post(bare + query).status_code == 404


def test_a_creation_cannot_be_reverted(admin_client: Client):
    partnership = factories.PartnershipFactory()
    created = PartnershipEvent.objects.get(pgh_obj_id=partnership.pk, pgh_label="insert")
    response = admin_client.post(revert_url(partnership, created), {"confirm": "yes"})
    assert response.status_code == 409
    assert "only a change of its fields can be reverted" in response.content.decode()
    assert Partnership.objects.filter(pk=partnership.pk).exists()


def test_a_revert_that_fails_full_clean_is_refused_and_writes_nothing(admin_client: Client, editor):
    partnership = factories.PartnershipFactory(status="ended", year_established=2010, year_ended=2015)
    cleared = change(partnership, editor, year_ended=None)
    change(partnership, editor, status="active")  # an end year is only allowed for an ended partnership
    before = event_count()

    response = admin_client.post(revert_url(partnership, cleared), {"confirm": "yes"})

    assert response.status_code == 409
    page = response.content.decode()
    assert "not valid for the record any more" in page
    assert "Only an ended partnership can have an end year." in page
    partnership.refresh_from_db()
    assert partnership.year_ended is None
    assert event_count() == before


def test_reverting_a_link_added_removes_it_and_a_link_removed_adds_it_back(admin_client: Client, editor):
    partnership = factories.PartnershipFactory(ngos=[])
    ngo = factories.NGOFactory(name="Safe Horizon")
    links = link_event_model()
    with pghistory.context(user=editor.pk):
        partnership.ngos.add(ngo)
    added = links.objects.get(partnership_id=partnership.pk, pgh_label="add")

    confirm = admin_client.post(revert_url(partnership, added))
    assert "removes the link to Safe Horizon" in confirm.content.decode()
    assert admin_client.post(revert_url(partnership, added), {"confirm": "yes"}).status_code == 302
    assert not partnership.ngos.exists()
    removed = links.objects.get(partnership_id=partnership.pk, pgh_label="remove")
    assert removed.pgh_context.metadata["revert_of"] == added.pk

    assert admin_client.post(revert_url(partnership, removed), {"confirm": "yes"}).status_code == 302
    assert list(partnership.ngos.all()) == [ngo]
    # The first add is stale now (removed and added again since).
    assert admin_client.post(revert_url(partnership, added), {"confirm": "yes"}).status_code == 409
    assert list(partnership.ngos.all()) == [ngo]


def test_a_field_the_editor_cannot_set_is_not_reverted(admin_client: Client, editor):
    # verification_status is derived from the evidence (read-only in the form): no button, and a POST is refused.
    partnership = factories.PartnershipFactory(verification_status="unverified")
    event = change(partnership, editor, verification_status="corroborated")
    assert not row_of(admin_client.get(history_url(partnership)), event).revert_url
    response = admin_client.post(revert_url(partnership, event), {"confirm": "yes"})
    assert response.status_code == 409
    partnership.refresh_from_db()
    assert partnership.verification_status == "corroborated"


def test_anonymous_users_are_sent_to_the_login(anon_client: Client, editor):
    partnership = factories.PartnershipFactory(year_established=2016)
    event = change(partnership, editor, year_established=2001)
    for response in (
        anon_client.get(history_url(partnership)),
        anon_client.post(revert_url(partnership, event), {"confirm": "yes"}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    partnership.refresh_from_db()
    assert partnership.year_established == 2001


def test_a_revert_needs_the_change_permission(editor):
    partnership = factories.PartnershipFactory(year_established=2016)
    event = change(partnership, editor, year_established=2001)
    staff = factories.UserFactory(username="reader", is_staff=True)
    client = Client()
    client.force_login(staff)

    assert client.get(history_url(partnership)).status_code == 403  # no permission at all

    staff.user_permissions.add(Permission.objects.get(codename="view_partnership"))
    page = client.get(history_url(partnership))
    assert page.status_code == 200
    assert "Revert to before this change" not in page.content.decode()
    assert client.post(revert_url(partnership, event), {"confirm": "yes"}).status_code == 403
    partnership.refresh_from_db()
    assert partnership.year_established == 2001


def test_a_cross_site_revert_without_csrf_token_is_refused(editor):
    partnership = factories.PartnershipFactory(year_established=2016)
    event = change(partnership, editor, year_established=2001)
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    assert client.post(revert_url(partnership, event), {"confirm": "yes"}).status_code == 403
    partnership.refresh_from_db()
    assert partnership.year_established == 2001


@pytest.mark.django_db(transaction=True)  # each write committed: each event has its own time, as in real use
def test_events_are_listed_newest_first_across_the_record_its_links_and_claims(admin_client: Client, editor):
    partnership = factories.PartnershipFactory(ngos=[], year_established=2016)
    change(partnership, editor, year_established=2001)
    with pghistory.context(user=editor.pk):
        partnership.ngos.add(factories.NGOFactory(name="Safe Horizon"))
    factories.ClaimFactory(partnership=partnership, value="2001")
    change(partnership, editor, description="Documented.")

    actions = [row.action for row in admin_client.get(history_url(partnership)).context["rows"]]

    assert actions[:4] == ["Changed", "Added claim", "Link added: NGOs", "Changed"]
    assert actions[-1] == "Created"


def seed_history(partnership, editor, rounds: int) -> None:
    """Updates, links added and removed, and claims, by several users and a command."""
    users = [editor, *(factories.UserFactory(username=f"editor{i}") for i in range(3))]
    ngos = [factories.NGOFactory() for _ in range(3)]
    source = factories.SourceFactory()
    for i in range(rounds):
        with pghistory.context(user=users[i % len(users)].pk):
            partnership.year_established = 1990 + i % 30
            partnership.save()
            partnership.ngos.add(ngos[i % 3])
            factories.ClaimFactory(
                partnership=partnership, field="year_established", value=str(1990 + i), source=source
            )
        with pghistory.context(command="load_shipped_data"):
            partnership.ngos.remove(ngos[i % 3])


def page_queries(client: Client, partnership) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(history_url(partnership))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db(transaction=True)  # each write committed: each event has its own time, as in real use
def test_the_page_reads_a_fixed_number_of_queries_whatever_the_number_of_events(
    admin_client: Client, editor, django_assert_max_num_queries
):
    medium, large = factories.PartnershipFactory(), factories.PartnershipFactory()
    seed_history(medium, editor, rounds=15)  # 60 events and more: two pages
    seed_history(large, editor, rounds=40)  # 160 events and more: four pages

    assert page_queries(admin_client, large) == page_queries(admin_client, medium)
    # BEGIN, session, user, the record, COUNT, the page's events, their users, the NGOs and the sources named, COMMIT.
    with django_assert_max_num_queries(10):
        response = admin_client.get(history_url(large))
    assert len(response.context["rows"]) == 50
    pages = response.context["page_obj"].paginator.num_pages
    assert pages == 4
    # The last page names more kinds of record (the creation's region, jurisdiction, police department): one query
    # per kind, whatever the number of events.
    with django_assert_max_num_queries(13):
        last = admin_client.get(history_url(large), {"p": pages})
    assert "Created" in {row.action for row in last.context["rows"]}


def test_the_recent_changes_box_links_to_the_history_page(admin_client: Client):
    partnership = factories.PartnershipFactory()
    page = admin_client.get(reverse("admin:partnerships_partnership_change", args=[partnership.pk])).content.decode()
    assert "Recent changes" in page
    assert f'href="{history_url(partnership)}"' in page


def test_a_region_history_lists_its_own_events_not_every_partnership_in_it(admin_client: Client):
    region = factories.RegionFactory(name="Europe")
    factories.PartnershipFactory(region=region)

    response = admin_client.get(reverse("admin:geography_region_history", args=[region.pk]))

    assert response.status_code == 200
    assert [row.action for row in response.context["rows"]] == ["Created"]
    assert admin.site._registry[Region].history_record_events(region).count() == 1
    assert f"obj=geography.Region:{region.pk}" in response.content.decode()  # the events admin, for the raw data


def test_reverting_the_removal_of_a_link_to_a_deleted_record_is_refused(admin_client: Client, editor):
    partnership = factories.PartnershipFactory(ngos=[])
    ngo = factories.NGOFactory(name="Gone")
    partnership.ngos.add(ngo)
    with pghistory.context(user=editor.pk):
        partnership.ngos.remove(ngo)
    removed = link_event_model().objects.get(partnership_id=partnership.pk, pgh_label="remove")
    ngo.delete()

    response = admin_client.post(revert_url(partnership, removed), {"confirm": "yes"})

    assert response.status_code == 409
    assert "no longer exists" in response.content.decode()
    assert not partnership.ngos.exists()
    assert "NGO: #" in row_of(admin_client.get(history_url(partnership)), removed).link


def test_an_edit_in_the_change_form_is_on_the_page_and_can_be_reverted(admin_client: Client):
    partnership = factories.PartnershipFactory(year_established=2016)
    change_url = reverse("admin:partnerships_partnership_change", args=[partnership.pk])
    data = admin_change_form_data(admin_client.get(change_url), year_established="2001")
    assert admin_client.post(change_url, data).status_code == 302

    page = admin_client.get(history_url(partnership))
    edit = next(row for row in page.context["rows"] if ("Year established", "2016", "2001") in row.changes)
    assert edit.who == "editor"

    confirm = admin_client.post(edit.revert_url)
    assert confirm.status_code == 200
    assert admin_client.post(edit.revert_url, {"confirm": "yes"}).status_code == 302
    partnership.refresh_from_db()
    assert partnership.year_established == 2016


def test_an_editor_who_may_not_publish_cannot_unpublish_by_reverting(admin_client: Client, editor):
    partnership = factories.PartnershipFactory(is_published=False)
    published = change(partnership, editor, is_published=True)  # a reviewer published it
    staff = factories.UserFactory(username="drafter", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_partnership", "change_partnership"]))
    client = Client()
    client.force_login(staff)

    assert not row_of(client.get(history_url(partnership)), published).revert_url
    response = client.post(revert_url(partnership, published), {"confirm": "yes"})

    assert response.status_code == 409
    assert "which you cannot set here" in response.content.decode()
    partnership.refresh_from_db()
    assert partnership.is_published
    # Whoever may publish can (the publication time stays: the database keeps it once set).
    assert admin_client.post(revert_url(partnership, published), {"confirm": "yes"}).status_code == 302
    partnership.refresh_from_db()
    assert not partnership.is_published
    assert partnership.first_published_at is not None
