"""Server-rendered SVG charts (registry/charts.py) and their partial (templates/includes/chart.html): the table
holds the same numbers as the picture, bars are drawn to scale, labels from the database cannot inject markup,
and the output passes a strict Content-Security-Policy (no style attributes, no scripts). No database."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from django.template.loader import render_to_string
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.charts import Chart, bar_chart, column_chart_by_year, stacked_bar_chart, text_width

SVG = "{http://www.w3.org/2000/svg}"
SERIES = [("present", "Present"), ("absent", "Absent"), ("unknown", "Unknown")]


def parse(chart: Chart) -> ET.Element:
    """The chart's SVG as an element tree; fails unless it is well-formed XML."""
    return ET.fromstring(str(chart.svg))  # noqa: S314 - our own output, parsed to check that it is well-formed


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [el for el in root.iter() if name in el.get("class", "").split()]


def texts(root: ET.Element, name: str) -> list[str]:
    return [el.text or "" for el in by_class(root, name)]


def assert_csp_safe(chart: Chart) -> None:
    svg = str(chart.svg)
    root = parse(chart)
    assert not [el for el in root.iter() if "style" in el.attrib], "style attributes break a strict CSP"
    assert not [el for el in root.iter() if el.tag in (f"{SVG}style", f"{SVG}script", f"{SVG}foreignObject")]
    assert "<script" not in svg.lower()
    assert not [name for el in root.iter() for name in el.attrib if name.lower().startswith("on")]


# --- bar chart -----------------------------------------------------------------------------------------------

REGIONS = [("Europe", 54, "/regions/europe/"), ("North America", 27, None), ("Oceania", 9, None)]


def test_bar_chart_table_rows_are_the_data_and_bars_are_to_scale():
    chart = bar_chart("Partnerships by region", REGIONS, label_heading="Region", unit="Partnerships")

    assert chart.columns == ("Region", "Partnerships")
    assert chart.data() == [("Europe", 54), ("North America", 27), ("Oceania", 9)]
    assert [cell.text for cell in chart.footer] == ["Total", "90"]
    root = parse(chart)
    widths = [float(bar.get("width")) for bar in by_class(root, "chart-bar")]
    assert len(widths) == 3
    assert widths[1] / widths[0] == pytest.approx(27 / 54, abs=0.01)
    assert widths[2] / widths[0] == pytest.approx(9 / 54, abs=0.01)
    assert texts(root, "chart-label") == ["Europe", "North America", "Oceania"]
    assert texts(root, "chart-value") == ["54", "27", "9"]
    assert_csp_safe(chart)


def test_bar_chart_description_names_the_highest_the_lowest_and_the_total():
    chart = bar_chart("Partnerships by region", REGIONS)
    assert chart.description == "3 entries. Highest: Europe (54). Lowest: Oceania (9). 90 in total."
    tied = bar_chart("Ties", [("A", 5, None), ("B", 5, None), ("C", 1, None)])
    assert "Highest: A and B (5 each)" in tied.description


def test_bar_chart_without_a_total_for_overlapping_counts():
    chart = bar_chart("Surveillance practices in use", REGIONS, show_total=False)
    assert "in total" not in chart.description
    assert chart.footer == ()


def test_bar_chart_links_bars_and_table_cells_but_refuses_script_urls():
    chart = bar_chart("Partnerships by region", REGIONS)
    links = list(parse(chart).iter(f"{SVG}a"))
    assert [link.get("href") for link in links] == ["/regions/europe/"]
    assert chart.rows[0][0].href == "/regions/europe/"
    assert chart.rows[1][0].href is None
    with pytest.raises(ValueError, match="refusing chart link"):
        bar_chart("x", [("Evil", 1, "javascript:alert(1)")])


def test_bar_chart_single_item_zero_values_and_large_numbers():
    single = bar_chart("One", [("Only", 1234567, None)])
    assert texts(parse(single), "chart-value") == ["1,234,567"]
    assert single.rows[0][1].text == "1,234,567"
    assert single.description == "1 entry. Highest: Only (1,234,567)."

    zeros = bar_chart("Zeros", [("A", 0, None), ("B", 0, None)])
    assert [float(bar.get("width")) for bar in by_class(parse(zeros), "chart-bar")] == [0.0, 0.0]
    assert zeros.data() == [("A", 0), ("B", 0)]
    assert zeros.description == "2 entries, all 0."

    mixed = bar_chart("Mixed", [("A", 3, None), ("B", 0, None)])
    assert [float(bar.get("width")) for bar in by_class(parse(mixed), "chart-bar")][1] == 0.0


