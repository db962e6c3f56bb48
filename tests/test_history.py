"""Every change is on the record: each tracked model gets a history event for every kind of write (ORM, bulk,
queryset, raw SQL), events can never be edited or erased, and each event says who or what caused it, without
keeping what was typed into a form or put in a query string."""

from __future__ import annotations

import json
from typing import Any

import pghistory
import pghistory.models
import pgtrigger
import psycopg.errors
import pytest
from django.apps import apps
from django.contrib import admin
from django.db import ProgrammingError, connection, models, transaction
from django.test import Client, override_settings

from partnerships.models import Partnership, PartnershipStatus
from provenance.models import Claim, Source
from registry.history import command_context
from tests import factories
from tests.helpers import admin_change_form_data

pytestmark = pytest.mark.django_db

# Models deliberately left without history, each with its reason. Event models themselves are exempt as a
# rule (they *are* the history). The database cache table (``registry_cache``) is not a model and holds
# nothing but cache entries.
UNTRACKED: dict[str, str] = {
    "pghistory.Context": "history's own context rows (who, which URL, which command); append-only by design",
    "pghistory.Events": "read-only aggregate view over the event tables; no table of its own",
    "pghistory.MiddlewareEvents": "proxy of pghistory.Events adding user and URL columns; no table of its own",
    "admin.LogEntry": "Django admin's own change log; a second log of the log adds nothing",
    "auth.Permission": "framework bookkeeping, rebuilt by migrate from the code",
    "auth.Group_permissions": "framework bookkeeping: which permissions a group grants",
    "contenttypes.ContentType": "framework bookkeeping, rebuilt by migrate from the code",
    "sessions.Session": "short-lived login sessions; copying them into an append-only table would keep secrets",
    "auth.User": (
        "editor accounts hold password hashes and e-mail addresses; append-only copies could never be erased, "
        "and nobody who writes to the registry may be exposed. Edits are attributed by user id in the context."
    ),
    "auth.Group": "editor roles (framework bookkeeping); changes are in the admin log",
    "auth.User_groups": "editor account membership; same privacy reason as auth.User",
    "auth.User_user_permissions": "editor account permissions; same privacy reason as auth.User",
    "authtoken.Token": (
        "editors' API tokens are credentials: append-only copies of the keys could never be revoked or erased. "
        "Writes made with a token are attributed by user id in the context."
    ),
    "authtoken.TokenProxy": "proxy of authtoken.Token for DRF's token admin; same reason, no table of its own",
    "inquiries.Requester": (
        "contact details of members of the public who send requests: personal data, erased on demand and after "
        "the retention period, so never copied into append-only history (README, Information requests)"
    ),
    "accounts.Editorial": "a table-less model that only holds the roles' custom permissions (accounts/models.py)",
    "axes.AccessAttempt": (
        "failed admin logins (user names tried, addresses): login-throttling counters that expire; editors' "
        "personal data, never copied into append-only history"
    ),
    "axes.AccessAttemptExpiration": "expiry times of axes.AccessAttempt rows; same reason",
    "axes.AccessFailureLog": "axes' log of failed logins (off: AXES_DISABLE_ACCESS_LOG); same reason",
    "axes.AccessLog": "axes' log of successful logins (off: AXES_DISABLE_ACCESS_LOG); same reason",
    "imports.ImportBatch": (
        "the record of an import run itself (file name, checksum, counts, who); every row it wrote is in history "
        "with the batch id in its context"
    ),
    "imports.ImportUpload": "an uploaded file kept between an admin dry run and its apply, deleted after",
}


def _event_models() -> list[Any]:  # event classes are generated at runtime; mypy sees only the base
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if issubclass(model, pghistory.models.Event) and model.pgh_tracked_model is not None
    ]


EVENT_MODELS = _event_models()
# A model counts as tracked when it, or a proxy of it (pghistory's pattern for many-to-many "through" tables),
# has an event model.
TRACKED_MODELS = {event_model.pgh_tracked_model._meta.concrete_model for event_model in EVENT_MODELS}


def _label(model: type[models.Model]) -> str:
    return model._meta.label


