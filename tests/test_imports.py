"""Bulk import and export (imports/): round trips, per-row reports, dry runs, all or nothing, idempotence, history
context, the commands, and the admin's upload -> report -> apply flow with its permissions."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook
from pghistory.models import Event

from imports.models import ImportBatch, ImportStatus, ImportUpload
from imports.services import import_run, records_export
from partnerships.models import NGO, Partnership
from provenance.models import Source
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = "slug,name,region,jurisdiction,ngos,police_departments,focus_areas,year_established,status,sources"


def event_count() -> int:
    """Every history event of every tracked table (records, links, claims)."""
    return sum(
        model.objects.count()
        for model in apps.get_models()
        if issubclass(model, Event) and not model._meta.proxy and not model._meta.abstract
    )


def import_events(batch_id: int) -> list[Any]:
    events = []
    for model in apps.get_models():
        if issubclass(model, Event) and not model._meta.proxy and hasattr(model, "pgh_context"):
            events += list(
                model.objects.filter(pgh_context__metadata__import_id=batch_id).select_related("pgh_context")
            )
    return events


@pytest.fixture
def world(db) -> dict[str, Any]:
    """Three partnerships with parties, focus areas, practices and sources (one a draft)."""
    region = factories.RegionFactory(slug="europe", name="Europe")
    jurisdiction = factories.JurisdictionFactory(slug="london", name="London")
    focus = [
        factories.FocusAreaFactory(slug="trafficking", name="Trafficking"),
        factories.FocusAreaFactory(slug="child-protection", name="Child protection"),
    ]
    practice = factories.SurveillancePracticeFactory(slug="cctv", name="CCTV")
    sources = [factories.SourceFactory(slug="report-a"), factories.SourceFactory(slug="report-b")]
    ngo = factories.NGOFactory(slug="la-strada", name="La Strada", jurisdiction=jurisdiction)
    police = factories.PoliceDepartmentFactory(slug="met", name="Metropolitan Police", jurisdiction=jurisdiction)
    partnerships = []
    for number in range(3):
        partnership = factories.PartnershipFactory(
            slug=f"p-{number}",
            name=f"Partnership {number}",
            region=region,
            jurisdiction=jurisdiction,
            ngos=[ngo],
            police_departments=[police],
            focus_areas=focus,
            sources=sources[: number % 2 + 1],
            description='=starts like a formula, "quoted",\nand on two lines' if number == 0 else "",
            is_published=number != 2,
        )
        partnership.surveillance_practices.set([practice])
        partnerships.append(partnership)
    return {
        "region": region,
        "jurisdiction": jurisdiction,
        "ngo": ngo,
        "police": police,
        "sources": sources,
        "partnerships": partnerships,
    }


def export_bytes(model: str, kind: str) -> bytes:
    output = io.BytesIO()
    records_export(model=model, format=kind, output=output)
    return output.getvalue()


def run(content: bytes | str, *, model: str = "partnership", dry_run: bool = False, name: str = "f.csv", **kw: Any):
    data = content.encode() if isinstance(content, str) else content
    return import_run(file=data, filename=name, model=model, dry_run=dry_run, editor=None, **kw)


# --- Round trip ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "xlsx", "json", "ndjson"])
@pytest.mark.parametrize("model", ["partnership", "ngo", "police_department", "source", "surveillance_practice"])
def test_export_then_import_is_all_unchanged(world, kind, model, django_assert_max_num_queries):
    content = export_bytes(model, kind)
    events = event_count()
    with django_assert_max_num_queries(25):
        report = run(content, model=model, name=f"export.{'jsonl' if kind == 'ndjson' else kind}")
    assert report.ok, [row.describe() for row in report.rows]
    assert report.rows
    assert all(row.action == "unchanged" for row in report.rows)
    assert event_count() == events


def test_export_neutralises_formulas_and_lists_drafts(world):
    user = factories.UserFactory(username="canary-editor-7731", email="canary7731@example.org")
    changed = HEADER + "\np-1,Changed,europe,london,la-strada,met,,2015,unknown,report-a"
    assert import_run(file=changed.encode(), filename="f.csv", model="partnership", dry_run=False, editor=user).ok
    text = export_bytes("partnership", "csv").decode()
    assert "\"'=starts like a formula" in text  # CSV: neutralised
    assert "p-2" in text  # a draft: editors' data
    assert "canary" not in text.lower()
    assert "7731" not in text
    workbook = load_workbook(io.BytesIO(export_bytes("partnership", "xlsx")), read_only=True)
    cells = [cell for row in workbook.worksheets[0].iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)  # nothing Excel would evaluate
    assert any(str(cell.value).startswith("'=starts") for cell in cells)
    rows = json.loads(export_bytes("partnership", "json"))
    assert rows[0]["description"].startswith("=starts")  # JSON is not a spreadsheet: the value as it is
    assert rows[0]["ngos"] == ["la-strada"]


def test_the_apis_csv_export_imports_unchanged(world, anon_client):
    """The API's export names regions and parties (published ones): names resolve when no slug matches."""
    response = anon_client.get("/api/v1/partnerships/?format=csv")
    assert response.status_code == 200
    report = run(b"".join(response.streaming_content), name="partnerships.csv")
    assert report.ok, [row.describe() for row in report.rows]
    assert {row.action for row in report.rows} == {"unchanged"}


