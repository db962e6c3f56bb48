"""Public pages of the parties and themes of partnerships: NGOs, police departments, focus areas and surveillance
practices. Each has an alphabetical list (filtered with the API's FilterSet, paginated) and a record page that
lists the published partnerships it is in, the overreach cases that concern it, and its provenance.

Every page costs a fixed number of queries however many rows it shows: a list reads its page of ids, then those
rows with their partnership counts annotated (one query, so a count is computed for the rows shown only); a
record page prefetches what its rows show and caps its list of cases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery, Window
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from cases.models import OverreachCase
from geography.models import Country
from partnerships.filters import NGOFilter, PoliceDepartmentFilter, SurveillancePracticeFilter
from partnerships.models import NGO, FocusArea, Partnership, PoliceDepartment, SurveillancePractice
from provenance.models import Claim, Source, VerificationStatus
from registry.pages import (
    clean_query,
    filter_or_400,
    record_context,
    refuse_unknown_parameters,
)
from registry.presentation import history_entries

PAGE_SIZE = 50
# Overreach cases listed on a record page; the page says how many there are in all.
CASES_LIMIT = 25
DISPUTED_CHOICES = [("true", "Sources disagree on a fact"), ("false", "Sources agree")]


# --- Shared by the list and record pages of this module and of provenance/views.py ------------------------------


@dataclass
class FormField:
    """One control of a list page's filter form, bound to a parameter of the FilterSet."""

    name: str
    label: str
    help: str
    kind: str  # "select", "text", "search" or "date"
    value: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)


def paginate(request: HttpRequest, queryset: models.QuerySet[Any], per_page: int | None = None) -> Page[Any]:
    """The page ``?page=`` asks for (the first for a missing or wrong number, the last beyond the end)."""
    return Paginator(queryset, per_page or PAGE_SIZE).get_page(request.GET.get("page"))


def paginate_rows(
    request: HttpRequest,
    queryset: models.QuerySet[Any],
    rows: Callable[[models.QuerySet[Any]], models.QuerySet[Any]],
) -> Page[Any]:
    """Paginate ``queryset`` (ordered, without costly annotations), then read the rows of the page with
    ``rows(ids)`` in one query: what costs per row (a count) is computed for the rows shown only, not for every
    row skipped over on page 200. ``rows`` must keep the order of ``queryset``."""
    page = paginate(request, queryset)
    page.object_list = list(rows(page.object_list.values("pk")))  # type: ignore[attr-defined]
    return page


def form_fields(filterset: Any, specs: list[tuple[str, str, str, list[tuple[str, str]]]]) -> list[FormField]:
    """The visible controls of a filter form: (parameter, label, kind, choices) each, with the FilterSet's label as
    help text and the value the address holds. A parameter the FilterSet lacks is left out (``q`` on most)."""
    fields = []
    for name, label, kind, choices in specs:
        if name not in filterset.filters:
            continue
        fields.append(
            FormField(
                name=name,
                label=label,
                help=str(filterset.filters[name].label or ""),
                kind=kind,
                value=str(filterset.data.get(name, "")),
                choices=choices,
            )
        )
    return fields


def list_context(
    request: HttpRequest,
    filterset: Any,
    fields: list[FormField],
    rows: Callable[[models.QuerySet[Any]], models.QuerySet[Any]],
) -> dict[str, Any]:
    """What templates/entities/_filters.html and _pagination.html need: the form's controls, the parameters in
    the address that the form does not show (kept as hidden fields and listed), the page (of ``rows``, see
    paginate_rows) and its query string."""
    shown = {f.name for f in fields}
    hidden = [(name, value) for name, value in filterset.data.items() if name not in shown and name != "page"]
    return {
        "page": paginate_rows(request, filterset.qs, rows),
        "fields": fields,
        "hidden": hidden,
        "query": clean_query(request.GET, drop=("page",)),
        "filtered": bool(clean_query(request.GET, drop=("page",))),
    }


def published_partnership_count(relation: str) -> Coalesce:
    """The number of published partnerships linked to the row through ``Partnership.<relation>``: a correlated
    count over the link table's index. For the many organisations with a few partnerships each."""
    counts = (
        Partnership.objects.public()
        .filter(**{relation: OuterRef("pk")})
        .order_by()
        .values(relation)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=models.IntegerField()), 0)


def grouped_partnership_count(relation: str = "partnerships") -> Count:
    """The same number as one GROUP BY over the link table: for the few focus areas and practices with tens of
    thousands of partnerships each, one hash join beats a probe per link."""
    return Count(relation, filter=Q(**{f"{relation}__is_published": True}))


