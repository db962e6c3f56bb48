"""The home page: what the registry is, its key figures, charts of what it holds, the latest changes and the ways
in; and the site's own error pages.

The figures and charts are aggregates over every published partnership (one GROUP BY query each, never a query
per row). At 100k partnerships they cost real time, so their data is kept in the default cache for a minute;
the latest changes are read fresh on every request (one indexed query)."""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse

from cases.models import OverreachCase
from geography.models import Country, Region
from legal.models import LegalInstrument
from partnerships.models import (
    AccountabilityMechanism,
    AssessmentStatus,
    FocusArea,
    Partnership,
    SurveillancePractice,
)
from provenance.models import VerificationStatus
from registry.charts import Chart, bar_chart, column_chart_by_year, format_number, stacked_bar_chart
from registry.middleware import API_PREFIX, database_problem, database_problem_response, request_id_of

# Bump the version when the shape of the cached data changes, so that no worker reads an old shape.
HOME_CACHE_KEY = "registry:home:summary:v1"
HOME_CACHE_SECONDS = 60
LATEST_CHANGES = 20

MECHANISM_SERIES = (
    (AssessmentStatus.PRESENT.value, "Present"),
    (AssessmentStatus.ABSENT.value, "Absent"),
    (AssessmentStatus.UNKNOWN.value, "Unknown"),
)


def partnership_list_url(**params: str) -> str:
    """The partnership list filtered by ``params`` (the API's filter parameters)."""
    return f"{reverse('partnerships:list')}?{urlencode(params)}"


def home_summary() -> dict[str, Any]:
    """The figures and the chart data of the home page, from published records only: plain values, cacheable.

    Ten queries whatever the number of rows: five counts and one GROUP BY per chart."""
    published = Partnership.objects.public()
    figures = {
        "partnerships": published.count(),
        # One EXISTS per country (a few hundred), not a join over every partnership.
        "countries": Country.objects.filter(
            Exists(Partnership.objects.public().filter(jurisdiction__country=OuterRef("pk")))
        ).count(),
        "cases": OverreachCase.objects.public().count(),
        "instruments": LegalInstrument.objects.public().count(),
        # The stored status follows the claims (provenance.services), and is indexed.
        "disputed": published.with_status(VerificationStatus.DISPUTED).count(),
    }
    by_year = list(published.order_by().values_list("year_established").annotate(n=Count("id")))
    years = {year: n for year, n in by_year if year is not None}
    # Every region, with 0 where it has no published partnership: the chart shows those with some, the ways in
    # list them all.
    regions = list(
        Region.objects.annotate(n=Count("partnerships", filter=Q(partnerships__is_published=True)))
        .order_by("-n", "name")
        .values_list("slug", "name", "n")
    )
    focus_areas = list(
        FocusArea.objects.filter(partnerships__is_published=True)
        .annotate(n=Count("partnerships"))
        .order_by("-n", "name")
        .values_list("slug", "name", "n")
    )
    practices = list(
        SurveillancePractice.objects.public()
        .filter(partnerships__is_published=True)
        .annotate(n=Count("partnerships"))
        .order_by("-n", "name")
        .values_list("slug", "name", "n")
    )
    assessed = Q(assessments__partnership__is_published=True)
    mechanisms = list(
        AccountabilityMechanism.objects.public()
        .annotate(
            present=Count("assessments", filter=assessed & Q(assessments__status=AssessmentStatus.PRESENT)),
            absent=Count("assessments", filter=assessed & Q(assessments__status=AssessmentStatus.ABSENT)),
        )
        .order_by("position", "name")
        .values_list("slug", "name", "present", "absent")
    )
    return {
        "figures": figures,
        "years": years,
        "unknown_year": sum(n for year, n in by_year if year is None),
        "regions": regions,
        "focus_areas": focus_areas,
        "practices": practices,
        "mechanisms": mechanisms,
    }


def cached_home_summary() -> dict[str, Any]:
    summary = cache.get(HOME_CACHE_KEY)
    if summary is None:
        summary = home_summary()
        cache.set(HOME_CACHE_KEY, summary, HOME_CACHE_SECONDS)
    return summary


# registry/charts.py draws a linked bar as an <a> inside the chart's role="img" SVG, which axe-core reports as a
# serious violation (nested-interactive). Until that module changes, the links are in the chart's data table only
# (where keyboard and screen-reader users follow them anyway) and the graphic stays a plain image. Set to True
# to put the links back on the bars.
BAR_LINKS_IN_SVG = False


