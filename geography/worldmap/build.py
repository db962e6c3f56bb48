"""Build ``world.json``, the world map's geometry, from the ``world-atlas`` TopoJSON (Natural Earth data).

Run once by ``manage.py build_world_map``; the result is committed and read by ``render.py`` at request time, so
the site needs neither Node.js nor any geometry library at run time. Everything here is plain Python:

1. **decode** the TopoJSON: arcs are quantized (integers, mapped to degrees by the ``transform``) and
   delta-encoded (each position is the difference from the previous one); a ring is a list of arc indexes where a
   negative index ``~i`` means arc ``i`` reversed;
2. **project** every arc with the Equal Earth projection (equal-area, so a country's size on the map is its size
   on the globe) into SVG units, y pointing down;
3. **simplify** each arc (Douglas-Peucker) *before* assembling the rings: an arc shared by two countries is
   simplified once, so neighbours keep a common border without gaps or overlaps;
4. **round** to a fixed precision and write each country as one SVG path of relative moves, with a label point
   (the pole of inaccessibility of its largest polygon, always inside the shape);
5. add a **point** for microstates (too small to see or absent at this resolution) so they can be drawn as a
   circle and reached by keyboard.

world-atlas ids are ISO 3166-1 numeric codes; they are mapped to alpha-2 with the ISO table shipped in
django-countries (a runtime dependency already). Features without an id are mapped by name where ISO has a code
(Kosovo, XK, user-assigned but in common use), merged into the country ISO counts them in (N. Cyprus into CY,
Somaliland into SO), or kept as unlabelled background (Siachen Glacier, Indian Ocean Ter.)."""

from __future__ import annotations

import hashlib
import heapq
import io
import itertools
import json
import math
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Point = tuple[float, float]
Ring = list[Point]
Polygon = list[Ring]

WORLD_ATLAS_PACKAGE = "world-atlas"
WORLD_ATLAS_VERSION = "2.0.2"
# Subresource integrity of world-atlas-2.0.2.tgz as published on the npm registry (``npm view world-atlas@2.0.2
# dist.integrity``); the tarball is checked against it, so the map is built from exactly this data.
WORLD_ATLAS_INTEGRITY = (
    "sha512-IXfV0qwlKXpckz1FhwXVwKRjiIhOnWttOskm5CtxMsjgE/MXAYRHWJqgXOpM8IkcPBoXnyTU5lFHcYa5ChG0LQ=="
)
RESOLUTIONS = ("110m", "50m")
DEFAULT_RESOLUTION = "50m"
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "world.json"

# Output geometry: SVG units (the map is DEFAULT_WIDTH wide before cropping to the land), how far a simplified
# arc may stray from the original, decimals kept, and the smallest ring (in square units) worth drawing.
DEFAULT_WIDTH = 1000.0
DEFAULT_TOLERANCE = 0.2
DEFAULT_PRECISION = 1
MIN_RING_AREA = 0.6
MARGIN = 4.0  # room for the microstate circles at the edges
# A country whose drawn shape fits in a square this size (SVG units) also gets a point, so it can be seen.
SMALL_SHAPE = 3.0

# Features world-atlas gives no ISO numeric id, by their ``name`` property.
NAMELESS_FEATURES: dict[str, str | None] = {
    "Kosovo": "XK",  # user-assigned code used by the EU, IMF and most registries; not in ISO 3166-1 proper
    "N. Cyprus": "CY",  # ISO 3166-1 counts it as part of Cyprus
    "Somaliland": "SO",  # ISO 3166-1 counts it as part of Somalia
    "Siachen Glacier": None,  # disputed between India and Pakistan: drawn, attributed to neither
    "Indian Ocean Ter.": None,  # Christmas Island and the Cocos Islands together: drawn, unlabelled
}
EXTRA_NAMES = {
    "XK": "Kosovo",
    "NR": "Nauru",  # django-countries 9.1 follows ISO's "Naoero"; English readers know it as Nauru
}
# Not a country, and half the map's height of nothing; partnerships there are not expected.
EXCLUDED = frozenset({"AQ"})