# --- Reports ---------------------------------------------------------------------------------------------------


def test_report_says_created_updated_unchanged(world):
    content = "\r\n".join(
        [
            HEADER,
            "p-0,Partnership 0,europe,london,la-strada,met,child-protection; trafficking,2015,unknown,report-a",
            "p-1,Renamed,europe,london,,met,trafficking,2015,unknown,report-a; report-b",
            "p-new,New partnership,Europe,London,la-strada,met,,2001,active,report-a",
        ]
    )
    report = run(content)
    assert report.ok
    assert report.written
    actions = {row.slug: row for row in report.rows}
    assert actions["p-0"].action == "unchanged"
    assert actions["p-1"].action == "updated"
    assert set(actions["p-1"].changed) == {"name", "ngos", "focus_areas"}
    assert actions["p-new"].action == "created"
    created = Partnership.objects.get(slug="p-new")
    assert created.region == world["region"]
    assert list(created.ngos.all()) == [world["ngo"]]
    assert created.verification_status == "unverified"
    renamed = Partnership.objects.get(slug="p-1")
    assert renamed.name == "Renamed"
    assert not renamed.ngos.exists()
    assert renamed.description == ""  # a column left out keeps the stored value
    batch = ImportBatch.objects.get(pk=report.batch_id)
    assert (batch.status, batch.rows_created, batch.rows_updated, batch.rows_unchanged) == ("applied", 1, 1, 1)


def test_rejected_rows_say_why_and_nothing_is_written(world):
    content = "\n".join(
        [
            HEADER,
            "p-new,New,europe,london,la-strada,met,,2001,active,report-a",  # valid
            "p-1,Partnership 1,atlantis,london,nobody,met,,1700,unknown,report-a",  # 3 problems
            "p-bad,,europe,london,,,,2020,sleeping,",  # name required, unknown status
            "p-new,Again,europe,london,,,,2020,active,",  # duplicate slug
            ",No slug,europe,london,,,,,unknown,",
        ]
    )
    events = event_count()
    report = run(content)
    assert not report.ok
    assert not report.written
    assert report.status == ImportStatus.REJECTED
    by_location = {row.location: row for row in report.rows}
    assert by_location["line 2"].action == "created"  # what it would have done
    errors = dict(by_location["line 3"].errors)
    assert "atlantis" in errors["region"]
    assert "nobody" in errors["ngos"]
    assert {column for column, _ in by_location["line 4"].errors} >= {"name", "status"}
    assert "twice" in dict(by_location["line 5"].errors)["slug"]
    assert "required" in dict(by_location["line 6"].errors)["slug"]
    year_report = run(HEADER + "\np-1,Partnership 1,europe,london,la-strada,met,,1700,unknown,report-a")
    assert any("year" in f"{column} {message}".lower() for column, message in year_report.rows[0].errors), (
        year_report.rows[0].errors
    )
    assert not Partnership.objects.filter(slug__in=["p-new", "p-bad"]).exists()
    assert event_count() == events
    assert ImportBatch.objects.get(pk=report.batch_id).rows_rejected == 4