def one_of_everything() -> Partnership:
    """A row in every tracked table, every many-to-many link included."""
    practice = factories.SurveillancePracticeFactory.create()
    # The partnership factory also makes an NGO, a police department, a source, a region and a jurisdiction.
    partnership = factories.PartnershipFactory.create(focus_areas=[factories.FocusAreaFactory.create()])
    partnership.surveillance_practices.add(practice)
    factories.MechanismAssessmentFactory.create(partnership=partnership)
    factories.ClaimFactory.create(partnership=partnership)
    factories.ObjectiveFactory.create()
    factories.ChallengeFactory.create()
    factories.StakeholderGroupFactory.create()
    instrument = factories.LegalInstrumentFactory.create()
    instrument.topics.add(factories.LegalTopicFactory.create())
    factories.OversightBodyFactory.create().instruments.add(instrument)
    case = factories.OverreachCaseFactory.create()
    case.partnerships.add(partnership)
    case.surveillance_methods.add(practice)
    case.issues.add(factories.IssueTypeFactory.create())
    factories.CaseQuoteFactory.create(case=case)
    factories.InformationRequestFactory.create(record_id=partnership.pk)
    factories.DisputeResolutionFactory.create(partnership=partnership)
    return partnership


def bare_partnership(**kwargs: Any) -> Partnership:
    """A partnership with no many-to-many links, so raw SQL can delete it without touching other tables."""
    return factories.PartnershipFactory.create(ngos=[], police_departments=[], sources=[], **kwargs)


def labels(obj: models.Model) -> list[str]:
    """The record's history, oldest first, as event labels."""
    event_model = type(obj).pgh_event_model
    return list(event_model.objects.filter(pgh_obj_id=obj.pk).order_by("pgh_id").values_list("pgh_label", flat=True))


def partnership_events(label: str) -> models.QuerySet[Any]:
    return Partnership.pgh_event_model.objects.filter(pgh_label=label)


# --- Coverage --------------------------------------------------------------------------------------------------


def test_every_model_is_tracked_or_explicitly_exempt() -> None:
    untracked = sorted(
        _label(model)
        for model in apps.get_models(include_auto_created=True)
        if not issubclass(model, pghistory.models.Event)
        and model._meta.concrete_model not in TRACKED_MODELS
        and _label(model) not in UNTRACKED
    )
    assert untracked == [], (
        f"Models without history: {untracked}. Track them (registry.history.track_changes / track_m2m) "
        "or add them to UNTRACKED with the reason."
    )


def test_exemptions_name_real_untracked_models() -> None:
    installed = {_label(model): model for model in apps.get_models(include_auto_created=True)}
    stale = sorted(label for label in UNTRACKED if label not in installed or installed[label] in TRACKED_MODELS)
    assert stale == []


def test_plain_tables_record_insert_update_delete_and_link_tables_add_remove() -> None:
    expected = {True: {"add", "remove"}, False: {"insert", "update", "delete"}}  # keyed by "is a link table"
    wrong = {}
    for event_model in EVENT_MODELS:
        tracked = event_model.pgh_tracked_model._meta.concrete_model
        trackers = {tracker.label for tracker in event_model.pgh_trackers or []}
        if trackers != expected[bool(tracked._meta.auto_created)]:
            wrong[_label(tracked)] = trackers
    assert wrong == {}


def test_every_history_trigger_is_installed_in_the_database() -> None:
    tracked_or_event = TRACKED_MODELS | {e.pgh_tracked_model for e in EVENT_MODELS} | set(EVENT_MODELS)
    not_installed = sorted(
        f"{model._meta.label}.{trigger.name}"
        for model, trigger in pgtrigger.registered()
        if model in tracked_or_event and trigger.get_installation_status(model)[0] != "INSTALLED"
    )
    assert not_installed == []


def test_creating_one_of_everything_leaves_an_event_in_every_event_table() -> None:
    one_of_everything()
    empty = [_label(m) for m in EVENT_MODELS if not m.objects.filter(pgh_label__in=["insert", "add"]).exists()]
    assert empty == []