# Microstates and small islands: (ISO alpha-2, latitude, longitude) of the capital or main island. Each is drawn
# as a circle on top of its (tiny, or at this resolution missing) shape, so that it can be seen and focused.
MICROSTATES: tuple[tuple[str, float, float], ...] = (
    ("AD", 42.546, 1.601),  # Andorra
    ("AG", 17.078, -61.800),  # Antigua and Barbuda
    ("AW", 12.521, -69.968),  # Aruba
    ("BB", 13.194, -59.543),  # Barbados
    ("BH", 26.067, 50.558),  # Bahrain
    ("BM", 32.321, -64.757),  # Bermuda
    ("BN", 4.535, 114.728),  # Brunei
    ("CV", 15.120, -23.605),  # Cabo Verde
    ("CW", 12.170, -68.990),  # Curaçao
    ("DM", 15.415, -61.371),  # Dominica
    ("FM", 6.917, 158.158),  # Micronesia (Palikir)
    ("GD", 12.116, -61.679),  # Grenada
    ("GG", 49.455, -2.576),  # Guernsey
    ("GI", 36.140, -5.353),  # Gibraltar
    ("HK", 22.320, 114.170),  # Hong Kong
    ("IM", 54.236, -4.548),  # Isle of Man
    ("JE", 49.214, -2.131),  # Jersey
    ("KI", 1.451, 172.971),  # Kiribati (Tarawa)
    ("KM", -11.875, 43.872),  # Comoros
    ("KN", 17.357, -62.783),  # Saint Kitts and Nevis
    ("KY", 19.313, -81.255),  # Cayman Islands
    ("LC", 13.909, -60.979),  # Saint Lucia
    ("LI", 47.166, 9.555),  # Liechtenstein
    ("LU", 49.815, 6.130),  # Luxembourg
    ("MC", 43.738, 7.424),  # Monaco
    ("MH", 7.131, 171.184),  # Marshall Islands (Majuro)
    ("MO", 22.199, 113.544),  # Macao
    ("MT", 35.937, 14.375),  # Malta
    ("MU", -20.348, 57.552),  # Mauritius
    ("MV", 4.175, 73.509),  # Maldives (Malé)
    ("NR", -0.523, 166.932),  # Nauru
    ("PS", 31.947, 35.227),  # Palestine
    ("PW", 7.515, 134.583),  # Palau
    ("SC", -4.680, 55.492),  # Seychelles
    ("SG", 1.352, 103.820),  # Singapore
    ("SM", 43.942, 12.458),  # San Marino
    ("ST", 0.186, 6.613),  # São Tomé and Príncipe
    ("TO", -21.179, -175.198),  # Tonga
    ("TT", 10.692, -61.223),  # Trinidad and Tobago
    ("TV", -8.520, 179.198),  # Tuvalu
    ("VA", 41.902, 12.453),  # Vatican City
    ("VC", 13.254, -61.197),  # Saint Vincent and the Grenadines
    ("WS", -13.759, -172.105),  # Samoa
)


class WorldMapBuildError(Exception):
    """The source data could not be fetched or does not have the expected shape."""


# ---------------------------------------------------------------------------------------------------- TopoJSON