def test_dry_run_reports_everything_and_writes_no_row_and_no_event(world):
    content = HEADER + "\np-new,New,europe,london,la-strada,met,,2001,active,report-a\np-1,Changed,europe,london,,,,,,"
    rows, events = Partnership.objects.count(), event_count()
    report = run(content, dry_run=True)
    assert report.ok
    assert not report.written
    assert [row.action for row in report.rows] == ["created", "updated"]
    assert Partnership.objects.count() == rows
    assert event_count() == events
    assert Partnership.objects.get(slug="p-1").name == "Partnership 1"
    assert ImportBatch.objects.get(pk=report.batch_id).status == ImportStatus.VALIDATED


def test_same_file_twice_changes_nothing_the_second_time(world):
    content = HEADER + "\np-new,New,europe,london,la-strada,met,trafficking,2001,active,report-a; report-b"
    first = run(content)
    assert [row.action for row in first.rows] == ["created"]
    events = event_count()
    second = run(content)
    assert [row.action for row in second.rows] == ["unchanged"]
    assert event_count() == events


def test_every_imported_row_carries_the_import_in_its_history(world, editor):
    content = HEADER + "\np-new,New,europe,london,la-strada,met,,2001,active,report-a\np-1,Changed,europe,london,,,,,,"
    report = import_run(file=content.encode(), filename="f.csv", model="partnership", dry_run=False, editor=editor)
    events = import_events(report.batch_id)
    labels = {event._meta.label for event in events}
    assert {"partnerships.PartnershipEvent", "partnerships.PartnershipNgosEvent"} <= labels
    tracked = {getattr(event, "slug", None) for event in events if event._meta.label == "partnerships.PartnershipEvent"}
    assert tracked == {"p-new", "p-1"}
    metadata = events[0].pgh_context.metadata
    assert metadata["command"] == "import_records"
    assert metadata["user"] == editor.pk


def test_database_constraints_are_reported_in_words(world):
    report = run(
        "slug,name,jurisdiction\nla-strada-2,La Strada,london\n"  # the same name in the same jurisdiction
        "other-ngo,Other,london\n",
        model="ngo",
    )
    assert [row.action for row in report.rows] == ["rejected", "created"]
    assert report.rows[0].errors == [("", "This jurisdiction already has an NGO of this name.")]
    years = run(
        "slug,name,region,jurisdiction,year_established,year_ended,status\n"
        "p-x,X,europe,london,2010,2005,ended\np-y,Y,europe,london,2010,2012,active\n"
    )
    assert years.rows[0].errors == [("", "A partnership cannot end before it was established.")]
    assert years.rows[1].errors == [("", "Only an ended partnership can have an end year.")]


def test_keys_a_json_object_leaves_out_keep_their_values(world):
    report = run(json.dumps([{"slug": "p-0", "name": "Renamed"}]), name="f.json")
    assert [row.changed for row in report.rows] == [["name"]]
    partnership = Partnership.objects.get(slug="p-0")
    assert partnership.description.startswith("=starts")
    assert partnership.ngos.exists()


def test_other_records_import_and_refuse_bad_values(world):
    ngo = run(
        "slug,name,aliases,jurisdiction,website,sources,is_published\n"
        "new-ngo,New NGO,NN; New,london,https://ngo.example.org,report-a,true\n",
        model="ngo",
    )
    assert ngo.ok
    assert NGO.objects.get(slug="new-ngo").aliases == ["NN", "New"]
    source = run(
        "slug,title,kind,tier,published_on,accessed_on\n"
        "mou,An MOU,primary_document,primary,2020-01-02,2021-05-06\n"
        "bad,Bad,primary_document,secondary,2020-13-01,\n",
        model="source",
    )
    assert [row.action for row in source.rows] == ["created", "rejected"]
    assert "published_on" in dict(source.rows[1].errors)
    assert not Source.objects.filter(slug="mou").exists()  # all or nothing


# --- Commands --------------------------------------------------------------------------------------------------


def test_commands_export_and_import(world, tmp_path):
    path = tmp_path / "partnerships.xlsx"
    out = io.StringIO()
    call_command("export_records", "--model", "partnership", "--format", "xlsx", "--output", str(path), stdout=out)
    assert "Exported 3 partnerships" in out.getvalue()
    out = io.StringIO()
    call_command("import_records", str(path), "--model", "partnership", "--no-progress", stdout=out)
    assert "3 unchanged" in out.getvalue()
    changed = tmp_path / "changed.csv"
    changed.write_text(HEADER + "\np-1,Changed,europe,london,,,,,,\n", encoding="utf-8")
    out = io.StringIO()
    call_command(
        "import_records", str(changed), "--model", "partnership", "--dry-run", "--no-progress", "-v", "2", stdout=out
    )
    assert "p-1): updated - name" in out.getvalue()
    assert "dry run" in out.getvalue()
    assert Partnership.objects.get(slug="p-1").name == "Partnership 1"