def test_bar_chart_cuts_long_labels_in_the_picture_but_not_in_the_tooltip_or_table():
    long_label = "Coalition of community organisations for the prevention of violence " * 3
    chart = bar_chart("Long", [(long_label, 3, None)])
    root = parse(chart)
    shown = texts(root, "chart-label")[0]
    full = " ".join(long_label.split())
    assert shown.endswith("…")
    assert len(shown) < len(full)
    assert text_width(shown) <= float(root.get("viewBox").split()[2])
    assert [el.text for el in root.iter(f"{SVG}title")][1] == f"{full}: 3"
    assert chart.rows[0][0].text == full


def test_bar_chart_escapes_labels():
    evil = '<script>alert("x")</script>&"\'\x01'
    chart = bar_chart("Escaping <b>", [(evil, 1, None)])
    svg = str(chart.svg)
    assert_csp_safe(chart)
    assert "&lt;script&gt;" in svg
    assert "<b>" not in svg
    root = parse(chart)
    assert texts(root, "chart-label") == ['<script>alert("x")</script>&"\'']  # the XML control character is dropped
    assert root.find(f"{SVG}title").text == "Escaping <b>"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=80), st.integers(0, 10**9)), max_size=6))
def test_any_label_gives_well_formed_svg(items):
    chart = bar_chart("Any", [(label, value, None) for label, value in items])
    assert_csp_safe(chart)
    assert len(chart.rows) == len(items)


# --- columns by year -----------------------------------------------------------------------------------------


def test_year_chart_fills_missing_years_with_zero():
    chart = column_chart_by_year("Partnerships established per year", {2001: 4, 2004: 2, 1999: 1})

    assert chart.columns == ("Year", "Number")
    assert chart.data() == [(1999, 1), (2000, 0), (2001, 4), (2002, 0), (2003, 0), (2004, 2)]
    heights = [float(col.get("height")) for col in by_class(parse(chart), "chart-bar")]
    assert len(heights) == 6
    assert heights[1] == heights[3] == heights[4] == 0
    assert heights[0] / heights[2] == pytest.approx(1 / 4, abs=0.01)
    assert heights[5] / heights[2] == pytest.approx(2 / 4, abs=0.01)
    assert [cell.text for cell in chart.footer] == ["Total", "7"]
    assert_csp_safe(chart)


def test_year_chart_description_mentions_span_maximum_and_total():
    chart = column_chart_by_year("Partnerships established per year", {1998: 3, 2019: 12, 2024: 128})
    assert chart.description == "Years 1998 to 2024. Highest: 2024 (128). 24 years with none. 143 in total."


def tick_labels(chart: Chart) -> list[tuple[float, str]]:
    root = parse(chart)
    axis = by_class(root, "chart-axis-x")[0]
    return [(float(el.get("x")), el.text or "") for el in axis.iter(f"{SVG}text")]


@pytest.mark.parametrize("span", [1, 2, 5, 9, 17, 25, 40, 60, 80])
def test_year_labels_stay_readable_for_any_span(span):
    chart = column_chart_by_year("Span", {1940 + i: i % 7 for i in range(span)})
    labels = tick_labels(chart)
    width = float(parse(chart).get("viewBox").split()[2])
    label_width = text_width("0000", 14)

    assert 1 <= len(labels) <= 12
    assert all(label.isdigit() and 1940 <= int(label) < 1940 + span for _, label in labels)
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(labels)]
    assert all(gap >= label_width for gap in gaps), "year labels overlap"
    assert all(label_width / 2 <= x <= width - label_width / 2 for x, _ in labels), "a year label is cut off"
    if span <= 5:
        assert [label for _, label in labels] == [str(1940 + i) for i in range(span)]


def test_year_chart_of_a_single_year_and_of_zeros():
    single = column_chart_by_year("One year", {2019: 12345})
    assert single.data() == [(2019, 12345)]
    assert single.description == "Year 2019. 12,345 in total."
    assert "1,234" not in texts(parse(single), "chart-tick")  # ticks are round numbers with separators
    assert "12,345" in texts(parse(single), "chart-value")

    zeros = column_chart_by_year("Zeros", {2000: 0, 2002: 0})
    assert zeros.data() == [(2000, 0), (2001, 0), (2002, 0)]
    assert zeros.description == "Years 2000 to 2002. All 0."
    assert_csp_safe(zeros)


