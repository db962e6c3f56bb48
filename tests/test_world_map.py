"""The world map of partnerships per country (geography/worldmap): the shipped geometry (world.json) has every
country once, drawable and inside the picture, microstates as points; the rendered SVG links countries with
partnerships, labels every country for screen readers, escapes names from the database and passes a strict
Content-Security-Policy; the table rows hold what the map cannot draw. Plus the build's parts: the TopoJSON
decoder, the Equal Earth projection, the antimeridian cut, and the management command. No database."""

from __future__ import annotations

import itertools
import json
import math
import re
import xml.etree.ElementTree as ET
from io import StringIO

import pytest
from django.core.management import call_command

from geography.worldmap.build import (
    WorldMapBuildError,
    build_world_map,
    cut_ring,
    decode_arcs,
    equal_earth,
    geometry_polygons,
    verify_integrity,
)
from geography.worldmap.render import bucket_ranges, load_geometry, render_world_map

SVG = "{http://www.w3.org/2000/svg}"
NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
MICROSTATES = ("MC", "LI", "SM", "VA", "AD")


def link(code: str) -> str:
    return f"/partnerships/?country={code}"


def rings(d: str) -> list[list[tuple[float, float]]]:
    """The absolute positions of a path written as the build writes it: ``M x y l dx dy ... z`` per ring."""
    out = []
    for part in re.findall(r"M([^l]*)l([^z]*)z", d):
        x, y = (float(n) for n in NUMBER.findall(part[0]))
        ring = [(x, y)]
        deltas = [float(n) for n in NUMBER.findall(part[1])]
        for dx, dy in zip(deltas[::2], deltas[1::2], strict=True):
            x, y = x + dx, y + dy
            ring.append((x, y))
        out.append(ring)
    return out


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check that it is well-formed


def links(root: ET.Element) -> dict[str, ET.Element]:
    return {a.get("href"): a for a in root.iter(f"{SVG}a")}


def title_of(element: ET.Element) -> str | None:
    title = element.find(f"{SVG}title")
    return None if title is None else title.text


# ------------------------------------------------------------------------------------------- shipped data


@pytest.fixture(scope="module")
def world() -> dict:
    from geography.worldmap.render import WORLD_JSON

    return json.loads(WORLD_JSON.read_text(encoding="utf-8"))


def test_shipped_map_has_every_country_once(world):
    codes = [c["code"] for c in world["countries"]]
    assert len(codes) > 170
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in codes)
    assert {"DE", "US", "GB", "FR", "BR", "IN", "CN", "ZA", "AU", "RU"} <= set(codes)
    assert "AQ" not in codes  # Antarctica is left out on purpose
    names = {c["code"]: c["name"] for c in world["countries"]}
    assert names["DE"] == "Germany"
    assert names["GB"] == "United Kingdom"


def test_shipped_map_is_small_enough_to_inline(world):
    from geography.worldmap.render import WORLD_JSON

    assert WORLD_JSON.stat().st_size < 300_000


def test_shipped_shapes_lie_inside_the_picture_and_do_not_wrap_around(world):
    _, _, width, height = (float(n) for n in world["viewBox"].split())
    drawn = [c for c in world["countries"] if c["d"]]
    assert len(drawn) > 170
    for country in drawn:
        for ring in rings(country["d"]):
            xs = [x for x, _ in ring]
            ys = [y for _, y in ring]
            assert min(xs) >= 0, country["code"]
            assert max(xs) <= width, country["code"]
            assert min(ys) >= 0, country["code"]
            assert max(ys) <= height, country["code"]
            # A ring crossing the antimeridian uncut would streak across the whole map (Russia, Fiji).
            assert max(xs) - min(xs) < width / 2, country["code"]
        label_x, label_y = country["label"]
        assert 0 <= label_x <= width
        assert 0 <= label_y <= height


def test_shipped_map_puts_countries_where_they_are(world):
    by_code = {c["code"]: c for c in world["countries"]}

    def centre(code: str) -> tuple[float, float]:
        return by_code[code]["label"][0], by_code[code]["label"][1]

    # West to east and north to south, as on any world map (y grows downwards in SVG).
    assert centre("US")[0] < centre("GB")[0] < centre("DE")[0] < centre("IN")[0] < centre("JP")[0]
    assert centre("NO")[1] < centre("DE")[1] < centre("EG")[1] < centre("ZA")[1]
    assert centre("BR")[0] < centre("NG")[0]
    # Russia's label is in Siberia, not in the pieces east of the antimeridian.
    assert centre("CN")[0] - 200 < centre("RU")[0] < centre("JP")[0]