def test_no_event_table_accepts_an_update_or_a_delete() -> None:
    one_of_everything()
    for model in EVENT_MODELS:  # an event table the triggers left empty gets one event written by hand
        if not model.objects.exists():
            tracked = model.pgh_tracked_model
            label = next(iter(model.pgh_trackers or [])).label
            pghistory.create_event(tracked.objects.first(), label=label)
    counts = {model: model.objects.count() for model in EVENT_MODELS}
    assert all(counts.values())
    not_refused = {}
    for model in EVENT_MODELS:
        table = connection.ops.quote_name(model._meta.db_table)
        for sql in (f"UPDATE {table} SET pgh_label = 'forged'", f"DELETE FROM {table}"):
            outcome = "accepted"
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(sql)
            except ProgrammingError as error:  # psycopg's RaiseException (SQLSTATE P0001), as Django wraps it
                refused = isinstance(error.__cause__, psycopg.errors.RaiseException)
                outcome = (
                    "refused" if refused and "pgtrigger: Cannot update or delete rows" in str(error) else str(error)
                )
            if outcome != "refused":
                not_refused[f"{_label(model)}: {sql.split()[0]}"] = outcome
    assert not_refused == {}
    assert {model: model.objects.count() for model in EVENT_MODELS} == counts
    assert not any(m.objects.filter(pgh_label="forged").exists() for m in EVENT_MODELS)


# --- Every kind of write, one event per row ---------------------------------------------------------------------


def test_create_records_one_insert_event_with_the_new_row() -> None:
    partnership = bare_partnership(name="Safe Horizon & NYPD")
    event = partnership_events("insert").get(pgh_obj_id=partnership.pk)
    assert (event.name, event.year_established) == ("Safe Horizon & NYPD", 2015)


def test_save_records_one_update_event_with_the_changed_row() -> None:
    partnership = bare_partnership()
    partnership.year_established = 2001
    partnership.save()
    assert labels(partnership) == ["insert", "update"]
    assert partnership_events("update").get(pgh_obj_id=partnership.pk).year_established == 2001


def test_save_without_a_change_records_no_event() -> None:
    partnership = bare_partnership()
    partnership.save()
    assert labels(partnership) == ["insert"]


def test_save_of_only_unchanged_fields_records_no_event() -> None:
    partnership = bare_partnership()
    partnership.save(update_fields=["name", "year_established"])
    Partnership.objects.filter(pk=partnership.pk).update(status=partnership.status)
    assert labels(partnership) == ["insert"]


def test_queryset_update_records_one_event_per_row() -> None:
    rows = [bare_partnership() for _ in range(3)]
    Partnership.objects.filter(pk__in=[p.pk for p in rows]).update(status=PartnershipStatus.ACTIVE)
    events = partnership_events("update")
    assert sorted(events.values_list("pgh_obj_id", flat=True)) == sorted(p.pk for p in rows)
    assert set(events.values_list("status", flat=True)) == {PartnershipStatus.ACTIVE}


def test_bulk_create_and_bulk_update_record_one_event_per_row() -> None:
    template = bare_partnership()
    created = Partnership.objects.bulk_create(
        Partnership(name=f"Bulk {n}", slug=f"bulk-{n}", region=template.region, jurisdiction=template.jurisdiction)
        for n in range(3)
    )
    for row in created:
        row.year_established = 2010
    Partnership.objects.bulk_update(created, ["year_established"])
    for row in created:
        assert labels(row) == ["insert", "update"]
    assert partnership_events("update").filter(year_established=2010).count() == 3


def test_delete_and_queryset_delete_record_one_event_per_row_with_the_old_row() -> None:
    single, *others = (bare_partnership(name=f"Gone {n}") for n in range(3))
    single.delete()
    Partnership.objects.filter(pk__in=[p.pk for p in others]).delete()
    deleted = partnership_events("delete")
    assert sorted(deleted.values_list("name", flat=True)) == ["Gone 0", "Gone 1", "Gone 2"]
    assert not Partnership.objects.exists()


def test_raw_sql_update_and_delete_are_recorded_too() -> None:
    rows = [bare_partnership() for _ in range(2)]
    ids = [p.pk for p in rows]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE partnerships_partnership SET year_established = 2001 WHERE id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM partnerships_partnership WHERE id = ANY(%s)", [ids])
    for row in rows:
        assert labels(row) == ["insert", "update", "delete"]
    assert list(partnership_events("update").values_list("year_established", flat=True)) == [2001, 2001]


def test_deleting_a_partnership_records_the_deletion_of_its_cascaded_claims() -> None:
    partnership = bare_partnership()
    claim = factories.ClaimFactory.create(partnership=partnership)
    partnership.delete()
    assert labels(claim) == ["insert", "delete"]


