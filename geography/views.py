"""The map page: a world choropleth of published partnerships per country, with its legend and a table of the
same numbers (every country with partnerships, linked to the list filtered to it)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from geography.worldmap.render import render_world_map
from partnerships.models import Partnership
from registry.charts import format_number

# Bump the version when the shape of the cached data changes.
MAP_CACHE_KEY = "geography:map:counts:v1"
MAP_CACHE_SECONDS = 60


def country_counts() -> dict[str, Any]:
    """Published partnerships per country of their jurisdiction, in one GROUP BY query: ``counts`` and ``names``
    by ISO alpha-2 code, and ``elsewhere``, those whose jurisdiction lies in no single country (international
    or supranational)."""
    rows = (
        Partnership.objects.public()
        .order_by()
        .values_list("jurisdiction__country__code", "jurisdiction__country__name")
        .annotate(n=Count("id"))
    )
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    elsewhere = 0
    for code, name, n in rows:
        if code is None:
            elsewhere += n
            continue
        counts[code] = n
        names[code] = name
    return {"counts": counts, "names": names, "elsewhere": elsewhere}


def cached_country_counts() -> dict[str, Any]:
    data = cache.get(MAP_CACHE_KEY)
    if data is None:
        data = country_counts()
        cache.set(MAP_CACHE_KEY, data, MAP_CACHE_SECONDS)
    return data


def country_link(code: str) -> str:
    return f"{reverse('partnerships:list')}?{urlencode({'country': code})}"


def world_map(request: HttpRequest) -> HttpResponse:
    data = cached_country_counts()
    rendered = render_world_map(
        data["counts"], link=country_link, title="Partnerships per country", names=data["names"]
    )
    total = sum(data["counts"].values()) + data["elsewhere"]
    context = {
        "map": rendered,
        "legend": [
            (
                entry.css_class,
                format_number(entry.low)
                if entry.low == entry.high
                else f"{format_number(entry.low)}\u2013{format_number(entry.high)}",
                entry.high,
            )
            for entry in rendered.legend
        ],
        "rows": [{"name": row.name, "url": row.url, "count_text": format_number(row.count)} for row in rendered.rows],
        "countries": len(rendered.rows),
        "countries_text": format_number(len(rendered.rows)),
        "total": total,
        "total_text": format_number(total),
        "elsewhere": data["elsewhere"],
        "elsewhere_text": format_number(data["elsewhere"]),
        "off_map": [row for row in rendered.rows if not row.on_map],
    }
    return render(request, "geography/map.html", context)