def capped(queryset: models.QuerySet[Any], limit: int) -> list[Any]:
    """The first ``limit`` rows of ``queryset``, each annotated with ``total``: how many rows there are in all
    (a window count, in the same query)."""
    return list(queryset.annotate(total=Window(Count("pk")))[:limit])


def related_partnerships(relation: str, record: models.Model) -> models.QuerySet[Partnership]:
    """Published partnerships with ``record`` among their ``relation``, alphabetical, with what a row shows."""
    return (
        Partnership.objects.public()
        .filter(**{relation: record})
        .defer("search_vector")
        .select_related("region")
        .prefetch_related(
            Prefetch("ngos", queryset=NGO.objects.public().order_by("name", "id")),
            Prefetch("police_departments", queryset=PoliceDepartment.objects.public().order_by("name", "id")),
        )
        .order_by("name", "id")
    )


def filtered_url(url_name: str, parameter: str, slug: str) -> str:
    """The address of a list page filtered by one parameter ("/partnerships/?ngo=safe-horizon")."""
    return f"{reverse(url_name)}?{QueryDict.fromkeys([parameter], value=slug).urlencode()}"


def partnership_list_url(parameter: str, slug: str) -> str:
    return filtered_url("partnerships:list", parameter, slug)


def countries_with(model: type[models.Model]) -> list[tuple[str, str]]:
    """(ISO code, name) of the countries that have a published ``model`` record, for the country filter."""
    published = model.objects.public().filter(jurisdiction__country=OuterRef("pk"))  # type: ignore[attr-defined]
    return list(Country.objects.filter(Exists(published)).order_by("name").values_list("code", "name"))


