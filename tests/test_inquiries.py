"""Public information requests (inquiries/): the form, the status page, the allowed status transitions, the editors'
queue in the admin, and the links to the form from the home page and every record page."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from inquiries.models import InformationRequest, Requester, RequestStatus
from inquiries.protection import started_token
from inquiries.services import InvalidTransition, information_request_update
from tests import factories
from tests.helpers import admin_change_form_data

pytestmark = pytest.mark.django_db

NEW_URL = "/requests/new/"
CHANGELIST = "/admin/inquiries/informationrequest/"


@pytest.fixture(autouse=True)
def _generous_limits(settings: Any) -> None:
    """The limits have their own tests (tests/test_inquiry_protection.py); here they stay out of the way."""
    settings.INQUIRY_RATE_LIMIT_PER_HOUR = 1000
    settings.INQUIRY_DAILY_CAP = 1000


def form_data(**overrides: Any) -> dict[str, Any]:
    """A valid submission, as a person's browser sends it ten seconds after the form was served."""
    data = {
        "kind": "correction",
        "record": "",
        "subject": "Wrong founding year",
        "message": "The annual report of 2017 says the partnership began in 2001.",
        "name": "",
        "email": "",
        "website": "",
        "started": started_token(at=time.time() - 10),
    }
    data.update(overrides)
    return data


def status_url(request: InformationRequest) -> str:
    return f"/requests/{request.reference}/"


# --- The form -------------------------------------------------------------------------------------------------


def test_the_form_page_has_the_fields_the_csrf_token_and_a_honeypot_hidden_by_css(anon_client: Client) -> None:
    response = anon_client.get(NEW_URL)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("kind", "record", "subject", "message", "name", "email", "started"):
        assert f'name="{name}"' in html
    assert "csrfmiddlewaretoken" in html
    # The honeypot sits in a block hidden by the stylesheet (no inline style: the CSP forbids it).
    assert re.search(
        r'<div class="inquiry-extra" aria-hidden="true">\s*<label[^>]*>[^<]*</label>\s*<input[^>]*name="website"', html
    )
    assert "style=" not in html
    assert "/static/css/inquiries.css" in html
    assert "never published" in html


def test_the_form_is_never_cached(anon_client: Client, settings: Any) -> None:
    """The page cache serves anonymous pages from the shared cache; the form carries a CSRF token and a start
    time, so it must never be stored: every GET renders a new one."""
    settings.REGISTRY_PAGE_CACHE_SECONDS = 300
    cache.clear()
    first = anon_client.get(NEW_URL)
    second = anon_client.get(NEW_URL)
    assert "no-store" in first["Cache-Control"]
    assert "private" in first["Cache-Control"]

    def started(response: Any) -> str:
        return re.search(r'name="started" value="([^"]+)"', response.content.decode()).group(1)

    assert started(first) != started(second)
    # Also for a client that already holds a CSRF cookie (no Set-Cookie on the response).
    third = anon_client.get(NEW_URL)
    fourth = anon_client.get(NEW_URL)
    assert started(third) != started(fourth)


def test_coming_from_a_partnership_page_prefills_the_record_and_the_question(anon_client: Client) -> None:
    partnership = factories.PartnershipFactory(name="Safe Horizon and NYPD")
    response = anon_client.get(NEW_URL, {"record": f"partnership:{partnership.slug}"})
    html = response.content.decode()
    assert f'value="partnership:{partnership.slug}"' in html
    assert 'value="question" checked' in html or re.search(r'value="question"[^>]*checked', html)
    assert "Safe Horizon and NYPD" in html


@pytest.mark.parametrize("record", ["partnership:no-such-slug", "nonsense", "planet:earth", "partnership:"])
def test_an_unknown_record_in_the_link_gives_an_empty_form_not_an_error(anon_client: Client, record: str) -> None:
    response = anon_client.get(NEW_URL, {"record": record})
    assert response.status_code == 200
    assert 'name="record" value=' not in response.content.decode()