# --- stacked bars --------------------------------------------------------------------------------------------


MECHANISMS = [
    ("Independent oversight", {"present": 6, "absent": 3, "unknown": 3}),
    ("Data protection impact assessment", {"present": 2, "unknown": 4}),
]


def test_stacked_chart_table_rows_are_the_data_with_missing_series_as_zero():
    chart = stacked_bar_chart("Accountability mechanisms", MECHANISMS, SERIES, label_heading="Mechanism")

    assert chart.columns == ("Mechanism", "Present", "Absent", "Unknown", "Total")
    assert chart.data() == [("Independent oversight", 6, 3, 3, 12), ("Data protection impact assessment", 2, 0, 4, 6)]
    assert [cell.value for cell in chart.footer] == ["Total", 8, 3, 7, 18]
    assert_csp_safe(chart)


def test_stacked_chart_segments_are_to_scale_and_the_legend_names_every_series():
    chart = stacked_bar_chart("Accountability mechanisms", MECHANISMS, SERIES)
    root = parse(chart)

    assert texts(root, "chart-legend-label") == ["Present", "Absent", "Unknown"]
    swatches = [el.get("class").split()[-1] for el in by_class(root, "chart-swatch")]
    assert swatches == ["chart-series-0", "chart-series-1", "chart-series-2"]
    rows = by_class(root, "chart-row")
    first = {seg.get("class").split()[-1]: float(seg.get("width")) for seg in by_class(rows[0], "chart-segment")}
    second = {seg.get("class").split()[-1]: float(seg.get("width")) for seg in by_class(rows[1], "chart-segment")}
    assert "chart-series-1" not in second  # no sliver for a zero
    unit = first["chart-series-0"] / 6
    assert first["chart-series-1"] == pytest.approx(3 * unit, abs=0.02)
    assert second["chart-series-0"] == pytest.approx(2 * unit, abs=0.02)
    assert second["chart-series-2"] == pytest.approx(4 * unit, abs=0.02)
    assert texts(root, "chart-value") == ["12", "6"]
    assert chart.description == (
        "2 entries. Highest total: Independent oversight (12). Present: 8, Absent: 3, Unknown: 7; 18 in total."
    )


def test_stacked_chart_refuses_values_for_an_unknown_series():
    with pytest.raises(ValueError, match="unknown series"):
        stacked_bar_chart("x", [("A", {"present": 1, "maybe": 2})], SERIES)


def test_stacked_chart_escapes_series_and_row_labels():
    chart = stacked_bar_chart("x", [('<script>&"', {"a": 1})], [("a", "<b>Yes</b>")])
    assert_csp_safe(chart)
    root = parse(chart)
    assert texts(root, "chart-legend-label") == ["<b>Yes</b>"]
    assert texts(root, "chart-label") == ['<script>&"']


# --- all kinds -----------------------------------------------------------------------------------------------


EMPTY_CHARTS = [
    lambda: bar_chart("Partnerships by focus area", []),
    lambda: column_chart_by_year("Partnerships established per year", {}),
    lambda: stacked_bar_chart("Accountability mechanisms", [], SERIES),
]


@pytest.mark.parametrize("make", EMPTY_CHARTS, ids=["bar", "year", "stacked"])
def test_empty_data_says_no_data_yet_everywhere(make):
    chart = make()
    assert chart.is_empty
    assert chart.rows == ()
    assert chart.description == "No data yet."
    assert "No data yet" in texts(parse(chart), "chart-empty")
    assert_csp_safe(chart)
    html = render_to_string("includes/chart.html", {"chart": chart})
    tbody = find(parse_html(html), "tbody")[0]
    assert text_of(tbody) == "No data yet."
    assert find(tbody, "td")[0].get("colspan") == str(len(chart.columns))


def all_kinds() -> list[Chart]:
    return [
        bar_chart("Partnerships by region", REGIONS),
        bar_chart("Partnerships by focus area", REGIONS),
        column_chart_by_year("Partnerships established per year", {2000: 1, 2003: 2}),
        stacked_bar_chart("Accountability mechanisms", MECHANISMS, SERIES),
        bar_chart("Empty", []),
    ]


