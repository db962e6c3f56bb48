"""Public pages of the case studies: the list of overreach cases (/cases/, filtered with the API's FilterSet
and paginated) and one case (/cases/<slug>/) with its partnerships, methods, issues, finder, outcome, quotes,
the law in force where and when it happened, and its sources.

Both pages cost a fixed number of queries whatever the number of rows (prefetches, never a query per row)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import F, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from cases.filters import OverreachCaseFilter
from cases.models import CaseQuote, FinderKind, IssueType, OverreachCase
from legal.models import LegalInstrument
from legal.views import (
    CITATION_KIND,
    LIST_CAP,
    active_filters,
    api_url,
    hidden_params,
    page_links,
    page_of,
    query_without,
)
from partnerships.models import Partnership, SurveillancePractice
from provenance.models import claims_prefetch
from provenance.models import sources_prefetch as record_sources_prefetch
from registry.pages import filter_or_400, record_context, refuse_unknown_parameters

PAGE_SIZE = 20
FORM_FIELDS = {"issue", "surveillance_method", "found_by_kind", "year_min", "year_max"}


def partnerships_prefetch() -> Prefetch:
    return Prefetch(
        "partnerships",
        queryset=Partnership.objects.public().only("id", "slug", "name", "is_synthetic").order_by("name", "id"),
    )


def methods_prefetch() -> Prefetch:
    return Prefetch(
        "surveillance_methods",
        queryset=SurveillancePractice.objects.public().only("id", "slug", "name").order_by("name", "id"),
    )


def issues_prefetch() -> Prefetch:
    return Prefetch("issues", queryset=IssueType.objects.order_by("name", "id"))


def case_list(request: HttpRequest) -> HttpResponse:
    base = OverreachCase.objects.public().select_related("jurisdiction")
    filterset = filter_or_400(request, OverreachCaseFilter, base, extra=("page",))
    cases = filterset.qs.prefetch_related(partnerships_prefetch(), methods_prefetch(), issues_prefetch()).order_by(
        F("year").desc(nulls_last=True), "title", "id"
    )
    page = page_of(request, cases, per_page=PAGE_SIZE)
    query = query_without(request.GET)
    context = {
        "page": page,
        "cases": page.object_list,
        "paginator": page.paginator,
        "page_links": page_links(request, page, anchor="case-results-heading"),
        "active": active_filters(request, filterset),
        "hidden": hidden_params(request, FORM_FIELDS),
        "values": {name: request.GET.get(name, "") for name in FORM_FIELDS},
        "issues": list(IssueType.objects.order_by("name").values_list("slug", "name")),
        "methods": list(SurveillancePractice.objects.public().order_by("name").values_list("slug", "name")),
        "finder_kinds": FinderKind.choices,
        "this_year": timezone.localdate().year,
        "api_list_url": reverse("case-list", kwargs={"version": "v1"}) + query,
    }
    return render(request, "cases/list.html", context)


def case_detail(request: HttpRequest, slug: str) -> HttpResponse:
    refuse_unknown_parameters(request)
    record = get_object_or_404(
        OverreachCase.objects.public()
        .select_related("jurisdiction", "jurisdiction__country")
        .prefetch_related(
            partnerships_prefetch(),
            methods_prefetch(),
            issues_prefetch(),
            Prefetch("quotes", queryset=CaseQuote.objects.select_related("source").order_by("position", "id")),
            record_sources_prefetch(),
            claims_prefetch(),
        ),
        slug=slug,
    )
    # The law in force where it happened at the end of the year it happened (today when the year is unknown).
    on = datetime.date(record.year, 12, 31) if record.year else timezone.localdate()
    law_in_force = (
        LegalInstrument.objects.public()
        .applicable_to(record.jurisdiction, on=on)
        .only("slug", "short_name", "title", "kind", "year", "jurisdiction__slug", "jurisdiction__name")
        .order_by("jurisdiction__name", "short_name", "id")
    )
    law = list(law_in_force[: LIST_CAP + 1])
    context: dict[str, Any] = {
        "record": record,
        "law": law[:LIST_CAP],
        "law_total": len(law) if len(law) <= LIST_CAP else law_in_force.count(),
        "law_on": on,
        **record_context(request, record, title=record.title, kind=CITATION_KIND, api_url=api_url("case", record.slug)),
    }
    return render(request, "cases/detail.html", context)