def test_an_unpublished_record_is_not_prefilled(anon_client: Client) -> None:
    hidden = factories.PartnershipFactory.create(is_published=False)
    response = anon_client.get(NEW_URL, {"record": f"partnership:{hidden.slug}"})
    assert hidden.slug not in response.content.decode()


def test_an_unknown_query_parameter_is_a_400(anon_client: Client) -> None:
    assert anon_client.get(NEW_URL, {"colour": "red"}).status_code == 400


def test_sending_a_question_stores_it_and_redirects_to_its_status_page(anon_client: Client) -> None:
    partnership = factories.PartnershipFactory(name="Safe Horizon and NYPD")
    data = form_data(
        kind="question",
        record=f"partnership:{partnership.slug}",
        name="Ada Example",
        email="ada@example.org",
        subject="Is there an MOU?",
        message="Is the memorandum of understanding public?",
    )
    response = anon_client.post(NEW_URL, data)
    assert response.status_code == 303
    stored = InformationRequest.objects.get()
    assert response["Location"] == f"/requests/{stored.reference}/?sent=1"
    assert len(stored.reference) == 16
    assert (stored.kind, stored.record_kind, stored.record_id) == ("question", "partnership", partnership.pk)
    assert stored.status == RequestStatus.RECEIVED
    assert (stored.requester.name, stored.requester.email) == ("Ada Example", "ada@example.org")
    assert str(stored.requester) == f"Requester #{stored.requester.pk}"
    assert str(stored) == f"Request {stored.reference}"

    page = anon_client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "Your request was received" in html
    assert "Question about a partnership" in html
    assert f'href="/partnerships/{partnership.slug}/"' in html
    assert "Received" in html
    for private in ("Ada Example", "ada@example.org", "Is there an MOU?", "memorandum of understanding"):
        assert private not in html


def test_a_correction_may_name_a_record_by_its_page_address_or_no_record_at_all(anon_client: Client) -> None:
    instrument = factories.LegalInstrumentFactory()
    response = anon_client.post(
        NEW_URL, form_data(record=f"https://registry.example.org/legal/instruments/{instrument.slug}/")
    )
    assert response.status_code == 303
    assert anon_client.post(NEW_URL, form_data(record="")).status_code == 303
    with_record, without = InformationRequest.objects.order_by("id")
    assert (with_record.record_kind, with_record.record_id) == ("legal_instrument", instrument.pk)
    assert (without.record_kind, without.record_id) == (None, None)
    # No contact details given: no requester row at all.
    assert without.requester is None
    assert Requester.objects.count() == 0
    assert "no particular record" in anon_client.get(status_url(without)).content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"kind": "question", "record": ""}, "record", "A question is about a partnership"),
        ({"kind": "question", "record": "ngo:x"}, "record", "No published record"),
        ({"record": "partnership:no-such-partnership"}, "record", "No published record"),
        ({"subject": ""}, "subject", "This field is required"),
        ({"message": "x" * 5001}, "message", "at most 5000"),
        ({"email": "not-an-address"}, "email", "valid email"),
        ({"kind": "complaint"}, "kind", "Select a valid choice"),
        ({"started": "forged"}, "started", "too old or was altered"),
    ],
)
def test_a_bad_submission_is_a_form_error_and_nothing_is_stored(
    anon_client: Client, changes: dict[str, str], field: str, words: str
) -> None:
    response = anon_client.post(NEW_URL, form_data(**changes))
    assert response.status_code == 200
    assert words in response.content.decode()
    assert field in response.context["form"].errors
    assert InformationRequest.objects.count() == 0
    assert Requester.objects.count() == 0


def test_a_question_about_a_record_that_is_not_a_partnership_is_refused(anon_client: Client) -> None:
    ngo = factories.NGOFactory()
    response = anon_client.post(NEW_URL, form_data(kind="question", record=f"ngo:{ngo.slug}"))
    assert "A question is about a partnership" in response.content.decode()
    assert InformationRequest.objects.count() == 0


