"""Requester privacy: the canary test. A request is sent with a distinctive name and e-mail address (also written
into the message); the canary must then appear on no public page, API response, export, feed, history event, admin
log entry or log line. After the retention period (a frozen clock, ``purge_requesters``) it must be in no table at
all. Also: the editors' per-requester export and erasure, the purge command's rules, and the log masking."""

from __future__ import annotations

import datetime
import io
import json
import logging
import re
import sys
from typing import Any

import pghistory.models
import pytest
import time_machine
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from inquiries.models import InformationRequest, Requester
from inquiries.services import information_request_update
from registry.logs import JsonFormatter, MaskEmails
from tests import factories
from tests.helpers import admin_change_form_data
from tests.test_inquiries import CHANGELIST, NEW_URL, _record_pages, form_data

pytestmark = pytest.mark.django_db

CANARY_NAME = "Zebulon Quillfeather"
CANARY_EMAIL = "zq.canary.7f3a@canary-example.org"
CANARIES = (CANARY_NAME, CANARY_EMAIL, CANARY_EMAIL.replace("@", "%40"), "Quillfeather", "zq.canary")


def assert_no_canary(where: str, text: str) -> None:
    lowered = text.lower()
    for canary in CANARIES:
        assert canary.lower() not in lowered, f"the canary {canary!r} is in {where}"