def test_charts_are_accessible_images_labelled_by_their_own_title_and_description():
    for chart in all_kinds():
        root = parse(chart)
        assert root.get("role") == "img"
        title_id, desc_id = root.get("aria-labelledby").split()
        assert root.find(f"{SVG}title").get("id") == title_id
        assert root.find(f"{SVG}title").text == chart.title
        assert root.find(f"{SVG}desc").get("id") == desc_id
        assert root.find(f"{SVG}desc").text == chart.description
        # scales with its container: a viewBox, and nothing wider than it
        x, y, width, _height = map(float, root.get("viewBox").split())
        assert (x, y) == (0, 0)
        assert width <= 420
        for rect in root.iter(f"{SVG}rect"):
            assert float(rect.get("x")) + float(rect.get("width")) <= width


def test_ids_are_unique_across_charts_on_one_page():
    page = "".join(render_to_string("includes/chart.html", {"chart": chart}) for chart in all_kinds())
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    # the same chart twice on one page gets distinct ids when asked
    twice = [bar_chart("Same", REGIONS, chart_id="left"), bar_chart("Same", REGIONS, chart_id="right")]
    assert parse(twice[0]).get("aria-labelledby") != parse(twice[1]).get("aria-labelledby")


def test_same_input_gives_the_same_markup():
    """Pages with charts stay cacheable: nothing random or counted in the output."""
    assert bar_chart("A", REGIONS).svg == bar_chart("A", REGIONS).svg


# --- the partial ---------------------------------------------------------------------------------------------

VOID = {"br", "hr", "img", "input", "link", "meta", "col", "area", "base", "source", "wbr"}


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = ET.Element("root")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = ET.SubElement(self.stack[-1], tag, {k: v or "" for k, v in attrs})
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        ET.SubElement(self.stack[-1], tag, {k: v or "" for k, v in attrs})

    def handle_endtag(self, tag):
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data):
        parent = self.stack[-1]
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + data
        else:
            parent.text = (parent.text or "") + data


def parse_html(html: str) -> ET.Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


def find(element: ET.Element, tag: str) -> list[ET.Element]:
    return list(element.iter(tag))


def text_of(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def test_partial_renders_a_figure_with_caption_graphic_and_visible_data_table():
    chart = bar_chart("Partnerships by <region>", REGIONS, label_heading="Region", unit="Partnerships")
    tree = parse_html(render_to_string("includes/chart.html", {"chart": chart}))

    (figure,) = find(tree, "figure")
    (caption,) = find(figure, "figcaption")
    assert text_of(caption) == f"Partnerships by <region> {chart.description}"
    assert len(find(figure, "svg")) == 1
    (table,) = find(figure, "table")
    assert text_of(find(table, "caption")[0]) == "Data: Partnerships by <region>"
    assert [(th.get("scope"), text_of(th)) for th in find(find(table, "thead")[0], "th")] == [
        ("col", "Region"),
        ("col", "Partnerships"),
    ]
    body_rows = find(find(table, "tbody")[0], "tr")
    assert [(text_of(row[0]), text_of(row[1])) for row in body_rows] == [
        ("Europe", "54"),
        ("North America", "27"),
        ("Oceania", "9"),
    ]
    assert all(row[0].tag == "th" and row[0].get("scope") == "row" for row in body_rows)
    assert [a.get("href") for a in find(body_rows[0], "a")] == ["/regions/europe/"]
    assert [(cell.tag, text_of(cell)) for cell in find(find(table, "tfoot")[0], "tr")[0]] == [
        ("th", "Total"),
        ("td", "90"),
    ]
    # the table is shown, not tucked away
    hidden = [
        el
        for el in figure.iter()
        if el.tag == "details" or "hidden" in el.attrib or "visually-hidden" in el.get("class", "")
    ]
    assert hidden == []
    # a scrollable table box must be reachable and named for keyboard and screen-reader users
    (wrap,) = [el for el in figure.iter("div") if "chart-table-wrap" in el.get("class", "")]
    assert wrap.get("tabindex") == "0"
    assert wrap.get("aria-labelledby") == find(table, "caption")[0].get("id")


def test_partial_escapes_labels_and_has_no_inline_style_or_script():
    chart = stacked_bar_chart("<script>alert(1)</script>", [("<img src=x onerror=alert(1)>", {"a": 1})], [("a", "A")])
    html = render_to_string("includes/chart.html", {"chart": chart})
    assert "<script" not in html
    assert "<img" not in html
    assert "style=" not in html
    parse_html(html)  # well-formed