# --- The status page ------------------------------------------------------------------------------------------


def test_the_status_page_shows_the_public_answer_and_dates_once_answered(anon_client: Client) -> None:
    request = factories.InformationRequestFactory()
    information_request_update(information_request=request, status="under_review", public_answer="")
    assert "Under review" in anon_client.get(status_url(request)).content.decode()
    information_request_update(information_request=request, status="answered", public_answer="Corrected to 2001.")
    html = anon_client.get(status_url(request)).content.decode()
    assert "Answered" in html
    assert "Corrected to 2001." in html
    assert "Closed" in html


def test_a_withdrawn_request_says_it_closed_without_an_answer(anon_client: Client) -> None:
    request = factories.InformationRequestFactory()
    information_request_update(information_request=request, status="withdrawn", public_answer="")
    html = anon_client.get(status_url(request)).content.decode()
    assert "Withdrawn" in html
    assert "Closed without a public answer." in html


def test_the_status_page_of_a_record_no_longer_published_says_so(anon_client: Client) -> None:
    request = factories.InformationRequestFactory()
    factories.PartnershipFactory._meta.model.objects.filter(pk=request.record_id).update(is_published=False)
    html = anon_client.get(status_url(request)).content.decode()
    assert "no longer published" in html


@pytest.mark.parametrize("reference", ["aaaaaaaaaaaaaaaa", "short", "x" * 40, "AAAAAAAAAAAAAAAA"])
def test_an_unknown_reference_is_a_404(anon_client: Client, reference: str) -> None:
    factories.InformationRequestFactory()
    assert anon_client.get(f"/requests/{reference}/").status_code == 404


def test_the_status_page_costs_a_fixed_number_of_queries(
    anon_client: Client, django_assert_max_num_queries: Any
) -> None:
    requests = [factories.InformationRequestFactory() for _ in range(5)]
    for request in requests[:3]:
        information_request_update(information_request=request, status="answered", public_answer="Done.")
    for request in requests:
        with django_assert_max_num_queries(4):  # the request, its record, and the request's savepoint and release
            assert anon_client.get(status_url(request)).status_code == 200


def test_the_status_page_shows_a_status_change_at_once_with_the_page_cache_on(
    anon_client: Client, settings: Any
) -> None:
    settings.REGISTRY_PAGE_CACHE_SECONDS = 300
    cache.clear()
    request = factories.InformationRequestFactory()
    assert "Received" in anon_client.get(status_url(request)).content.decode()
    information_request_update(information_request=request, status="refused", public_answer="Out of scope.")
    html = anon_client.get(status_url(request)).content.decode()
    assert "Refused" in html
    assert "Out of scope." in html


# --- Status transitions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        ["under_review", "answered"],
        ["under_review", "refused"],
        ["under_review", "withdrawn"],
        ["answered"],
        ["refused"],
        ["withdrawn"],
    ],
)
def test_allowed_transitions_move_the_request_and_close_it(path: list[str]) -> None:
    request = factories.InformationRequestFactory()
    for status in path:
        information_request_update(information_request=request, status=status, public_answer="Reason given.")
    request.refresh_from_db()
    assert request.status == path[-1]
    assert request.closed_at is not None
    assert request.closed_at >= request.received_at


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("answered", "under_review"),
        ("answered", "received"),
        ("refused", "answered"),
        ("withdrawn", "received"),
        ("under_review", "received"),
    ],
)
def test_a_transition_not_allowed_is_refused_and_changes_nothing(start: str, target: str) -> None:
    request = factories.InformationRequestFactory()
    if start != "under_review":
        information_request_update(information_request=request, status=start, public_answer="Reason.")
    else:
        information_request_update(information_request=request, status=start, public_answer="")
    before = InformationRequest.objects.values().get(pk=request.pk)
    with pytest.raises(InvalidTransition, match="cannot become"):
        information_request_update(information_request=request, status=target, public_answer="Reason.")
    assert InformationRequest.objects.values().get(pk=request.pk) == before