def test_shipped_microstates_are_points(world):
    _, _, width, height = (float(n) for n in world["viewBox"].split())
    by_code = {c["code"]: c for c in world["countries"]}
    for code in (*MICROSTATES, "MT", "SG", "LU", "BH"):
        point = by_code[code]["point"]
        assert point is not None, code
        assert 0 <= point[0] <= width
        assert 0 <= point[1] <= height
    # Neighbours are where they should be relative to each other: Monaco west of San Marino, Vatican south of it.
    assert by_code["MC"]["point"][0] < by_code["SM"]["point"][0]
    assert by_code["VA"]["point"][1] > by_code["SM"]["point"][1]
    # Large countries are shapes only.
    assert by_code["DE"]["point"] is None
    assert by_code["US"]["point"] is None


def test_disputed_and_unnumbered_features_are_handled(world):
    codes = {c["code"] for c in world["countries"]}
    assert "XK" in codes  # Kosovo, which world-atlas gives no ISO number
    assert {u["name"] for u in world["unassigned"]} <= {"Siachen Glacier", "Indian Ocean Ter."}


# -------------------------------------------------------------------------------------------- rendering

COUNTS = {"DE": 3, "GB": 1, "MC": 2, "ZZ": 1}


@pytest.fixture
def rendered():
    return render_world_map(COUNTS, link=link, title="Partnerships per country")


def test_countries_with_partnerships_are_labelled_links(rendered):
    root = parse(str(rendered.svg))
    by_href = links(root)
    assert set(by_href) == {link("DE"), link("GB"), link("MC")}
    germany = by_href[link("DE")]
    assert title_of(germany) == "Germany: 3 partnerships"
    assert germany.get("aria-label") == "Germany: 3 partnerships"
    assert germany.find(f"{SVG}path") is not None
    assert title_of(by_href[link("GB")]) == "United Kingdom: 1 partnership"
    # Monaco is a circle, reachable although the country is a speck.
    monaco = by_href[link("MC")]
    assert title_of(monaco) == "Monaco: 2 partnerships"
    assert monaco.find(f"{SVG}circle") is not None


def test_countries_without_partnerships_are_labelled_but_not_links(rendered):
    root = parse(str(rendered.svg))
    linked = {id(el) for a in root.iter(f"{SVG}a") for el in a.iter()}
    france = [el for el in root.iter() if el.get("aria-label") == "France: no partnerships"]
    assert len(france) == 1
    assert id(france[0]) not in linked
    assert france[0].get("role") == "img"
    assert title_of(france[0]) == "France: no partnerships"
    # Every country on the map is named for screen readers, once.
    labels = [el.get("aria-label") for el in root.iter() if el.get("aria-label")]
    assert len(labels) == len(set(labels)) == len(load_geometry().countries)


def test_svg_is_a_named_group_with_a_description(rendered):
    root = parse(str(rendered.svg))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "group"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None
    assert title.text == "Partnerships per country"
    assert root.get("aria-labelledby") == title.get("id")
    assert desc is not None
    assert root.get("aria-describedby") == desc.get("id")
    assert "4 countries have partnerships" in (desc.text or "")


def test_colour_classes_grow_with_the_count(rendered):
    root = parse(str(rendered.svg))
    by_href = links(root)

    def colour(href: str) -> str:
        shape = next(el for el in by_href[href].iter() if el.tag in (f"{SVG}path", f"{SVG}circle"))
        classes = [c for c in shape.get("class", "").split() if re.fullmatch(r"map-b\d", c)]
        assert len(classes) == 1
        return classes[0]

    assert colour(link("GB")) != colour(link("DE"))
    assert colour(link("DE")) == "map-b4"  # the most is always the darkest
    assert [entry.label for entry in rendered.legend] == ["0", "1", "2", "3"]
    assert [entry.css_class for entry in rendered.legend] == ["map-b0", "map-b2", "map-b3", "map-b4"]
    assert colour(link("GB")) == rendered.legend[1].css_class


def test_table_rows_hold_every_counted_country(rendered):
    rows = [(row.code, row.name, row.count, row.url, row.on_map) for row in rendered.rows]
    assert rows == [
        ("DE", "Germany", 3, link("DE"), True),
        ("MC", "Monaco", 2, link("MC"), True),
        ("GB", "United Kingdom", 1, link("GB"), True),
        ("ZZ", "ZZ", 1, link("ZZ"), False),  # not on the map: only the table shows it
    ]