def test_import_command_exits_non_zero_when_rejected(world, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "\np-1,Changed,nowhere,london,,,,,,\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_records", str(bad), "--model", "partnership", "--no-progress", stderr=err)
    assert raised.value.returncode == 1
    assert "nowhere" in err.getvalue()
    assert "nothing written" in str(raised.value)
    assert Partnership.objects.get(slug="p-1").name == "Partnership 1"


# --- Admin -----------------------------------------------------------------------------------------------------

IMPORT_URL = "/admin/partnerships/partnership/import/"


def upload(client: Client, content: bytes | str, *, dry_run: bool = True, name: str = "p.csv", url: str = IMPORT_URL):
    data = content.encode() if isinstance(content, str) else content
    form: dict[str, Any] = {"file": SimpleUploadedFile(name, data)}
    if dry_run:
        form["dry_run"] = "on"
    return client.post(url, form)


def test_changelist_has_import_and_export_buttons(world, admin_client):
    page = admin_client.get("/admin/partnerships/partnership/?is_published__exact=1").content.decode()
    assert f'href="{IMPORT_URL}"' in page
    assert "/admin/partnerships/partnership/export/?is_published__exact=1&amp;export_format=xlsx" in page
    assert 'name="registry_versions"' in page  # the conflict guard's changelist template is still the one extended