def test_answering_or_refusing_needs_a_public_answer() -> None:
    request = factories.InformationRequestFactory()
    for status in ("answered", "refused"):
        with pytest.raises(ValidationError):
            information_request_update(information_request=request, status=status, public_answer="  ")
    request.refresh_from_db()
    assert request.status == "received"


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "pending"},
        {"status": "answered", "public_answer": "x"},  # closed without a closing time
        {"closed_at": timezone.now()},  # a closing time while open
        {"kind": "question", "record_kind": "ngo"},
        {"record_kind": None},  # an id without a kind
        {"reference": "ABC"},
        {"erased_at": timezone.now()},  # erased but the words and requester are still there
    ],
)
def test_the_database_refuses_inconsistent_requests(changes: dict[str, Any]) -> None:
    request = factories.InformationRequestFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        InformationRequest.objects.filter(pk=request.pk).update(**changes)


def test_the_database_refuses_a_requester_without_any_contact() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Requester.objects.create(name="", email="")


# --- The editors' queue ---------------------------------------------------------------------------------------


def _queue(count: int = 4) -> list[InformationRequest]:
    now = timezone.now()
    requests: list[InformationRequest] = []
    for days in range(count, 0, -1):
        request = factories.InformationRequestFactory.create(received_at=now - timezone.timedelta(days=days))
        requests.append(request)
    return requests


def test_the_queue_lists_oldest_first_with_the_record_and_no_personal_data(
    admin_client: Client, django_assert_max_num_queries: Any
) -> None:
    requests = _queue(6)
    factories.InformationRequestFactory(
        kind="correction", record_kind="case", record_id=factories.OverreachCaseFactory().pk
    )
    with django_assert_max_num_queries(12):
        response = admin_client.get(CHANGELIST)
    html = response.content.decode()
    positions = [html.index(r.reference) for r in requests]
    assert positions == sorted(positions)
    partnership = factories.PartnershipFactory._meta.model.objects.get(pk=requests[0].record_id)
    assert f'href="/partnerships/{partnership.slug}/"' in html
    for request in requests:
        assert request.requester.email not in html
        assert request.requester.name not in html


def test_the_queue_filters_by_status(admin_client: Client) -> None:
    open_one, done = _queue(2)
    information_request_update(information_request=done, status="answered", public_answer="Done.")
    html = admin_client.get(CHANGELIST, {"status__exact": "answered"}).content.decode()
    assert done.reference in html
    assert open_one.reference not in html


def test_an_editor_answers_through_the_change_form_and_the_log_holds_no_personal_data(admin_client: Client) -> None:
    request = factories.InformationRequestFactory(requester__name="Grace Example", requester__email="grace@example.org")
    url = f"{CHANGELIST}{request.pk}/change/"
    page = admin_client.get(url)
    html = page.content.decode()
    assert "grace@example.org" in html  # the superuser may see the contact details, on this page only
    data = admin_change_form_data(page, status="answered", public_answer="The MOU is linked on the record.")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    request.refresh_from_db()
    assert request.status == "answered"
    assert request.closed_at is not None
    entry = LogEntry.objects.get(object_id=str(request.pk))
    assert entry.object_repr == f"Request {request.reference}"
    for private in ("Grace", "grace@example.org"):
        assert private not in entry.object_repr
        assert private not in entry.change_message


def test_an_invalid_transition_in_the_admin_is_a_form_error(admin_client: Client) -> None:
    request = factories.InformationRequestFactory()
    information_request_update(information_request=request, status="under_review", public_answer="")
    url = f"{CHANGELIST}{request.pk}/change/"
    data = admin_change_form_data(admin_client.get(url), status="received")
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "under_review"