def linked_bar_chart(title: str, items: list[tuple[str, int, str | None]], **options: Any) -> Chart:
    """``bar_chart`` whose rows link in the table; the bars link too only when BAR_LINKS_IN_SVG is set."""
    chart = bar_chart(title, items, **options)
    if BAR_LINKS_IN_SVG:
        return chart
    plain = bar_chart(title, [(label, value, None) for label, value, _ in items], **options)
    return replace(chart, svg=plain.svg)


def home_charts(summary: dict[str, Any]) -> list[Chart]:
    """The home page's charts from ``home_summary()`` data. Each row links to the list filtered to what it counts."""
    total = summary["figures"]["partnerships"]
    mechanism_rows = [
        (name, {"present": present, "absent": absent, "unknown": max(total - present - absent, 0)})
        for _slug, name, present, absent in summary["mechanisms"]
    ]
    return [
        column_chart_by_year(
            "Partnerships established per year", summary["years"], unit="Partnerships", chart_id="chart-years"
        ),
        linked_bar_chart(
            "Partnerships by region",
            [(name, n, partnership_list_url(region=slug)) for slug, name, n in summary["regions"] if n > 0],
            label_heading="Region",
            unit="Partnerships",
            chart_id="chart-regions",
        ),
        linked_bar_chart(
            "Partnerships by focus area",
            [(name, n, partnership_list_url(focus_area=slug)) for slug, name, n in summary["focus_areas"]],
            label_heading="Focus area",
            unit="Partnerships",
            show_total=False,  # a partnership can have several focus areas
            chart_id="chart-focus-areas",
        ),
        linked_bar_chart(
            "Surveillance practices in use",
            [(name, n, partnership_list_url(surveillance_practice=slug)) for slug, name, n in summary["practices"]],
            label_heading="Surveillance practice",
            unit="Partnerships using it",
            show_total=False,  # a partnership can use several practices
            chart_id="chart-practices",
        ),
        stacked_bar_chart(
            "Accountability mechanisms: present, absent or unknown",
            mechanism_rows,
            MECHANISM_SERIES,
            label_heading="Accountability mechanism",
            chart_id="chart-mechanisms",
        ),
    ]


def home(request: HttpRequest) -> HttpResponse:
    summary = cached_home_summary()
    latest = (
        Partnership.objects.public()
        .with_disputed_flag()
        .select_related("region")
        .only(
            "slug",
            "name",
            "region__name",
            "year_established",
            "verification_status",
            "is_synthetic",
            "updated_at",
        )
        .order_by("-updated_at", "-id")[:LATEST_CHANGES]
    )
    context = {
        "figures": {name: format_number(value) for name, value in summary["figures"].items()},
        "charts": home_charts(summary),
        "unknown_year": summary["unknown_year"],
        "unknown_year_text": format_number(summary["unknown_year"]),
        "mechanisms": [
            (name, partnership_list_url(mechanism_lacking=slug)) for slug, name, _p, _a in summary["mechanisms"]
        ],
        "regions": [
            (name, partnership_list_url(region=slug), format_number(n))
            for slug, name, n in sorted(summary["regions"], key=lambda row: row[1].casefold())
        ],
        "latest": latest,
        "latest_count": LATEST_CHANGES,
        "disputed_url": partnership_list_url(verification_status=VerificationStatus.DISPUTED.value),
    }
    return render(request, "registry/home.html", context)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 answer: a generic page (the API's error body under /api/) with the request id to quote, never a
    traceback. Rendered without context processors, as the error may be the database; an error that is the
    database not answering (raised outside a view, e.g. saving the session) gets the 503 instead."""
    exc = sys.exc_info()[1]
    problem = database_problem(exc)
    if exc is not None and problem is not None:
        return database_problem_response(request, problem, exc)
    request_id = request_id_of(request)
    if request.path.startswith(API_PREFIX):
        detail = f"The registry could not answer this request. Request id: {request_id}."
        return JsonResponse({"errors": [{"code": "server_error", "detail": detail, "attr": None}]}, status=500)
    return HttpResponse(render_to_string("500.html", {"request_id": request_id}), status=500)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    problems = getattr(exception, "problems", None) or {}
    return render(request, "400.html", {"problems": problems}, status=400)
