"""Draw the world map of partnerships per country as accessible inline SVG, from the committed ``world.json``.

No JavaScript and no inline styles (the site's Content Security Policy forbids both): colours are CSS classes
(``map-b0`` to ``map-b4``, in ``static/css/map.css``), positions are SVG attributes. Countries with partnerships
are links; every country is labelled for screen readers; microstates are circles drawn above the countries; and
``rows`` carries the same data for a table, including countries the map cannot draw."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

WORLD_JSON = Path(__file__).resolve().parent / "world.json"
BUCKETS = 4  # colour classes for counts above zero: map-b1 .. map-b4; map-b0 is zero
NO_DATA_CLASS = "map-na"
POINT_RADIUS = 2.5  # microstate circles, in map units (the map is about 1000 wide)


@dataclass(frozen=True)
class Country:
    """One country of the geometry: ``d`` is its SVG path ("" if it is only a point), ``point`` the centre of
    the circle a microstate is drawn as, ``label`` a point inside the shape."""

    code: str
    name: str
    d: str
    label: tuple[float, float]
    point: tuple[float, float] | None


@dataclass(frozen=True)
class Geometry:
    view_box: str
    countries: tuple[Country, ...]
    unassigned: tuple[str, ...]  # paths of land attributed to no country (drawn, not labelled)
    attribution: str

    def by_code(self) -> dict[str, Country]:
        return {c.code: c for c in self.countries}


@dataclass(frozen=True)
class LegendEntry:
    css_class: str
    low: int
    high: int  # equal to ``low`` for a single value
    label: str  # "0", "1", "2-4" (with an en dash)


@dataclass(frozen=True)
class MapRow:
    code: str
    name: str
    count: int
    url: str | None
    css_class: str
    on_map: bool  # False when the map has no shape or point for the country (it is only in the table)


@dataclass(frozen=True)
class WorldMap:
    svg: SafeString
    legend: tuple[LegendEntry, ...]
    rows: tuple[MapRow, ...]
    max_count: int
    attribution: str


@lru_cache(maxsize=1)
def load_geometry(path: Path = WORLD_JSON) -> Geometry:
    """The map geometry built by ``manage.py build_world_map`` (read once per process)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return Geometry(
        view_box=data["viewBox"],
        countries=tuple(
            Country(
                code=c["code"],
                name=c["name"],
                d=c["d"],
                label=(c["label"][0], c["label"][1]),
                point=None if c["point"] is None else (c["point"][0], c["point"][1]),
            )
            for c in data["countries"]
        ),
        unassigned=tuple(u["d"] for u in data["unassigned"]),
        attribution=data["attribution"],
    )


def bucket_ranges(max_count: int) -> list[tuple[int, int]]:
    """Count ranges for the colour classes above zero, on a geometric scale (counts per country are skewed: a
    few countries have most partnerships), at most ``BUCKETS``, the last ending at ``max_count``."""
    if max_count <= 0:
        return []
    uppers: list[int] = []
    for step in range(1, BUCKETS + 1):
        upper = max_count if step == BUCKETS else max(1, round(max_count ** (step / BUCKETS)))
        if not uppers or upper > uppers[-1]:
            uppers.append(upper)
    lows = [1] + [u + 1 for u in uppers[:-1]]
    return list(zip(lows, uppers, strict=True))


def _classes(ranges: list[tuple[int, int]]) -> list[str]:
    # The highest range is always the darkest class, however few ranges there are.
    return [f"map-b{BUCKETS - (len(ranges) - 1 - i)}" for i in range(len(ranges))]


def bucket_class(count: int, ranges: list[tuple[int, int]]) -> str:
    """The colour class of ``count`` given ``bucket_ranges(max_count)``."""
    if count <= 0:
        return "map-b0"
    for (_low, high), css_class in zip(ranges, _classes(ranges), strict=True):
        if count <= high:
            return css_class
    return f"map-b{BUCKETS}"


def count_label(name: str, count: int) -> str:
    """ "Germany: 3 partnerships" (also what a screen reader reads for the country)."""
    if count <= 0:
        return gettext("%(name)s: no partnerships") % {"name": name}
    return ngettext("%(name)s: %(count)d partnership", "%(name)s: %(count)d partnerships", count) % {
        "name": name,
        "count": count,
    }


def _fallback_name(code: str) -> str:
    from django_countries import countries

    return str(countries.name(code)) or code