def test_output_passes_a_strict_content_security_policy(rendered):
    svg = str(rendered.svg)
    assert "style=" not in svg
    assert "<style" not in svg
    assert "<script" not in svg.lower()
    assert not re.search(r"\son[a-z]+=", svg)  # no event handlers
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_names_titles_and_links_are_escaped():
    result = render_world_map(
        {"DE": 2, "FR": 0},
        link=lambda code: f'/p/?country={code}&x="1"',
        title='Map <b>"bold"</b>',
        names={"DE": "<x>", "FR": "<script>alert(1)</script>"},
    )
    svg = str(result.svg)
    assert "<x>" not in svg
    assert "<script" not in svg
    assert "&lt;x&gt;: 2 partnerships" in svg
    root = parse(svg)  # still well-formed
    assert root.find(f"{SVG}title").text == 'Map <b>"bold"</b>'
    assert set(links(root)) == {'/p/?country=DE&x="1"'}
    assert title_of(links(root)['/p/?country=DE&x="1"']) == "<x>: 2 partnerships"
    # The rows carry the raw name: the template escapes it.
    assert result.rows[0].name == "<x>"


def test_no_link_when_link_gives_none():
    result = render_world_map({"DE": 2}, link=lambda code: None, title="Map")
    root = parse(str(result.svg))
    assert links(root) == {}
    assert [el.get("role") for el in root.iter() if el.get("aria-label") == "Germany: 2 partnerships"] == ["img"]
    assert result.rows[0].url is None


def test_empty_counts_draw_every_country_without_partnerships():
    result = render_world_map({}, link=link, title="Map")
    root = parse(str(result.svg))
    assert links(root) == {}
    assert result.rows == ()
    assert [entry.css_class for entry in result.legend] == ["map-b0"]


def test_bucket_ranges_cover_every_count_without_gaps():
    for max_count in (1, 2, 3, 7, 100, 12_345):
        ranges = bucket_ranges(max_count)
        assert 1 <= len(ranges) <= 4
        assert ranges[0][0] == 1
        assert ranges[-1][1] == max_count
        for (_, high), (low, _) in itertools.pairwise(ranges):
            assert low == high + 1
    assert bucket_ranges(0) == []


# ----------------------------------------------------------------------------------------- TopoJSON decoder

TINY: dict = {
    "type": "Topology",
    "transform": {"scale": [0.5, 0.25], "translate": [10, 20]},
    "arcs": [
        [[0, 0], [2, 0], [0, 4]],  # quantized (0,0) (2,0) (2,4): (10,20) (11,20) (11,21)
        [[2, 4], [-2, 0], [0, -4]],  # quantized (2,4) (0,4) (0,0): (11,21) (10,21) (10,20)
        [[4, 0], [2, 0], [0, 4], [-2, 0], [0, -4]],  # a closed square (12,20) (13,20) (13,21) (12,21) (12,20)
    ],
    "objects": {
        "countries": {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]], "id": "276", "properties": {"name": "Germany"}},
                {"type": "MultiPolygon", "arcs": [[[-2, -1]], [[2]]], "id": "250", "properties": {"name": "France"}},
                {"type": "Polygon", "arcs": [[2]], "properties": {"name": "Kosovo"}},
                {"type": None, "id": "492", "properties": {"name": "Monaco"}},
            ],
        }
    },
}


def test_decoder_undoes_quantization_and_delta_encoding():
    assert decode_arcs(TINY) == [
        [(10.0, 20.0), (11.0, 20.0), (11.0, 21.0)],
        [(11.0, 21.0), (10.0, 21.0), (10.0, 20.0)],
        [(12.0, 20.0), (13.0, 20.0), (13.0, 21.0), (12.0, 21.0), (12.0, 20.0)],
    ]


def test_decoder_reads_plain_arcs_without_a_transform():
    plain = {"arcs": [[[1.5, 2.5], [3.0, 4.0]]]}
    assert decode_arcs(plain) == [[(1.5, 2.5), (3.0, 4.0)]]


def test_decoder_stitches_rings_and_reverses_negative_arcs():
    arcs = decode_arcs(TINY)
    germany, france, _kosovo, monaco = TINY["objects"]["countries"]["geometries"]
    # Arcs 0 then 1; the position they share is kept once.
    assert geometry_polygons(germany, arcs) == [[[(10, 20), (11, 20), (11, 21), (10, 21), (10, 20)]]]
    # ~1 is arc 1 reversed, ~0 arc 0 reversed: the same square the other way round; then a second polygon.
    assert geometry_polygons(france, arcs) == [
        [[(10, 20), (10, 21), (11, 21), (11, 20), (10, 20)]],
        [[(12, 20), (13, 20), (13, 21), (12, 21), (12, 20)]],
    ]
    assert geometry_polygons(monaco, arcs) == []


def test_unsupported_geometry_is_an_error():
    with pytest.raises(WorldMapBuildError, match="Point"):
        geometry_polygons({"type": "Point", "coordinates": [0, 0]}, [])


