"""The public request form (``/requests/new/``) and each request's status page (``/requests/<reference>/``).

The form page is never cached (it carries a CSRF token and a signed start time): ``never_cache`` marks it
``no-store``, which the page cache (registry/response_cache.py) never stores. The status page is not cached either
(it costs two queries), so a status change shows at once. The status page shows the public part
only: kind, record, status, dates and the public answer; nothing about who sent it."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from inquiries.forms import InformationRequestForm, parse_record_reference
from inquiries.models import REFERENCE_LENGTH, InformationRequest, RequestKind, RequestStatus
from inquiries.protection import Limited, claim_client_submission, claim_daily_request
from inquiries.records import RecordKind, find_public_record, public_record_by_id
from inquiries.services import information_request_submit
from registry.pages import refuse_unknown_parameters


def _limited(request: HttpRequest, limited: Limited) -> HttpResponse:
    response = render(
        request,
        "inquiries/limited.html",
        {
            "limited": limited,
            "per_hour": settings.INQUIRY_RATE_LIMIT_PER_HOUR,
            "daily_cap": settings.INQUIRY_DAILY_CAP,
        },
        status=429,
    )
    response["Retry-After"] = str(limited.retry_after_seconds)
    return response


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        refuse_unknown_parameters(request, "record", "kind")
        limited = claim_client_submission(request)
        if limited is not None:
            return _limited(request, limited)
        form = InformationRequestForm(request.POST)
        if form.is_honeypot_filled:
            # A bot: the usual "received" answer, nothing stored.
            return render(request, "inquiries/received.html", status=200)
        if form.is_valid():
            limited = claim_daily_request()
            if limited is not None:
                return _limited(request, limited)
            data = form.cleaned_data
            stored = information_request_submit(
                kind=data["kind"],
                record=form.record_ref,
                subject=data["subject"],
                message=data["message"],
                name=data["name"],
                email=data["email"],
            )
            return HttpResponseRedirect(reverse("inquiries:status", args=[stored.reference]) + "?sent=1", status=303)
    else:
        refuse_unknown_parameters(request, "record", "kind")
        initial = {}
        record_value = request.GET.get("record", "")
        parsed = parse_record_reference(record_value) if record_value else None
        ref = find_public_record(*parsed) if parsed else None
        if ref is not None:
            initial["record"] = ref.token
            initial["kind"] = RequestKind.QUESTION if ref.kind == RecordKind.PARTNERSHIP else RequestKind.CORRECTION
        if request.GET.get("kind") in RequestKind.values:
            initial["kind"] = request.GET["kind"]
        form = InformationRequestForm(initial=initial)
        form.record_ref = ref
    return render(
        request,
        "inquiries/new.html",
        {
            "form": form,
            "record": form.record_ref,
            "min_fill_seconds": settings.INQUIRY_MIN_FILL_SECONDS,
            "retention_days": settings.INQUIRY_RETENTION_DAYS,
        },
    )


@never_cache  # two queries; always current, whatever the page cache's data version covers
@require_http_methods(["GET", "HEAD"])
def request_status(request: HttpRequest, reference: str) -> HttpResponse:
    refuse_unknown_parameters(request, "sent")
    if len(reference) != REFERENCE_LENGTH:
        raise Http404("No request has this reference.")
    inquiry = get_object_or_404(
        InformationRequest.objects.only(
            "reference", "kind", "record_kind", "record_id", "status", "public_answer", "received_at", "closed_at"
        ),
        reference=reference,
    )
    context = {
        "inquiry": inquiry,
        "record": public_record_by_id(inquiry.record_kind, inquiry.record_id),
        "had_record": inquiry.record_kind is not None,
        "sent": request.GET.get("sent") == "1",
        "statuses": RequestStatus,
    }
    return render(request, "inquiries/status.html", context)