def render_world_map(
    counts: Mapping[str, int],
    *,
    link: Callable[[str], str | None],
    title: str,
    names: Mapping[str, str] | None = None,
    id_prefix: str = "world-map",
) -> WorldMap:
    """The map of ``counts`` (partnerships per ISO alpha-2 code).

    ``link(code)`` gives the URL of a country's partnerships, or None for no link; it is called only for countries
    with at least one. ``names`` (code to name, e.g. from the Country table) overrides the map's own English
    names. ``id_prefix`` keeps the ids of the SVG's title and description unique on the page. Everything from
    the arguments is escaped."""
    geometry = load_geometry()
    by_code = geometry.by_code()
    names = names or {}
    counts = {code.upper(): int(n) for code, n in counts.items()}
    max_count = max([0, *counts.values()])
    ranges = bucket_ranges(max_count)

    def name_of(code: str, default: str | None = None) -> str:
        return names.get(code) or default or _fallback_name(code)

    urls: dict[str, str | None] = {code: link(code) if n > 0 else None for code, n in counts.items()}

    shapes: list[str] = []
    points: list[str] = []
    for country in sorted(geometry.countries, key=lambda c: name_of(c.code, c.name).casefold()):
        code = country.code
        count = counts.get(code, 0)
        css = bucket_class(count, ranges)
        label = escape(count_label(name_of(code, country.name), count))
        url = urls.get(code)
        if country.point is None:
            shapes.append(_labelled(f'<path class="map-country {css}" d="{escape(country.d)}"', "path", label, url))
            continue
        # A microstate: its speck of a shape (if any) is decoration, the circle above everything is the country.
        if country.d:
            shapes.append(f'<path class="map-country {css}" d="{escape(country.d)}" aria-hidden="true"/>')
        cx, cy = country.point
        circle = f'<circle class="map-point {css}" cx="{cx:g}" cy="{cy:g}" r="{POINT_RADIUS:g}"'
        points.append(_labelled(circle, "circle", label, url))
    for d in geometry.unassigned:
        shapes.append(f'<path class="map-country {NO_DATA_CLASS}" d="{escape(d)}" aria-hidden="true"/>')

    with_partnerships = sum(1 for n in counts.values() if n > 0)
    description = ngettext(
        "%(n)d country has partnerships in the registry; the darker the colour, the more it has. "
        "Countries with partnerships are links. The same numbers are in the table of countries.",
        "%(n)d countries have partnerships in the registry; the darker the colour, the more they have. "
        "Countries with partnerships are links. The same numbers are in the table of countries.",
        with_partnerships,
    ) % {"n": with_partnerships}
    prefix = escape(id_prefix)
    svg = "".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="world-map" viewBox="{escape(geometry.view_box)}" '
            f'role="group" aria-labelledby="{prefix}-title" aria-describedby="{prefix}-desc">',
            f'<title id="{prefix}-title">{escape(title)}</title>',
            f'<desc id="{prefix}-desc">{escape(description)}</desc>',
            '<g class="map-countries">',
            *shapes,
            "</g>",
            '<g class="map-points">',
            *points,
            "</g>",
            "</svg>",
        ]
    )

    legend = [LegendEntry("map-b0", 0, 0, "0")]
    for (low, high), css_class in zip(ranges, _classes(ranges), strict=True):
        legend.append(LegendEntry(css_class, low, high, str(low) if low == high else f"{low}\u2013{high}"))

    rows = sorted(
        (
            MapRow(
                code=code,
                name=name_of(code, by_code[code].name if code in by_code else None),
                count=n,
                url=urls[code],
                css_class=bucket_class(n, ranges),
                on_map=code in by_code,
            )
            for code, n in counts.items()
        ),
        key=lambda row: (-row.count, row.name.casefold(), row.code),
    )
    return WorldMap(
        svg=mark_safe(svg),  # noqa: S308 -- built above from escaped values only
        legend=tuple(legend),
        rows=tuple(rows),
        max_count=max_count,
        attribution=geometry.attribution,
    )


def _labelled(opening: str, tag: str, label: str, url: str | None) -> str:
    """A shape whose ``opening`` tag is given (unclosed), labelled with ``label`` (already escaped): inside a link
    when ``url`` is given, otherwise an image that is not focusable."""
    if url is None:
        return f'{opening} role="img" aria-label="{label}"><title>{label}</title></{tag}>'
    return f'<a href="{escape(url)}" aria-label="{label}"><title>{label}</title>{opening}/></a>'