def tables_holding(*needles: str) -> dict[str, int]:
    """Every table of the database (all schemas but PostgreSQL's own) whose rows, cast to text, hold a needle."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        tables = cursor.fetchall()
        found = {}
        for schema, table in tables:
            condition = " OR ".join(["t::text ILIKE %s"] * len(needles))
            cursor.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" AS t WHERE {condition}',
                [f"%{needle}%" for needle in needles],
            )
            count = cursor.fetchone()[0]
            if count:
                found[table] = count
    return found


def submit_canary(client: Client, partnership: Any, started: str) -> InformationRequest:
    response = client.post(
        NEW_URL,
        form_data(
            kind="question",
            record=f"partnership:{partnership.slug}",
            name=CANARY_NAME,
            email=CANARY_EMAIL,
            subject="Question about the data-sharing agreement",
            message=f"Please reply to {CANARY_EMAIL}; my name is {CANARY_NAME}.",
            started=started,
        ),
    )
    assert response.status_code == 303, response.context["form"].errors
    return InformationRequest.objects.get(requester__email=CANARY_EMAIL)


def public_urls(record_pages: list[tuple[str, str, str]], request: InformationRequest) -> list[str]:
    urls = ["/", f"/requests/{request.reference}/", "/requests/new/", "/feeds/changes/", "/feeds/partnerships/"]
    urls += [url for url, _kind, _slug in record_pages]
    urls += ["/partnerships/", "/ngos/", "/police-departments/", "/focus-areas/", "/surveillance-practices/"]
    urls += ["/sources/", "/legal/", "/cases/", "/map/"]
    api = "/api/v1/"
    for resource in (
        "partnerships",
        "ngos",
        "police-departments",
        "focus-areas",
        "surveillance-practices",
        "sources",
        "legal-instruments",
        "oversight-bodies",
        "cases",
        "jurisdictions",
        "regions",
        "countries",
    ):
        urls += [f"{api}{resource}/", f"{api}{resource}/?format=csv", f"{api}{resource}/?format=ndjson"]
    slug = {kind: slug for _url, kind, slug in record_pages}
    urls += [
        f"{api}partnerships/{slug['partnership']}/",
        f"{api}partnerships/{slug['partnership']}/history/",
        f"{api}ngos/{slug['ngo']}/",
        f"{api}cases/{slug['case']}/",
        f"{api}legal-instruments/{slug['legal_instrument']}/",
        f"{api}sources/{slug['source']}/",
        f"{api}schema/",
    ]
    return urls


def body_of(response: Any) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_the_canary_is_nowhere_public_and_after_the_retention_purge_in_no_table(
    admin_client: Client, anon_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    record_pages = _record_pages()
    partnership = factories.PartnershipFactory._meta.model.objects.get(slug=record_pages[0][2])
    start = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        form = anon_client.get(f"{NEW_URL}?record=partnership:{partnership.slug}")
        assert form.status_code == 200
        started = re.search(r'name="started" value="([^"]+)"', form.content.decode()).group(1)
        clock.shift(30)  # a person takes their time
        request = submit_canary(anon_client, partnership, started)
        # The editors work it: under review, then answered, through the admin; and export the requester once.
        url = f"{CHANGELIST}{request.pk}/change/"
        page = admin_client.get(url)
        assert CANARY_EMAIL in page.content.decode()  # editors with the permission see it, on this page only
        admin_client.post(url, admin_change_form_data(page, status="under_review"))
        page = admin_client.get(url)
        answered = admin_client.post(
            url, admin_change_form_data(page, status="answered", public_answer="The agreement is now linked.")
        )
        assert answered.status_code == 302
        export = admin_client.post(CHANGELIST, {"action": "export_requesters", "_selected_action": [request.pk]})
        assert CANARY_EMAIL in export.content.decode()
        admin_client.get(CHANGELIST)
        admin_client.get(f"{CHANGELIST}?q={request.reference}")
        # A visitor who puts the address in a URL (a path and a query value) is logged without it.
        anon_client.get(f"/requests/{CANARY_EMAIL}/", {"email": CANARY_EMAIL})
        anon_client.get("/partnerships/", {"q": CANARY_EMAIL})
        request.refresh_from_db()
        assert request.status == "answered"

        # --- Nowhere public ---
        for path in public_urls(record_pages, request):
            response = anon_client.get(path)
            # Not every resource has a CSV/ndjson export (400 naming the format); the partnerships' must.
            optional_export = "format=" in path and not path.startswith("/api/v1/partnerships/")
            assert response.status_code == 200 or (optional_export and response.status_code == 400), path
            assert_no_canary(path, body_of(response))
        # The history: every event table, every row, and the history contexts.
        for model in apps.get_models():
            if issubclass(model, pghistory.models.Event) and not model._meta.proxy:
                for row in model.objects.values():
                    assert_no_canary(model._meta.db_table, json.dumps(row, default=str))
        for row in pghistory.models.Context.objects.values():
            assert_no_canary("pghistory_context", json.dumps(row, default=str))
        # The admin log.
        entries = list(LogEntry.objects.values("object_repr", "change_message"))
        assert len(entries) >= 3  # under review, answered, exported
        for entry in entries:
            assert_no_canary("the admin log", json.dumps(entry))
        # The logs: every captured record (DEBUG and up) and what the handlers wrote.
        assert_no_canary("the captured log records", caplog.text)
        for record in caplog.records:
            assert_no_canary("a log record", record.getMessage())
        # As the console handler writes them: JSON lines, through its filter (the request log among them).
        console = [h for h in logging.getLogger().handlers if any(isinstance(f, MaskEmails) for f in h.filters)]
        assert console, "the console handler masks e-mail addresses"
        lines = [JsonFormatter().format(record) for record in caplog.records if console[0].filter(record)]
        assert any('"logger":"registry.request"' in line and "[email]" in line for line in lines)
        assert_no_canary("the JSON log lines", "\n".join(lines))
        # Before the purge the canary is only in the two tables that hold it on purpose.
        assert set(tables_holding(CANARY_NAME, CANARY_EMAIL)) == {"inquiries_requester", "inquiries_informationrequest"}

        # --- The retention purge: 91 days after closing ---
        assert request.closed_at is not None
        clock.move_to(request.closed_at + datetime.timedelta(days=91))
        out = io.StringIO()
        call_command("purge_requesters", stdout=out)
        assert "Erased 1 requester record(s) and the words of 1 request(s)" in out.getvalue()
        assert_no_canary("the command's output", out.getvalue())

    assert tables_holding(CANARY_NAME, CANARY_EMAIL, "Quillfeather", "zq.canary") == {}
    request.refresh_from_db()
    assert (request.requester, request.subject, request.message) == (None, "", "")
    assert request.erased_at is not None
    # The public part stays.
    html = anon_client.get(f"/requests/{request.reference}/").content.decode()
    assert "The agreement is now linked." in html


def test_the_purge_keeps_what_is_not_yet_due(settings: Any) -> None:
    settings.INQUIRY_RETENTION_DAYS = 90
    now = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)
    with time_machine.travel(now - datetime.timedelta(days=200), tick=False) as clock:
        old = factories.InformationRequestFactory()
        still_open = factories.InformationRequestFactory()
        recent = factories.InformationRequestFactory()
        anonymous = factories.InformationRequestFactory(requester=None)
        information_request_update(information_request=old, status="answered", public_answer="Done.")
        information_request_update(information_request=anonymous, status="withdrawn", public_answer="")
        clock.move_to(now - datetime.timedelta(days=89))
        information_request_update(information_request=recent, status="refused", public_answer="Out of scope.")
        # Same person (same address, other letter case) with a request closed long ago and one still open.
        person = factories.RequesterFactory(email="same.person@example.org")
        clock.move_to(now - datetime.timedelta(days=150))
        twice_old = factories.InformationRequestFactory(requester=person)
        information_request_update(information_request=twice_old, status="answered", public_answer="Yes.")
        factories.InformationRequestFactory(requester=factories.RequesterFactory(email="Same.Person@example.org"))
        clock.move_to(now)
        dry = io.StringIO()
        call_command("purge_requesters", "--dry-run", stdout=dry)
        assert "Would erase 2 requester record(s) and the words of 3 request(s)" in dry.getvalue()
        assert Requester.objects.count() == 5  # the dry run erased nothing
        call_command("purge_requesters", stdout=io.StringIO())
    remaining = {r.pk for r in Requester.objects.all()}
    assert old.requester_id not in remaining
    assert twice_old.requester_id not in remaining
    assert {still_open.requester_id, recent.requester_id} <= remaining
    anonymous.refresh_from_db()
    assert (anonymous.message, anonymous.erased_at is not None) == ("", True)
    recent.refresh_from_db()
    assert recent.message != ""
    # A requester row left without a request (deleted by hand) goes once it is older than the retention period.
    with time_machine.travel(now - datetime.timedelta(days=100), tick=False):
        orphan = factories.RequesterFactory()
    with time_machine.travel(now, tick=False):
        fresh_orphan = factories.RequesterFactory()
        call_command("purge_requesters", stdout=io.StringIO())
    assert not Requester.objects.filter(pk=orphan.pk).exists()
    assert Requester.objects.filter(pk=fresh_orphan.pk).exists()
    fresh_orphan.delete()
    # --days overrides the setting.
    with time_machine.travel(now, tick=False):
        out = io.StringIO()
        call_command("purge_requesters", "--days", "30", stdout=out)
    assert "Erased 1 requester record(s)" in out.getvalue()
    # The purge is in the history as an erasure, with the command as its context, and nothing of what was erased.
    event = apps.get_model("inquiries", "InformationRequestEvent").objects.filter(pgh_obj=old, pgh_label="update")
    assert event.filter(erased_at__isnull=False, pgh_context__metadata__command="purge_requesters").exists()


def test_an_editor_exports_everything_held_about_a_requester_as_json(admin_client: Client) -> None:
    person = factories.RequesterFactory(name="Ida Example", email="ida@example.org")
    first = factories.InformationRequestFactory(requester=person, subject="First question")
    # The same person wrote again (same address, different letter case): all of it is theirs.
    second = factories.InformationRequestFactory(
        requester=factories.RequesterFactory(name="Ida E.", email="IDA@example.org"), subject="Second question"
    )
    other = factories.InformationRequestFactory()
    response = admin_client.post(CHANGELIST, {"action": "export_requesters", "_selected_action": [first.pk]})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="requester-export-')
    data = json.loads(response.content)
    assert [r["email"] for r in data["requesters"]] == ["ida@example.org", "IDA@example.org"]
    assert data["requesters"][0]["requests"][0]["reference"] == first.reference
    assert data["requesters"][0]["requests"][0]["subject"] == "First question"
    assert data["requesters"][1]["requests"][0]["reference"] == second.reference
    assert other.requester.email not in response.content.decode()
    entry = LogEntry.objects.get(object_id=str(first.pk))
    assert entry.object_repr == f"Request {first.reference}"
    assert "Exported" in entry.change_message
    assert "ida" not in entry.change_message.lower()


def test_an_editor_erases_a_requester_and_the_requests_keep_their_public_part(
    admin_client: Client, anon_client: Client
) -> None:
    person = factories.RequesterFactory(name="Jo Example", email="jo@example.org")
    request = factories.InformationRequestFactory(requester=person)
    information_request_update(information_request=request, status="answered", public_answer="Fixed.")
    again = factories.InformationRequestFactory(requester=factories.RequesterFactory(email="jo@example.org"))
    other = factories.InformationRequestFactory()
    response = admin_client.post(CHANGELIST, {"action": "erase_requesters", "_selected_action": [request.pk]})
    assert response.status_code == 302
    assert tables_holding("jo@example.org", "Jo Example") == {}
    for erased in (request, again):
        erased.refresh_from_db()
        assert (erased.requester, erased.subject, erased.message) == (None, "", "")
    other.refresh_from_db()
    assert other.requester is not None
    assert "Fixed." in anon_client.get(f"/requests/{request.reference}/").content.decode()
    messages = set(LogEntry.objects.values_list("change_message", flat=True))
    assert messages == {"Erased its requester's contact details and words."}
    # The change page now says so.
    assert "erased" in admin_client.get(f"{CHANGELIST}{request.pk}/change/").content.decode()


def test_staff_without_the_permission_cannot_erase(client: Client) -> None:
    from django.contrib.auth.models import Permission

    user = factories.UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_informationrequest", "change_informationrequest"])
    )
    client.force_login(user)
    request = factories.InformationRequestFactory()
    response = client.post(CHANGELIST, {"action": "erase_requesters", "_selected_action": [request.pk]})
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.requester is not None


# --- Log masking (registry/logs.py) ----------------------------------------------------------------------------


def _formatted(record: logging.LogRecord) -> str:
    MaskEmails().filter(record)
    return JsonFormatter().format(record)


def test_an_exception_holding_an_address_is_logged_without_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    try:
        raise ValueError(f"cannot deliver to {CANARY_EMAIL}")
    except ValueError:
        logging.getLogger("registry.test").exception("failed for %s", CANARY_EMAIL, extra={"to": CANARY_EMAIL})
    [record] = [r for r in caplog.records if r.name == "registry.test"]
    line = _formatted(record)
    assert_no_canary("a JSON log line", line)
    assert "[email]" in line
    assert "ValueError: cannot deliver to [email]" in json.loads(line)["exception"]
    assert_no_canary("the captured text", caplog.text)


def test_records_made_outside_the_configured_handlers_are_masked_too() -> None:
    """Even a record formatted by a handler added later (without the filter) holds no address."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("registry.test.extra")
    logger.addHandler(handler)
    try:
        logger.warning("mail %s and %s", CANARY_EMAIL, "x%40example.org")
    finally:
        logger.removeHandler(handler)
    assert_no_canary("a plain handler", stream.getvalue())
    assert stream.getvalue().strip() == "mail [email] and [email]"