def test_build_maps_iso_numbers_and_names_to_alpha2():
    data = build_world_map(TINY, names={"DE": "Germany", "FR": "France", "XK": "Kosovo"}, source="tiny")
    by_code = {c["code"]: c for c in data["countries"]}
    assert {"DE", "FR", "XK", "MC"} <= set(by_code)
    assert by_code["DE"]["name"] == "Germany"
    assert len(rings(by_code["DE"]["d"])) == 1
    assert len(rings(by_code["FR"]["d"])) == 2
    # Monaco has no geometry here; it is a point from the microstate list, and it is east of these squares.
    assert by_code["MC"]["d"] == ""
    assert by_code["MC"]["point"] is not None
    assert by_code["MC"]["point"][0] < by_code["DE"]["label"][0]  # 7.4°E is west of 10°E


def test_build_rejects_unknown_ids():
    broken = json.loads(json.dumps(TINY))
    broken["objects"]["countries"]["geometries"][0]["id"] = "999"
    with pytest.raises(WorldMapBuildError, match="999"):
        build_world_map(broken, names={}, source="tiny")


# ----------------------------------------------------------------------------------------------- projection


def test_equal_earth_origin_extents_and_symmetry():
    assert equal_earth(0, 0) == (0.0, 0.0)
    # The published extents of the Equal Earth map (Šavrič, Patterson & Jenny 2018): x ±2.7066, y ±1.3174.
    assert equal_earth(180, 0)[0] == pytest.approx(2.7066, abs=1e-4)
    assert equal_earth(0, 90)[1] == pytest.approx(1.3174, abs=1e-4)
    for lon, lat in [(10, 20), (135.5, -33.9), (179, 80)]:
        x, y = equal_earth(lon, lat)
        assert equal_earth(-lon, lat) == pytest.approx((-x, y))
        assert equal_earth(lon, -lat) == pytest.approx((x, -y))
        assert x > 0
        assert y * lat > 0


def _projected_area(lat_south: float, lat_north: float, lon_west: float, lon_east: float) -> float:
    steps = 200
    edge = (
        [(lon_west + (lon_east - lon_west) * i / steps, lat_south) for i in range(steps)]
        + [(lon_east, lat_south + (lat_north - lat_south) * i / steps) for i in range(steps)]
        + [(lon_east - (lon_east - lon_west) * i / steps, lat_north) for i in range(steps)]
        + [(lon_west, lat_north - (lat_north - lat_south) * i / steps) for i in range(steps + 1)]
    )
    points = [equal_earth(lon, lat) for lon, lat in edge]
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(points))) / 2


def test_equal_earth_preserves_area():
    # Cells of 10° by 10° at the equator and near the pole: their map areas are in the ratio of their areas on
    # the globe, which is the ratio of the sines' differences.
    equator = _projected_area(0, 10, 0, 10)
    arctic = _projected_area(70, 80, 100, 110)
    on_globe = (math.sin(math.radians(10)) - 0) / (math.sin(math.radians(80)) - math.sin(math.radians(70)))
    assert equator / arctic == pytest.approx(on_globe, rel=1e-3)


# ---------------------------------------------------------------------------------------- antimeridian


def test_ring_crossing_the_antimeridian_is_cut_in_two():
    ring = [(170.0, 60.0), (-170.0, 60.0), (-170.0, 70.0), (170.0, 70.0), (170.0, 60.0)]
    pieces = cut_ring(ring)
    assert len(pieces) == 2
    spans = sorted((min(x for x, _ in p), max(x for x, _ in p)) for p in pieces)
    assert spans == [(-180.0, -170.0), (170.0, 180.0)]
    for piece in pieces:
        assert piece[0] == piece[-1]
    assert cut_ring([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]) == [
        [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]
    ]


# ----------------------------------------------------------------------------------------------- the command


def test_command_builds_the_file_from_a_given_topology(tmp_path):
    source = tmp_path / "countries-tiny.json"
    source.write_text(json.dumps(TINY), encoding="utf-8")
    output = tmp_path / "world.json"
    stdout, stderr = StringIO(), StringIO()
    call_command("build_world_map", source=source, output=output, stdout=stdout, stderr=stderr)
    data = json.loads(output.read_text(encoding="utf-8"))
    assert {"DE", "FR", "XK", "MC"} <= {c["code"] for c in data["countries"]}
    assert data["source"] == "countries-tiny.json"
    assert "Wrote" in stdout.getvalue()
    assert "Decoding 3 arcs and 4 features" in stderr.getvalue()  # progress


def test_command_reports_a_missing_source(tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="does not exist"):
        call_command("build_world_map", source=tmp_path / "nope.json", output=tmp_path / "w.json")


def test_tarball_must_match_its_published_integrity():
    with pytest.raises(WorldMapBuildError, match="integrity"):
        verify_integrity(b"not the world-atlas package")
