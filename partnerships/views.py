"""Public pages of partnerships: the faceted, searchable list and the record page.

The list takes the API's query parameters (the same PartnershipFilter), so a page address, its CSV export, its
JSON and its feed differ only in their path. With htmx, changing a filter swaps only the browse area (form and
results); without JavaScript the form submits normally. Both paths render the same template."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, IntegerField, Prefetch, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.functional import cached_property
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from cases.models import OverreachCase
from geography.models import Country, Region
from partnerships.filters import PartnershipFilter
from partnerships.models import (
    NGO,
    AccountabilityMechanism,
    DataSharing,
    FocusArea,
    Partnership,
    PartnershipQuerySet,
    PartnershipStatus,
    PoliceDepartment,
    SurveillancePractice,
)
from provenance.models import Claim, Source, VerificationStatus
from registry.pages import (
    clean_query,
    filter_or_400,
    record_context,
    refuse_unknown_parameters,
)

PAGE_SIZE = 25
LAW_ON_PAGE = 25  # applicable instruments listed on a partnership's page; the rest on its jurisdiction's page
FACET_CACHE_SECONDS = 60
SORTS = [
    ("", "Best match (with a search), else name"),
    ("name", "Name, A to Z"),
    ("-name", "Name, Z to A"),
    ("-year_established", "Newest established first"),
    ("year_established", "Oldest established first"),
    ("-updated_at", "Most recently changed first"),
]


@dataclass
class FacetOption:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class Facet:
    name: str  # the query parameter
    label: str
    options: list[FacetOption]

    @property
    def options_html(self) -> str:
        """The <option> elements, built here rather than in the template: a country facet has two hundred."""
        return format_html_join(
            "",
            '<option value="{}"{}>{} ({})</option>',
            (
                (option.value, mark_safe(" selected") if option.selected else "", option.label, option.count)
                for option in self.options
            ),
        )


def public_partnerships() -> PartnershipQuerySet:
    return (
        Partnership.objects.public()
        .defer("search_vector")
        .select_related("region", "jurisdiction", "jurisdiction__country")
        .prefetch_related(
            Prefetch("ngos", queryset=NGO.objects.public().order_by("name", "id")),
            Prefetch("police_departments", queryset=PoliceDepartment.objects.public().order_by("name", "id")),
            Prefetch("focus_areas", queryset=FocusArea.objects.order_by("name", "id")),
        )
        .with_disputed_flag()
    )


def counts_by(queryset: QuerySet[Partnership], path: str) -> dict[Any, int]:
    """Number of partnerships of ``queryset`` per value of ``path`` (one GROUP BY query)."""
    rows = queryset.order_by().values(path).annotate(n=Count("pk", distinct=True)).values_list(path, "n")
    return {value: n for value, n in rows if value is not None}


def facet_queryset(request: HttpRequest, data: QueryDict, leave_out: str) -> QuerySet[Partnership]:
    """The partnerships matching every filter but ``leave_out``: a facet counts what choosing each of its values
    would give, alongside the other filters."""
    others = data.copy()
    others.pop(leave_out, None)
    others.pop("ordering", None)
    return PartnershipFilter(data=others, queryset=Partnership.objects.public(), request=request).qs


def build_facets(request: HttpRequest, data: QueryDict) -> list[Facet]:
    def options(name: str, path: str, choices: list[tuple[str, str]], key: Any = None) -> list[FacetOption]:
        counts = counts_by(facet_queryset(request, data, name), path)
        chosen = data.get(name, "")
        found = [
            FacetOption(value, label, counts.get(key(value) if key else value, 0), value == chosen)
            for value, label in choices
        ]
        # Values with no partnership under the other filters are left out, unless chosen.
        return [option for option in found if option.count or option.selected]

    regions = list(Region.objects.order_by("name").values_list("pk", "slug", "name"))
    region_ids = {slug: pk for pk, slug, _ in regions}
    countries = list(Country.objects.order_by("name").values_list("pk", "code", "name"))
    country_ids = {code: pk for pk, code, _ in countries}
    focus = list(FocusArea.objects.order_by("name").values_list("pk", "slug", "name"))
    focus_ids = {slug: pk for pk, slug, _ in focus}
    practices = list(SurveillancePractice.objects.public().order_by("name").values_list("pk", "slug", "name"))
    practice_ids = {slug: pk for pk, slug, _ in practices}
    return [
        Facet(
            "region",
            "Region",
            options("region", "region", [(s, n) for _, s, n in regions], key=region_ids.get),
        ),
        Facet(
            "country",
            "Country",
            options("country", "jurisdiction__country", [(c, n) for _, c, n in countries], key=country_ids.get),
        ),
        Facet(
            "focus_area",
            "Focus area",
            options("focus_area", "focus_areas", [(s, n) for _, s, n in focus], key=focus_ids.get),
        ),
        Facet(
            "surveillance_practice",
            "Surveillance practice",
            options(
                "surveillance_practice",
                "surveillance_practices",
                [(s, n) for _, s, n in practices],
                key=practice_ids.get,
            ),
        ),
        Facet("data_sharing", "Data shared with police", options("data_sharing", "data_sharing", DataSharing.choices)),
        Facet("status", "Status", options("status", "status", PartnershipStatus.choices)),
        Facet(
            "verification_status",
            "Verification",
            options("verification_status", "verification_status", VerificationStatus.choices),
        ),
    ]


def filters_key(kind: str, data: QueryDict) -> str:
    chosen = sorted((name, value) for name, value in data.items() if name not in ("ordering", "page"))
    return f"partnership-{kind}:v1:" + hashlib.sha256(urlencode(chosen).encode()).hexdigest()


def cached_facets(request: HttpRequest, data: QueryDict) -> list[Facet]:
    """The facets of a filter combination, kept in the shared cache for FACET_CACHE_SECONDS: computing them is
    one GROUP BY per facet over every matching partnership (tens of milliseconds each at 100k rows), and most
    readers open the same few views. The results themselves are always read live."""
    key = filters_key("facets", data)
    facets: list[Facet] | None = cache.get(key)
    if facets is None:
        facets = build_facets(request, data)
        cache.set(key, facets, FACET_CACHE_SECONDS)
    return facets


class CachedCountPaginator(Paginator):
    """Django's paginator with the number of matches kept in the shared cache like the facets (a COUNT over
    100k partnerships costs more than the page itself). The page's rows are always read live."""

    def __init__(self, object_list: Any, per_page: int, *, count_key: str) -> None:
        super().__init__(object_list, per_page)
        self.count_key = count_key

    @cached_property
    def count(self) -> int:
        value = cache.get(self.count_key)
        if value is None:
            value = super().count
            cache.set(self.count_key, value, FACET_CACHE_SECONDS)
        return int(value)

    def page(self, number: Any) -> Page:
        """A page of up to ``per_page`` rows read live (Django's would cut it at the cached count)."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return Page(self.object_list[bottom : bottom + self.per_page], number, self)


def partnership_list(request: HttpRequest) -> HttpResponse:
    filterset = filter_or_400(request, PartnershipFilter, public_partnerships(), extra=("page",))
    data = filterset.data
    results = filterset.qs
    if not data.get("ordering") and not data.get("q"):
        results = results.order_by("name", "slug")
    paginator = CachedCountPaginator(results, PAGE_SIZE, count_key=filters_key("count", data))
    page: Page[Partnership] = paginator.get_page(request.GET.get("page"))
    query = clean_query(request.GET, drop=("page",))
    mechanisms = list(AccountabilityMechanism.objects.public().order_by("position", "name").values_list("slug", "name"))
    api_list = reverse("partnership-list", kwargs={"version": "v1"})
    context = {
        "filterset": filterset,
        "page": page,
        "facets": cached_facets(request, data),
        "mechanisms": mechanisms,
        "sorts": SORTS,
        "query": query,
        "active": [(name, value) for name, value in data.items() if name != "ordering"],
        "formats": {
            "csv": f"{api_list}?{query + '&' if query else ''}format=csv",
            "json": f"{api_list}{'?' + query if query else ''}",
            "feed": f"{reverse('feeds:partnerships')}{'?' + query if query else ''}",
        },
    }
    template = "partnerships/_browse.html" if request.headers.get("HX-Request") else "partnerships/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def partnership_detail(request: HttpRequest, slug: str) -> HttpResponse:
    refuse_unknown_parameters(request)
    queryset = (
        public_partnerships()
        .with_checklist()
        .prefetch_related(
            Prefetch("surveillance_practices", queryset=SurveillancePractice.objects.public().order_by("name", "id")),
            Prefetch("sources", queryset=Source.objects.order_by("title", "id")),
            Prefetch("claims", queryset=Claim.objects.select_related("source")),
        )
    )
    partnership = get_object_or_404(queryset, slug=slug)
    mechanisms = list(AccountabilityMechanism.objects.public().order_by("position", "name"))
    # The jurisdiction's chain, nearest first (London, England, United Kingdom, International): its law, nearest
    # first as on the jurisdiction's own page, and only the first LAW_ON_PAGE (a national jurisdiction can have
    # hundreds of instruments: the page links to all of them, paginated, on the jurisdiction's page).
    chain = partnership.jurisdiction.ancestors()
    nearness = Case(
        *[When(jurisdiction_id=jurisdiction.pk, then=Value(index)) for index, jurisdiction in enumerate(chain)],
        default=Value(len(chain)),
        output_field=IntegerField(),
    )
    law = list(
        partnership.applicable_law()
        .select_related("jurisdiction")
        .annotate(nearness=nearness)
        .order_by("nearness", "short_name", "id")[: LAW_ON_PAGE + 1]
    )
    context = {
        "p": partnership,
        "checklist": partnership.checklist(mechanisms),
        "chain": list(reversed(chain)),
        "law": law[:LAW_ON_PAGE],
        "more_law": len(law) > LAW_ON_PAGE,
        "cases": list(OverreachCase.objects.public().filter(partnerships=partnership).order_by("-year", "title")),
        **record_context(
            request,
            partnership,
            title=partnership.name,
            kind="Data set record",
            api_url=reverse("partnership-detail", kwargs={"version": "v1", "slug": partnership.slug}),
        ),
    }
    return render(request, "partnerships/detail.html", context)