def test_admin_upload_report_apply(world, admin_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        form = admin_client.get(IMPORT_URL)
    assert form.status_code == 200
    assert 'name="dry_run"' in form.content.decode()
    assert "checked" in form.content.decode()
    content = (
        HEADER
        + "\n"
        + "\n".join(f"new-{n},New {n},europe,london,la-strada,met,,2001,active,report-a" for n in range(5))
        + "\np-1,Changed,europe,london,,,,,,"
    )
    events = event_count()
    # A fixed number (session, lookups: one per related table, the batch, the stored upload), then per written
    # row its save, links and verification status (about 10: 78 measured for 6 rows).
    with django_assert_max_num_queries(20 + 10 * 6):
        report = upload(admin_client, content)
    page = report.content.decode()
    assert report.status_code == 200
    assert "5 created, 1 updated" in page
    assert "changes: name" in page
    assert "Apply this import" in page
    assert event_count() == events
    assert not Partnership.objects.filter(slug="new-0").exists()
    batch = ImportBatch.objects.get(dry_run=True)
    assert ImportUpload.objects.filter(batch=batch).exists()
    apply_url = f"{IMPORT_URL}{batch.pk}/apply/"
    assert admin_client.get(apply_url).status_code == 405
    assert admin_client.post(apply_url, {"sha256": "0" * 64}).status_code == 302  # not the file in the report
    result = admin_client.post(apply_url, {"sha256": batch.sha256})
    assert result.status_code == 200
    assert "Written" in result.content.decode()
    assert Partnership.objects.filter(slug__startswith="new-").count() == 5
    applied = ImportBatch.objects.get(dry_run=False)
    assert applied.status == ImportStatus.APPLIED
    assert applied.created_by.username == "editor"
    assert import_events(applied.pk)
    assert not ImportUpload.objects.exists()
    again = admin_client.post(apply_url, {"sha256": batch.sha256}, follow=True)
    assert "cannot be applied" in again.content.decode()
    assert Partnership.objects.filter(slug__startswith="new-").count() == 5


def test_admin_rejected_file_gets_a_report_not_an_error(world, admin_client):
    response = upload(admin_client, b"\xff\xfeslug\n", dry_run=False)
    assert response.status_code == 422
    assert "not UTF-8" in response.content.decode()
    assert "Apply this import" not in response.content.decode()
    assert upload(admin_client, "", dry_run=False).status_code == 400  # Django's own "the file is empty"


def test_admin_import_needs_add_and_change_permission(world):
    user = factories.UserFactory(username="viewer", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_partnership", "change_partnership"]))
    client = Client()
    client.force_login(user)
    assert client.get(IMPORT_URL).status_code == 403
    assert upload(client, HEADER + "\np-1,X,europe,london,,,,,,").status_code == 403
    assert (
        'href="/admin/partnerships/partnership/import/"'
        not in client.get("/admin/partnerships/partnership/").content.decode()
    )
    assert client.get("/admin/partnerships/partnership/export/?export_format=csv").status_code == 200
    user.user_permissions.add(Permission.objects.get(codename="add_partnership"))
    client.force_login(user)
    assert client.get(IMPORT_URL).status_code == 200
    anonymous = Client().get(IMPORT_URL)
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]


def test_admin_export_honours_filters(world, admin_client, django_assert_max_num_queries):
    for _ in range(5):
        factories.PartnershipFactory(is_published=True)
    with django_assert_max_num_queries(16):  # session, user, the changelist's filter choices, then one export query
        response = admin_client.get("/admin/partnerships/partnership/export/?is_published__exact=0&export_format=csv")
        text = b"".join(response.streaming_content).decode()
    assert response["Content-Type"].startswith("text/csv")
    assert [line.split(",")[0] for line in text.splitlines()[1:]] == ["p-2"]
    xlsx = admin_client.get("/admin/partnerships/partnership/export/?q=Partnership+1&export_format=xlsx")
    assert xlsx.status_code == 200
    assert xlsx["Content-Disposition"].startswith("attachment")
    assert admin_client.get("/admin/partnerships/partnership/export/?export_format=pdf").status_code == 400
    assert admin_client.get("/admin/partnerships/partnership/export/?bogus=1&export_format=csv").status_code == 400


def test_other_changelists_import_too(world, admin_client):
    response = upload(
        admin_client,
        "slug,title,kind,tier\nnew-source,A new source,news,secondary\n",
        dry_run=False,
        url="/admin/provenance/source/import/",
    )
    assert response.status_code == 200
    assert Source.objects.filter(slug="new-source").exists()
    assert "/admin/partnerships/ngo/import/" in admin_client.get("/admin/partnerships/ngo/").content.decode()


def test_batches_list(world, admin_client, django_assert_max_num_queries):
    for _ in range(4):
        run(HEADER + "\np-1,Partnership 1,europe,london,,,,,,", dry_run=True)
    with django_assert_max_num_queries(12):
        response = admin_client.get("/admin/imports/importbatch/")
    assert response.status_code == 200
    assert response.content.decode().count("f.csv") >= 4
    assert reverse("admin:imports_importbatch_changelist") == "/admin/imports/importbatch/"
    batch = ImportBatch.objects.first()
    with django_assert_max_num_queries(12):
        detail = admin_client.get(f"/admin/imports/importbatch/{batch.pk}/change/")
    assert detail.status_code == 200
    assert batch.sha256 in detail.content.decode()


def test_publishing_by_import_needs_the_verify_permission(world):
    """Editors save drafts; publishing (or unpublishing) through an import needs accounts.verify_record."""
    user = factories.UserFactory(username="plain-editor", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_partnership", "change_partnership"]))
    header = "slug,name,region,jurisdiction,is_published"
    refused = import_run(
        file=f"{header}\nnew-one,New,europe,london,true\np-0,Partnership 0,europe,london,false\n".encode(),
        filename="f.csv",
        model="partnership",
        dry_run=False,
        editor=user,
    )
    assert [row.action for row in refused.rows] == ["rejected", "rejected"]
    assert "accounts.verify_record" in dict(refused.rows[0].errors)["is_published"]
    drafts = import_run(
        file=f"{header}\nnew-one,New,europe,london,false\np-0,Renamed,europe,london,true\n".encode(),
        filename="f.csv",
        model="partnership",
        dry_run=False,
        editor=user,
    )
    assert drafts.ok
    assert [row.action for row in drafts.rows] == ["created", "updated"]
    user.user_permissions.add(Permission.objects.get(codename="verify_record"))
    user = type(user).objects.get(pk=user.pk)  # fresh permission cache
    published = import_run(
        file=f"{header}\nnew-one,New,europe,london,true\n".encode(),
        filename="f.csv",
        model="partnership",
        dry_run=False,
        editor=user,
    )
    assert published.ok
    assert Partnership.objects.get(slug="new-one").is_published