def record_sources_and_claims(queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
    """What the record footer needs, prefetched: the sources (by title) and the claims with their source."""
    return queryset.prefetch_related(
        Prefetch("sources", queryset=Source.objects.order_by("title", "id")),
        Prefetch("claims", queryset=Claim.objects.select_related("source")),
    )


# --- NGOs and police departments -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Organisation:
    """What differs between the NGO and the police department pages."""

    model: type[NGO] | type[PoliceDepartment]
    filterset: type[NGOFilter] | type[PoliceDepartmentFilter]
    namespace: str  # of the page URLs
    relation: str  # Partnership.<relation>, also the partnership list's filter parameter (singular)
    parameter: str
    api_basename: str
    singular: str
    plural: str  # as a heading
    plural_in_text: str


NGO_PAGES = Organisation(
    model=NGO,
    filterset=NGOFilter,
    namespace="ngos",
    relation="ngos",
    parameter="ngo",
    api_basename="ngo",
    singular="NGO",
    plural="NGOs",
    plural_in_text="NGOs",
)
POLICE_PAGES = Organisation(
    model=PoliceDepartment,
    filterset=PoliceDepartmentFilter,
    namespace="police_departments",
    relation="police_departments",
    parameter="police_department",
    api_basename="police-department",
    singular="police department",
    plural="Police departments",
    plural_in_text="police departments",
)


def organisation_list(request: HttpRequest, kind: Organisation) -> HttpResponse:
    order = ("name", "id")
    filterset = filter_or_400(request, kind.filterset, kind.model.objects.public().order_by(*order), extra=("page",))
    fields = form_fields(
        filterset,
        [
            ("q", "Search", "search", []),
            ("country", "Country", "select", countries_with(kind.model)),
            ("verification_status", "Verification", "select", list(VerificationStatus.choices)),
            ("disputed", "Disputed facts", "select", DISPUTED_CHOICES),
        ],
    )

    def rows(ids: models.QuerySet[Any]) -> models.QuerySet[Any]:
        return (
            kind.model.objects.filter(pk__in=ids)
            .select_related("jurisdiction", "jurisdiction__country")
            .annotate(partnership_count=published_partnership_count(kind.relation))
            .order_by(*order)
        )

    context = {
        "kind": kind,
        "filterset": filterset,
        "api_url": reverse(f"{kind.api_basename}-list", kwargs={"version": "v1"}),
        **list_context(request, filterset, fields, rows),
    }
    return render(request, "entities/organisation_list.html", context)


def organisation_detail(request: HttpRequest, slug: str, kind: Organisation) -> HttpResponse:
    refuse_unknown_parameters(request, "page")
    queryset = kind.model.objects.public().select_related("jurisdiction", "jurisdiction__country")
    record = get_object_or_404(record_sources_and_claims(queryset), slug=slug)
    partnerships = related_partnerships(kind.relation, record)
    involved = OverreachCase.partnerships.through.objects.filter(
        overreachcase=OuterRef("pk"), partnership__is_published=True, **{f"partnership__{kind.relation}": record}
    )
    cases = (
        OverreachCase.objects.public()
        .filter(Exists(involved))
        .select_related("jurisdiction")
        .prefetch_related(
            Prefetch(
                "partnerships",
                queryset=Partnership.objects.public().filter(**{kind.relation: record}).order_by("name", "id"),
                to_attr="involved",
            )
        )
        .order_by("-year", "title", "id")
    )
    context = {
        "kind": kind,
        "record": record,
        "page": paginate(request, partnerships),
        "query": "",
        "cases": capped(cases, CASES_LIMIT),
        "cases_url": "",
        "relation": f"with this {kind.singular}",
        "partnerships_url": partnership_list_url(kind.parameter, record.slug),
        **record_context(
            request,
            record,
            title=record.name,
            kind="Data set record",
            api_url=reverse(f"{kind.api_basename}-detail", kwargs={"version": "v1", "slug": record.slug}),
        ),
    }
    return render(request, "entities/organisation_detail.html", context)


def ngo_list(request: HttpRequest) -> HttpResponse:
    return organisation_list(request, NGO_PAGES)


def ngo_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return organisation_detail(request, slug, NGO_PAGES)


def police_department_list(request: HttpRequest) -> HttpResponse:
    return organisation_list(request, POLICE_PAGES)


def police_department_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return organisation_detail(request, slug, POLICE_PAGES)


# --- Surveillance practices ------------------------------------------------------------------------------------


def surveillance_practice_list(request: HttpRequest) -> HttpResponse:
    order = ("name", "id")
    queryset = SurveillancePractice.objects.public().order_by(*order)
    filterset = filter_or_400(request, SurveillancePracticeFilter, queryset, extra=("page",))
    fields = form_fields(
        filterset,
        [
            ("q", "Search", "search", []),
            ("verification_status", "Verification", "select", list(VerificationStatus.choices)),
            ("disputed", "Disputed facts", "select", DISPUTED_CHOICES),
        ],
    )

    def rows(ids: models.QuerySet[Any]) -> models.QuerySet[Any]:
        return (
            SurveillancePractice.objects.filter(pk__in=ids)
            .annotate(partnership_count=grouped_partnership_count())
            .order_by(*order)
        )

    context = {
        "filterset": filterset,
        "api_url": reverse("surveillance-practice-list", kwargs={"version": "v1"}),
        **list_context(request, filterset, fields, rows),
    }
    return render(request, "entities/practice_list.html", context)


def surveillance_practice_detail(request: HttpRequest, slug: str) -> HttpResponse:
    refuse_unknown_parameters(request, "page")
    record = get_object_or_404(record_sources_and_claims(SurveillancePractice.objects.public()), slug=slug)
    cases = (
        OverreachCase.objects.public()
        .filter(surveillance_methods=record)
        .select_related("jurisdiction")
        .order_by("-year", "title", "id")
    )
    context = {
        "record": record,
        "page": paginate(request, related_partnerships("surveillance_practices", record)),
        "query": "",
        "cases": capped(cases, CASES_LIMIT),
        "cases_url": filtered_url("cases:list", "surveillance_method", record.slug),
        "partnerships_url": partnership_list_url("surveillance_practice", record.slug),
        **record_context(
            request,
            record,
            title=record.name,
            kind="Data set record",
            api_url=reverse("surveillance-practice-detail", kwargs={"version": "v1", "slug": record.slug}),
        ),
    }
    return render(request, "entities/practice_detail.html", context)


# --- Focus areas (a taxonomy: no sources, claims or publication flag of their own) -----------------------------


def focus_area_list(request: HttpRequest) -> HttpResponse:
    refuse_unknown_parameters(request, "page")
    order = ("name", "id")

    def rows(ids: models.QuerySet[Any]) -> models.QuerySet[Any]:
        return (
            FocusArea.objects.filter(pk__in=ids)
            .annotate(partnership_count=grouped_partnership_count())
            .order_by(*order)
        )

    context = {
        "page": paginate_rows(request, FocusArea.objects.order_by(*order), rows),
        "query": "",
        "api_url": reverse("focus-area-list", kwargs={"version": "v1"}),
    }
    return render(request, "entities/focus_area_list.html", context)


def focus_area_detail(request: HttpRequest, slug: str) -> HttpResponse:
    refuse_unknown_parameters(request, "page")
    record = get_object_or_404(FocusArea, slug=slug)
    context = {
        "record": record,
        "page": paginate(request, related_partnerships("focus_areas", record)),
        "query": "",
        "partnerships_url": partnership_list_url("focus_area", record.slug),
        "history": history_entries(record),
        "api_url": reverse("focus-area-detail", kwargs={"version": "v1", "slug": record.slug}),
    }
    return render(request, "entities/focus_area_detail.html", context)