def link_events(field: Any) -> models.QuerySet[Any]:
    """Events of a many-to-many relation's link table (tracked directly or through a proxy)."""
    through = field.remote_field.through
    (event_model,) = (m for m in EVENT_MODELS if m.pgh_tracked_model._meta.concrete_model is through)
    return event_model.objects.order_by("pgh_id")


def test_adding_and_removing_an_ngo_records_add_and_remove_events() -> None:
    partnership = bare_partnership()
    ngo, other = factories.NGOFactory.create(), factories.NGOFactory.create()
    partnership.ngos.add(ngo)
    partnership.ngos.remove(ngo)
    partnership.ngos.set([ngo, other])
    partnership.ngos.clear()
    partnership.ngos.add(ngo)
    partnership_id = partnership.pk
    partnership.delete()  # the link goes with the partnership
    events = link_events(Partnership._meta.get_field("ngos")).filter(partnership_id=partnership_id, ngo_id=ngo.pk)
    assert list(events.values_list("pgh_label", flat=True)) == ["add", "remove", "add", "remove", "add", "remove"]
    assert link_events(Partnership._meta.get_field("ngos")).filter(ngo_id=other.pk).count() == 2


def test_the_record_history_reads_in_order_from_the_aggregate_events_view() -> None:
    partnership = bare_partnership()
    Partnership.objects.filter(pk=partnership.pk).update(name="Renamed")
    history = pghistory.models.Events.objects.tracks(partnership).order_by("pgh_id")
    assert [(e.pgh_label, e.pgh_data["name"]) for e in history] == [
        ("insert", partnership.name),
        ("update", "Renamed"),
    ]
    assert history.last().pgh_diff["name"] == [partnership.name, "Renamed"]


# --- Context: who or what made the change -----------------------------------------------------------------------


def _context(event: Any) -> dict[str, Any]:
    assert event.pgh_context is not None, "the event carries no context"
    return dict(event.pgh_context.metadata)


def _only_path_and_user(metadata: dict[str, Any], *, user_id: int, path: str) -> None:
    assert metadata == {"user": user_id, "url": path}
    dumped = json.dumps(metadata)
    assert "?" not in dumped
    assert "secret" not in dumped


@override_settings(ROOT_URLCONF="tests.helpers")
def test_a_write_made_in_a_request_carries_user_and_path_but_no_body_or_query(admin_client: Client, editor) -> None:
    source = factories.SourceFactory.create(title="Old title")
    path = f"/test-only/source/{source.pk}/retitle/"
    response = admin_client.post(f"{path}?token=secret-query", {"title": "New title", "note": "secret-body"})
    assert response.status_code == 204
    event = Source.pgh_event_model.objects.get(pgh_obj_id=source.pk, pgh_label="update")
    assert event.title == "New title"
    _only_path_and_user(_context(event), user_id=editor.pk, path=path)


def test_an_admin_edit_carries_user_and_path_but_no_body_or_query(admin_client: Client, editor) -> None:
    assert Source in admin.site._registry
    source = factories.SourceFactory.create(title="Old title")
    path = f"/admin/provenance/source/{source.pk}/change/"
    page = admin_client.get(path)
    assert page.status_code == 200
    data = admin_change_form_data(page, title="New title", _save="Save")
    response = admin_client.post(f"{path}?secret=1", data)
    assert response.status_code == 302, getattr(response, "context_data", {}).get("errors")
    event = Source.pgh_event_model.objects.get(pgh_obj_id=source.pk, pgh_label="update")
    assert event.title == "New title"
    _only_path_and_user(_context(event), user_id=editor.pk, path=path)


def test_a_write_in_a_command_context_carries_the_command_name() -> None:
    with command_context("import_seed"):
        source = factories.SourceFactory.create()
        Source.objects.filter(pk=source.pk).update(title="Renamed by the import")
    events = Source.pgh_event_model.objects.filter(pgh_obj_id=source.pk)
    assert [(e.pgh_label, _context(e)["command"]) for e in events.order_by("pgh_id")] == [
        ("insert", "import_seed"),
        ("update", "import_seed"),
    ]
    assert len({e.pgh_context_id for e in events}) == 1  # one command run, one context


def test_a_write_outside_any_request_or_command_has_no_context() -> None:
    claim = factories.ClaimFactory.create()
    event = Claim.pgh_event_model.objects.get(pgh_obj_id=claim.pk)
    assert event.pgh_context is None