def test_a_message_without_an_address_is_left_as_it_was() -> None:
    record = logging.LogRecord("registry.test", logging.INFO, __file__, 1, "GET %s %d", ("/partnerships/", 200), None)
    MaskEmails().filter(record)
    assert (record.msg, record.args) == ("GET %s %d", ("/partnerships/", 200))
    assert re.fullmatch(r"GET /partnerships/ 200", record.getMessage())
    assert sys.exc_info() == (None, None, None)


def failing_view(request: HttpRequest, who: str) -> HttpResponse:
    raise ValueError(f"no mailbox for {who}")


urlpatterns = [path("boom/<str:who>/", failing_view)]
handler500 = "registry.views.server_error"


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_about_an_address_logs_its_traceback_without_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    response = Client(raise_request_exception=False).get(f"/boom/{CANARY_EMAIL}/", {"reply": CANARY_EMAIL})
    assert response.status_code == 500
    assert_no_canary("the error page", response.content.decode())
    console = next(h for h in logging.getLogger().handlers if any(isinstance(f, MaskEmails) for f in h.filters))
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if console.filter(r)]
    assert_no_canary("the JSON log lines", json.dumps(lines))
    [error] = [line for line in lines if line["logger"] == "django.request"]
    assert "ValueError: no mailbox for [email]" in error["exception"]
    [request_line] = [line for line in lines if line["logger"] == "registry.request"]
    assert request_line["path"] == "/boom/[email]/"


def test_history_cannot_hold_the_requester_by_construction() -> None:
    """The request's event table has no column for the requester or their words; the requester has no history."""
    event_model = apps.get_model("inquiries", "InformationRequestEvent")
    columns = {field.name for field in event_model._meta.fields}
    assert {"reference", "kind", "status", "public_answer", "closed_at", "erased_at"} <= columns
    assert not {"requester", "subject", "message"} & columns
    assert not [m for m in apps.get_models() if getattr(m, "pgh_tracked_model", None) is Requester]
    assert str(factories.RequesterFactory.create(name="Kim Example", email="kim@example.org")).startswith("Requester #")