def test_answering_without_an_answer_in_the_admin_is_a_form_error(admin_client: Client) -> None:
    request = factories.InformationRequestFactory()
    url = f"{CHANGELIST}{request.pk}/change/"
    response = admin_client.post(
        url, admin_change_form_data(admin_client.get(url), status="answered", public_answer="")
    )
    assert response.status_code == 200
    assert "needs a public answer" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "received"


def test_staff_without_the_requester_permission_do_not_see_the_contact(client: Client) -> None:
    user = factories.UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_informationrequest", "change_informationrequest"])
    )
    client.force_login(user)
    request = factories.InformationRequestFactory(requester__email="hidden@example.org")
    html = client.get(f"{CHANGELIST}{request.pk}/change/").content.decode()
    assert request.reference in html
    assert "hidden@example.org" not in html
    # Nor can they export it.
    response = client.post(CHANGELIST, {"action": "export_requesters", "_selected_action": [request.pk]})
    assert response.status_code == 403


def test_nobody_adds_or_deletes_a_request_in_the_admin(admin_client: Client) -> None:
    """Requests come from the public form; a request is closed (withdrawn) or erased, never deleted, so that no
    requester row is left behind and its status page stays."""
    request = factories.InformationRequestFactory()
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.get(f"{CHANGELIST}{request.pk}/delete/").status_code == 403
    response = admin_client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [request.pk]})
    assert InformationRequest.objects.filter(pk=request.pk).exists()
    assert response.status_code in (200, 302)


# --- Links to the form ----------------------------------------------------------------------------------------


def test_the_home_page_links_to_the_form(anon_client: Client) -> None:
    html = anon_client.get("/").content.decode()
    assert 'href="/requests/new/"' in html
    assert "Ask for information or send a correction" in html


def _record_pages() -> list[tuple[str, str, str]]:
    """(URL, kind, slug) of one published record of every kind with a public page."""
    partnership = factories.PartnershipFactory()
    ngo = partnership.ngos.get()
    police = partnership.police_departments.get()
    practice = factories.SurveillancePracticeFactory()
    focus = factories.FocusAreaFactory()
    source = partnership.sources.first()
    instrument = factories.LegalInstrumentFactory(jurisdiction=partnership.jurisdiction)
    body = factories.OversightBodyFactory(jurisdiction=partnership.jurisdiction)
    case = factories.OverreachCaseFactory(jurisdiction=partnership.jurisdiction)
    jurisdiction = partnership.jurisdiction
    return [
        (f"/partnerships/{partnership.slug}/", "partnership", partnership.slug),
        (f"/ngos/{ngo.slug}/", "ngo", ngo.slug),
        (f"/police-departments/{police.slug}/", "police_department", police.slug),
        (f"/surveillance-practices/{practice.slug}/", "surveillance_practice", practice.slug),
        (f"/focus-areas/{focus.slug}/", "focus_area", focus.slug),
        (f"/sources/{source.slug}/", "source", source.slug),
        (f"/legal/instruments/{instrument.slug}/", "legal_instrument", instrument.slug),
        (f"/legal/oversight-bodies/{body.slug}/", "oversight_body", body.slug),
        (f"/legal/jurisdictions/{jurisdiction.slug}/", "jurisdiction", jurisdiction.slug),
        (f"/cases/{case.slug}/", "case", case.slug),
    ]


def test_every_record_page_links_to_the_form_with_its_record_which_the_form_accepts(anon_client: Client) -> None:
    for url, kind, slug in _record_pages():
        response = anon_client.get(url)
        assert response.status_code == 200, url
        link = f"/requests/new/?record={kind}%3A{slug}"
        assert f'href="{link}"' in response.content.decode(), url
        form = anon_client.get(link)
        assert f'value="{kind}:{slug}"' in form.content.decode(), url
        # The address of the page itself names the record too.
        sent = anon_client.post(NEW_URL, form_data(record=url))
        assert sent.status_code == 303, (url, sent.content.decode()[:500])
    assert InformationRequest.objects.count() == 10