def decode_arcs(topology: Mapping[str, Any]) -> list[list[Point]]:
    """Every arc of ``topology`` as absolute (longitude, latitude) positions.

    With a ``transform`` the arcs are quantized and delta-encoded: the first position is absolute in quantized
    units, each further one is the difference from the previous; ``x = q * scale + translate``. Without one they
    are plain coordinates."""
    transform = topology.get("transform")
    decoded: list[list[Point]] = []
    if transform is None:
        for arc in topology["arcs"]:
            decoded.append([(float(p[0]), float(p[1])) for p in arc])
        return decoded
    (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
    for arc in topology["arcs"]:
        qx = qy = 0
        points: list[Point] = []
        for position in arc:
            qx += position[0]
            qy += position[1]
            points.append((qx * sx + tx, qy * sy + ty))
        decoded.append(points)
    return decoded


def stitch_ring(arcs: Sequence[Sequence[Point]], indexes: Iterable[int]) -> Ring:
    """The closed ring made of the arcs at ``indexes``; ``~i`` (a negative index) is arc ``i`` reversed. Arcs
    meet end to start, so the shared position is kept once."""
    ring: Ring = []
    for index in indexes:
        arc = list(arcs[index]) if index >= 0 else list(reversed(arcs[~index]))
        ring.extend(arc[1:] if ring else arc)
    return ring


def geometry_polygons(geometry: Mapping[str, Any], arcs: Sequence[Sequence[Point]]) -> list[Polygon]:
    """A Polygon or MultiPolygon geometry as a list of polygons (each a list of rings, exterior first); a null
    geometry is an empty list."""
    kind = geometry.get("type")
    if kind is None:
        return []
    if kind == "Polygon":
        return [[stitch_ring(arcs, ring) for ring in geometry["arcs"]]]
    if kind == "MultiPolygon":
        return [[stitch_ring(arcs, ring) for ring in polygon] for polygon in geometry["arcs"]]
    raise WorldMapBuildError(f"Unsupported geometry type {kind!r}; a country is a Polygon or MultiPolygon.")


# -------------------------------------------------------------------------------------------------- projection

_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = math.sqrt(3) / 2


def equal_earth(longitude: float, latitude: float) -> Point:
    """Equal Earth projection (Šavrič, Patterson and Jenny, 2018) of a position in degrees, on the unit sphere,
    y pointing north. The map spans about ±2.7066 in x and ±1.3174 in y."""
    lam = math.radians(longitude)
    theta = math.asin(_M * math.sin(math.radians(latitude)))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = lam * math.cos(theta) / (_M * (_A1 + 3 * _A2 * t2 + t6 * (7 * _A3 + 9 * _A4 * t2)))
    y = theta * (_A1 + _A2 * t2 + t6 * (_A3 + _A4 * t2))
    return x, y


# ------------------------------------------------------------------------------------------- plane geometry


def simplify(points: Sequence[Point], tolerance: float) -> list[Point]:
    """Douglas-Peucker: the fewest of ``points`` (first and last always kept) such that no dropped point is
    farther than ``tolerance`` from the simplified line."""
    return [points[i] for i in simplify_indexes(points, tolerance)]


def simplify_indexes(points: Sequence[Point], tolerance: float) -> list[int]:
    """The indexes of the points ``simplify`` keeps."""
    if len(points) <= 2:
        return list(range(len(points)))
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (ax, ay), (bx, by) = points[first], points[last]
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        farthest, index = -1.0, -1
        for i in range(first + 1, last):
            px, py = points[i]
            if length2 == 0:
                distance2 = (px - ax) ** 2 + (py - ay) ** 2
            else:
                t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
                distance2 = (px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2
            if distance2 > farthest:
                farthest, index = distance2, i
        if index >= 0 and farthest > tolerance * tolerance:
            keep[index] = True
            stack.append((first, index))
            stack.append((index, last))
    return [i for i, k in enumerate(keep) if k]


# ------------------------------------------------------------------------------------------ the antimeridian


def unwrap(points: Sequence[Point]) -> list[Point]:
    """``points`` (longitude, latitude) with longitudes made continuous: a step of more than 180° is taken the
    short way round, so a line from 179° to -179° goes on to 181°."""
    out: list[Point] = []
    shift = 0.0
    for i, (lon, lat) in enumerate(points):
        if i:
            step = lon + shift - out[-1][0]
            if step > 180:
                shift -= 360
            elif step < -180:
                shift += 360
        out.append((lon + shift, lat))
    return out


def _clip(ring: Ring, bound: float, keep_below: bool) -> Ring:
    """Sutherland-Hodgman: the closed ``ring`` clipped to longitudes <= ``bound`` (or >= it)."""

    def inside(p: Point) -> bool:
        return p[0] <= bound if keep_below else p[0] >= bound

    def crossing(a: Point, b: Point) -> Point:
        t = (bound - a[0]) / (b[0] - a[0])
        return bound, a[1] + t * (b[1] - a[1])

    out: Ring = []
    for a, b in itertools.pairwise(ring):
        if inside(b):
            if not inside(a):
                out.append(crossing(a, b))
            out.append(b)
        elif inside(a):
            out.append(crossing(a, b))
    if out and out[0] != out[-1]:
        out.append(out[0])
    return out


def cut_ring(ring: Ring) -> list[Ring]:
    """A closed (longitude, latitude) ring that crosses the antimeridian, as rings within -180..180, each piece
    moved back by a whole turn. A ring that does not cross is returned as it is. (Rings around a pole, which do
    not close once unwrapped, are not cut; Antarctica is not drawn.)"""
    if all(abs(b[0] - a[0]) <= 180 for a, b in itertools.pairwise(ring)):
        return [ring]
    unwrapped = unwrap(ring)
    if abs(unwrapped[0][0] - unwrapped[-1][0]) > 1e-9:
        return [ring]
    lons = [p[0] for p in unwrapped]
    pieces: list[Ring] = []
    for turn in range(math.floor((min(lons) + 180) / 360), math.floor((max(lons) + 180) / 360) + 1):
        low, high = -180 + 360 * turn, 180 + 360 * turn
        piece = _clip(_clip(unwrapped, low, keep_below=False), high, keep_below=True)
        if len(piece) >= 4:
            pieces.append([(lon - 360 * turn, lat) for lon, lat in piece])
    return pieces


def cut_polygons(polygons: Iterable[Polygon]) -> list[Polygon]:
    """Polygons cut at the antimeridian: each piece of an exterior ring becomes a polygon; the pieces of its holes
    go with the first. (Drawn with the even-odd rule, a hole need not be in the right piece to show.)"""
    out: list[Polygon] = []
    for polygon in polygons:
        if not polygon:
            continue
        exteriors = cut_ring(polygon[0])
        holes = [piece for ring in polygon[1:] for piece in cut_ring(ring)]
        if not exteriors:
            continue
        out.append([exteriors[0], *holes])
        out.extend([piece] for piece in exteriors[1:])
    return out


def ring_area(ring: Sequence[Point]) -> float:
    """Signed area (shoelace) of a closed ring."""
    total = 0.0
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        total += x1 * y2 - x2 * y1
    return total / 2


def _segment_distance2(px: float, py: float, a: Point, b: Point) -> float:
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
    return (px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2


def _signed_distance(px: float, py: float, polygon: Polygon) -> float:
    """Distance from the point to the polygon's outline, positive inside (even-odd rule), negative outside."""
    inside = False
    best = math.inf
    for ring in polygon:
        for a, b in itertools.pairwise(ring):
            if (a[1] > py) != (b[1] > py) and px < (b[0] - a[0]) * (py - a[1]) / (b[1] - a[1]) + a[0]:
                inside = not inside
            best = min(best, _segment_distance2(px, py, a, b))
    distance = math.sqrt(best)
    return distance if inside else -distance


def label_point(polygon: Polygon, precision: float = 0.5) -> Point:
    """The pole of inaccessibility of ``polygon`` (the inside point farthest from its outline; Mapbox's
    "polylabel" algorithm): unlike a centroid, it is always inside, even for a crescent or a ring."""
    xs = [p[0] for p in polygon[0]]
    ys = [p[1] for p in polygon[0]]
    min_x, min_y, max_x, max_y = min(xs), min(ys), max(xs), max(ys)
    size = min(max_x - min_x, max_y - min_y)
    if size <= 0:
        return min_x, min_y
    half = size / 2
    heap: list[tuple[float, float, float, float, float]] = []  # (-potential, distance, x, y, half-size)

    def push(x: float, y: float, h: float) -> None:
        distance = _signed_distance(x, y, polygon)
        heapq.heappush(heap, (-(distance + h * math.sqrt(2)), distance, x, y, h))

    x = min_x
    while x < max_x:
        y = min_y
        while y < max_y:
            push(x + half, y + half, half)
            y += size
        x += size
    # Start from the centroid of the exterior (often good already), else the box centre.
    area = ring_area(polygon[0])
    if area:
        cx = cy = 0.0
        for (x1, y1), (x2, y2) in zip(polygon[0], polygon[0][1:], strict=False):
            cross = x1 * y2 - x2 * y1
            cx += (x1 + x2) * cross
            cy += (y1 + y2) * cross
        best = ((cx / (6 * area)), (cy / (6 * area)))
    else:
        best = ((min_x + max_x) / 2, (min_y + max_y) / 2)
    best_distance = _signed_distance(best[0], best[1], polygon)
    box_centre = ((min_x + max_x) / 2, (min_y + max_y) / 2)
    box_distance = _signed_distance(box_centre[0], box_centre[1], polygon)
    if box_distance > best_distance:
        best, best_distance = box_centre, box_distance
    while heap:
        negative_potential, distance, x, y, h = heapq.heappop(heap)
        if distance > best_distance:
            best, best_distance = (x, y), distance
        if -negative_potential - best_distance <= precision:
            continue
        h /= 2
        push(x - h, y - h, h)
        push(x + h, y - h, h)
        push(x - h, y + h, h)
        push(x + h, y + h, h)
    return best


# --------------------------------------------------------------------------------------------------- output


def _number(value: int, scale: int) -> str:
    """``value / scale`` written as briefly as SVG allows: no trailing zeros, no leading zero (``-.5``)."""
    if scale == 1:
        return str(value)
    text = f"{value / scale:.{len(str(scale)) - 1}f}".rstrip("0").rstrip(".")
    if text.startswith("0."):
        return text[1:]
    if text.startswith("-0."):
        return "-" + text[2:]
    return text or "0"


def _join(numbers: Iterable[str]) -> str:
    """Numbers separated only where SVG needs it: not before a minus sign, nor before ``.5`` after ``1.5``."""
    out: list[str] = []
    for text in numbers:
        if out and not text.startswith("-") and not (text.startswith(".") and "." in out[-1]):
            out.append(" ")
        out.append(text)
    return "".join(out)


def path_data(rings: Iterable[Sequence[tuple[int, int]]], scale: int) -> str:
    """SVG path ``d`` for rings of integer positions (in units of ``1 / scale``): an absolute move to each
    ring's start, then relative lines, closed."""
    parts: list[str] = []
    for ring in rings:
        (x0, y0), rest = ring[0], ring[1:-1]  # the closing position repeats the first; ``z`` draws it
        parts.append("M" + _join([_number(x0, scale), _number(y0, scale)]))
        deltas: list[str] = []
        px, py = x0, y0
        for x, y in rest:
            deltas += [_number(x - px, scale), _number(y - py, scale)]
            px, py = x, y
        parts.append("l" + _join(deltas) + "z")
    return "".join(parts)


# ------------------------------------------------------------------------------------------------ the build


@dataclass
class _Country:
    code: str | None
    name: str
    polygons: list[list[list[tuple[int, int]]]] = field(default_factory=list)
    point: Point | None = None
    # Where the country is when all its shapes are too small to draw: the middle of its largest unsimplified ring.
    fallback: Point | None = None


def numeric_to_alpha2() -> dict[str, str]:
    """ISO 3166-1 numeric code (three digits, as world-atlas writes it) to alpha-2, from django-countries' copy
    of the ISO table (not its settings-dependent lookups)."""
    from django_countries.data import ALT_CODES

    return {f"{int(numeric):03d}": alpha2 for alpha2, (_alpha3, numeric) in ALT_CODES.items() if numeric}


def country_names() -> dict[str, str]:
    """English short names of every ISO country as the registry shows them (django-countries, common names)."""
    from django.utils import translation
    from django_countries import countries

    with translation.override("en"):
        names = {str(country.code): str(country.name) for country in countries}
    return {**names, **EXTRA_NAMES}


def build_world_map(
    topology: Mapping[str, Any],
    *,
    names: Mapping[str, str],
    source: str,
    width: float = DEFAULT_WIDTH,
    tolerance: float = DEFAULT_TOLERANCE,
    precision: int = DEFAULT_PRECISION,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The content of ``world.json`` from a world-atlas ``countries-*.json`` topology."""
    say = progress or (lambda message: None)
    to_alpha2 = numeric_to_alpha2()
    geometries = topology["objects"]["countries"]["geometries"]
    say(f"Decoding {len(topology['arcs'])} arcs and {len(geometries)} features.")
    arcs_lonlat = decode_arcs(topology)

    # Which feature is which country.
    features: list[tuple[str | None, str, Mapping[str, Any]]] = []
    for geometry in geometries:
        feature_name = str(geometry.get("properties", {}).get("name", ""))
        if "id" in geometry:
            code: str | None = to_alpha2.get(str(geometry["id"]))
            if code is None:
                raise WorldMapBuildError(f"{feature_name!r} has id {geometry['id']!r}, not an ISO numeric code.")
        elif feature_name in NAMELESS_FEATURES:
            code = NAMELESS_FEATURES[feature_name]
        else:
            raise WorldMapBuildError(f"{feature_name!r} has no id and no entry in NAMELESS_FEATURES.")
        if code not in EXCLUDED:
            features.append((code, feature_name, geometry))

    # Project into SVG units (x east, y south), the whole world ``width`` wide.
    x_max = equal_earth(180, 0)[0]
    factor = width / (2 * x_max)

    def to_svg(longitude: float, latitude: float) -> Point:
        x, y = equal_earth(longitude, latitude)
        return (x + x_max) * factor, -y * factor

    say("Simplifying the arcs in the projected plane.")
    used = {~i if i < 0 else i for _, _, g in features for i in _arc_indexes(g)}
    arcs_simple: list[list[Point]] = []
    for i, arc in enumerate(arcs_lonlat):
        if i not in used:
            arcs_simple.append([])
            continue
        # Simplify where the arc is drawn, with longitudes made continuous so an arc crossing the antimeridian is
        # not one jump across the map; keep the original positions, cut at the antimeridian below.
        keep = simplify_indexes([to_svg(lon, lat) for lon, lat in unwrap(arc)], tolerance)
        arcs_simple.append([arc[k] for k in keep])

    say("Cutting at the antimeridian and projecting (Equal Earth).")
    projected_features: list[tuple[str | None, str, list[Polygon], Point | None]] = []
    for code, feature_name, geometry in features:
        polygons = [
            [[to_svg(lon, lat) for lon, lat in ring] for ring in polygon]
            for polygon in cut_polygons(geometry_polygons(geometry, arcs_simple))
        ]
        # Where the feature is, should all its shapes be too small to draw: the middle of its largest ring.
        exteriors = [polygon[0] for polygon in geometry_polygons(geometry, arcs_lonlat) if polygon and polygon[0]]
        whereabouts: Point | None = None
        if exteriors:
            largest_ring = unwrap(max(exteriors, key=lambda r: abs(ring_area(unwrap(r)))))
            lon = sum(x for x, _ in largest_ring) / len(largest_ring)
            lat = sum(y for _, y in largest_ring) / len(largest_ring)
            whereabouts = to_svg((lon + 180) % 360 - 180, lat)
        projected_features.append((code, feature_name, polygons, whereabouts))
    points = {code: to_svg(lon, lat) for code, lat, lon in MICROSTATES}

    # Crop to what is drawn: the bounding box of the shapes and the microstate points, plus a margin.
    xs = [p[0] for *_, polygons, _ in projected_features for polygon in polygons for p in polygon[0]]
    ys = [p[1] for *_, polygons, _ in projected_features for polygon in polygons for p in polygon[0]]
    xs += [p[0] for p in points.values()]
    ys += [p[1] for p in points.values()]
    left, top = min(xs) - MARGIN, min(ys) - MARGIN
    scale = 10**precision
    view_width = math.ceil((max(xs) + MARGIN - left) * scale) / scale
    view_height = math.ceil((max(ys) + MARGIN - top) * scale) / scale

    def quantize(p: Point) -> tuple[int, int]:
        return round((p[0] - left) * scale), round((p[1] - top) * scale)

    say("Assembling countries.")
    countries: dict[str | None, _Country] = {}
    unassigned: list[_Country] = []
    min_area = MIN_RING_AREA * scale * scale
    for code, feature_name, polygons, whereabouts in projected_features:
        if code is None:
            entry = _Country(None, feature_name)
            unassigned.append(entry)
        else:
            entry = countries.setdefault(code, _Country(code, names.get(code, feature_name)))
        candidates: list[list[list[tuple[int, int]]]] = []
        for polygon in polygons:
            rings = [_dedupe([quantize(p) for p in ring]) for ring in polygon]
            candidates.append([r for r in rings if len(r) >= 4])
        kept = [p for p in candidates if p and p[0] and abs(ring_area(_floats(p[0]))) >= min_area]
        kept = [[p[0]] + [r for r in p[1:] if abs(ring_area(_floats(r))) >= min_area] for p in kept]
        if not kept and any(candidates):
            # Everything is below the threshold: keep the largest piece, so the country is still drawn.
            kept = [max((p for p in candidates if p), key=lambda p: abs(ring_area(_floats(p[0]))))[:1]]
        entry.polygons.extend(kept)
        if not kept and entry.fallback is None:
            entry.fallback = whereabouts

    for code, where in points.items():
        entry = countries.setdefault(code, _Country(code, names.get(code, code)))
        entry.point = where
    for entry in countries.values():
        if not entry.polygons and entry.point is None:
            entry.point = entry.fallback

    say(f"Writing {len(countries)} countries.")
    out_countries = []
    for country in sorted(countries.values(), key=lambda c: str(c.code)):
        if country.code is None:  # never: ``countries`` is keyed by code; unassigned land is kept apart
            continue
        label: Point
        point: list[float] | None = None
        if country.point is not None:
            px, py = quantize(country.point)
            point = [px / scale, py / scale]
        if country.polygons:
            largest = max(country.polygons, key=lambda p: abs(ring_area(_floats(p[0]))))
            lx, ly = label_point([_floats(r) for r in largest], precision=0.5 * scale)
            label = (round(lx) / scale, round(ly) / scale)
            all_x = [x for p in country.polygons for x, _ in p[0]]
            all_y = [y for p in country.polygons for _, y in p[0]]
            small = max(max(all_x) - min(all_x), max(all_y) - min(all_y)) < SMALL_SHAPE * scale
            if point is None and small:
                point = [label[0], label[1]]
        elif point is not None:
            label = (point[0], point[1])
        else:  # a feature with no geometry at all
            continue
        out_countries.append(
            {
                "code": country.code,
                "name": country.name,
                "d": path_data([r for p in country.polygons for r in p], scale),
                "label": [label[0], label[1]],
                "point": point,
            }
        )
    return {
        "source": source,
        "attribution": "Made with Natural Earth (public domain), via world-atlas by Mike Bostock (ISC licence).",
        "projection": "Equal Earth",
        "generated_by": "manage.py build_world_map",
        "viewBox": f"0 0 {_number(round(view_width * scale), scale)} {_number(round(view_height * scale), scale)}",
        "width": view_width,
        "height": view_height,
        "countries": out_countries,
        "unassigned": [
            {"name": u.name, "d": path_data([r for p in u.polygons for r in p], scale)}
            for u in unassigned
            if u.polygons
        ],
    }


def _arc_indexes(geometry: Mapping[str, Any]) -> Iterable[int]:
    def walk(value: Any) -> Iterable[int]:
        if isinstance(value, int):
            yield value
        else:
            for item in value:
                yield from walk(item)

    return walk(geometry.get("arcs", []))


def _dedupe(ring: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for p in ring:
        if not out or out[-1] != p:
            out.append(p)
    return out


def _floats(ring: Sequence[tuple[int, int]]) -> Ring:
    return [(float(x), float(y)) for x, y in ring]


def write_world_json(data: Mapping[str, Any], path: Path) -> int:
    """Write ``data`` compactly (one country a line, so a rebuild's diff is readable); return the size in bytes."""
    header = {k: v for k, v in data.items() if k not in ("countries", "unassigned")}
    lines = ["{"]
    for key, value in header.items():
        lines.append(f"{json.dumps(key)}:{json.dumps(value, ensure_ascii=False, separators=(',', ':'))},")
    for key in ("countries", "unassigned"):
        lines.append(f'"{key}":[')
        items = [json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in data[key]]
        lines.append(",\n".join(items))
        lines.append("]," if key == "countries" else "]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # the hand-joined file must be valid JSON
    path.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


# ------------------------------------------------------------------------------------------- the source data


def verify_integrity(tarball: bytes, integrity: str = WORLD_ATLAS_INTEGRITY) -> None:
    """Raise unless ``tarball`` matches the npm ``sha512-<base64>`` integrity string."""
    import base64

    algorithm, _, expected = integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode("ascii")
    if digest != expected:
        raise WorldMapBuildError(f"The world-atlas tarball does not match its published integrity {integrity}.")


def fetch_world_atlas(workdir: Path, *, progress: Callable[[str], None] | None = None) -> bytes:
    """``npm pack world-atlas@<version>`` into ``workdir``; the tarball, checked against its known integrity."""
    say = progress or (lambda message: None)
    npm = shutil.which("npm")
    if npm is None:
        raise WorldMapBuildError(
            "npm is not installed. Install Node.js, or download world-atlas yourself and pass --source."
        )
    spec = f"{WORLD_ATLAS_PACKAGE}@{WORLD_ATLAS_VERSION}"
    say(f"Fetching {spec} with npm pack (about 2.3 MB).")
    result = subprocess.run(  # noqa: S603 -- fixed arguments, npm from PATH
        [npm, "pack", spec, "--silent"], cwd=workdir, capture_output=True, text=True, check=False, timeout=300
    )
    if result.returncode != 0:
        raise WorldMapBuildError(f"npm pack {spec} failed: {result.stderr.strip() or result.stdout.strip()}")
    tarball = workdir / f"{WORLD_ATLAS_PACKAGE}-{WORLD_ATLAS_VERSION}.tgz"
    if not tarball.exists():
        raise WorldMapBuildError(f"npm pack {spec} did not produce {tarball.name}.")
    content = tarball.read_bytes()
    verify_integrity(content)
    return content


def read_topology(source: Path | None, resolution: str, *, progress: Callable[[str], None] | None = None) -> dict:
    """The ``countries-<resolution>.json`` topology from ``source`` (that JSON file, a world-atlas ``.tgz``, or an
    unpacked package folder), or from npm when ``source`` is None."""
    filename = f"countries-{resolution}.json"
    if source is None:
        with tempfile.TemporaryDirectory(prefix="world-atlas-") as workdir:
            return _topology_from_tarball(fetch_world_atlas(Path(workdir), progress=progress), filename)
    if source.is_dir():
        candidates = [source / filename, source / "package" / filename]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise WorldMapBuildError(f"No {filename} in {source}.")
        source = found
    if not source.is_file():
        raise WorldMapBuildError(f"{source} does not exist.")
    if source.name.endswith((".tgz", ".tar.gz")):
        return _topology_from_tarball(source.read_bytes(), filename)
    return _load_topology(source.read_bytes(), str(source))


def _topology_from_tarball(content: bytes, filename: str) -> dict:
    # Only the one member is read, never extracted to disk, so a hostile archive cannot write anywhere.
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as archive:
        try:
            member = archive.getmember(f"package/{filename}")
        except KeyError as exc:
            raise WorldMapBuildError(f"The world-atlas package has no {filename}.") from exc
        handle = archive.extractfile(member)
        if handle is None:
            raise WorldMapBuildError(f"package/{filename} in the world-atlas package is not a file.")
        return _load_topology(handle.read(), filename)


def _load_topology(content: bytes, label: str) -> dict:
    try:
        topology = json.loads(content)
    except ValueError as exc:
        raise WorldMapBuildError(f"{label} is not JSON: {exc}") from exc
    if (
        not isinstance(topology, dict)
        or topology.get("type") != "Topology"
        or "countries" not in topology.get("objects", {})
    ):
        raise WorldMapBuildError(f"{label} is not a world-atlas countries topology.")
    return topology
