"""Server-rendered SVG charts for the public pages: no JavaScript, no inline styles, no third-party requests.

Every function here is pure: it takes data that a view has already counted and returns a :class:`Chart`, which
holds the SVG (accessible: ``role="img"``, labelled by its own ``<title>`` and ``<desc>``), a plain-language
description of what the chart shows, and the same numbers as table columns and rows. The page renders a chart
with ``{% include "includes/chart.html" with chart=... %}``: figure, caption, graphic and a visible data table.

Rules the output keeps, so that it passes a strict Content-Security-Policy and reads on a 360 px phone:

* colours come from classes only (``chart-bar``, ``chart-series-0`` to ``chart-series-7``, ...), defined in
  ``static/css/charts.css``; the SVG carries no ``style`` attribute, no ``<style>`` and no script;
* the SVG is built with :mod:`xml.etree.ElementTree`, so every label (they come from the database) is escaped;
  characters that XML does not allow are removed first;
* sizes are in ``viewBox`` units and the stylesheet scales the graphic to its container; long labels are cut
  with an ellipsis to fit, and the full label stays in a ``<title>`` tooltip and in the table;
* numbers are shown with thousands separators (``12,345``).

Element ids inside a chart (for ``aria-labelledby``) start with the chart's id, which is derived from the
chart's kind, title and data; pass ``chart_id`` when a page shows the same chart twice.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe

Number = int | float

NO_DATA = "No data yet"
SERIES_CLASSES = 8  # chart-series-0 .. chart-series-7 in static/css/charts.css; more series reuse them in turn

# Layout, in viewBox units. 400 wide keeps 16-unit text at about 13 px on a 360 px phone (328 px of content);
# the stylesheet caps the width so that it does not grow much past 19 px on a desktop.
WIDTH = 400
FONT_SIZE = 16
SMALL_FONT_SIZE = 14
BAR_ROW_HEIGHT = 50  # a label line above each bar, then the bar
BAR_HEIGHT = 18
BAR_LABEL_BASELINE = 16
BAR_TOP = 23  # bar's top edge within its row
COLUMN_CHART_HEIGHT = 240
LEGEND_ROW_HEIGHT = 26
LEGEND_SWATCH = 14

_SVG_NS = "http://www.w3.org/2000/svg"
_CHART_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
# Characters XML 1.0 does not allow (and DEL, and lone surrogates that cannot be encoded).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_SAFE_HREF = re.compile(r"^(/(?!/)|#|https?://)", re.IGNORECASE)
_NARROW = frozenset("fijlrtI.,:;'!|()[] ")
_YEAR_STEPS = (1, 2, 5, 10, 20, 25, 50, 100)


@dataclass(frozen=True)
class Cell:
    """One cell of a chart's data table: the raw value, its display text, and an optional link."""

    value: str | Number
    text: str
    href: str | None = None
    numeric: bool = False


@dataclass(frozen=True)
class Chart:
    """A rendered chart: the SVG, a text description, and the same data as a table (``columns``, ``rows``).

    The first cell of every row names the row (a row header in the table); ``footer`` is an optional totals
    row. ``data()`` gives the rows' raw values, for tests and exports."""

    chart_id: str
    kind: str
    title: str
    description: str
    svg: SafeString
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    footer: tuple[Cell, ...] = ()
    unit: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.rows

    def data(self) -> list[tuple[str | Number, ...]]:
        return [tuple(cell.value for cell in row) for row in self.rows]


# --- public chart kinds ----------------------------------------------------------------------------------


def bar_chart(
    title: str,
    items: Sequence[tuple[str, Number, str | None]],
    *,
    label_heading: str = "Name",
    unit: str = "",
    show_total: bool = True,
    chart_id: str | None = None,
) -> Chart:
    """Horizontal bars, one per ``(label, value, href or None)``, in the order given, each label above its bar
    and the value at the bar's end. A bar with an ``href`` is a link (so is its label in the table).

    ``unit`` names what the values count ("Partnerships"); it heads the value column. Set ``show_total=False``
    when the values overlap (a partnership counted under several practices), so that no total is claimed."""
    rows = [(_clean(label), _number(value), _href(href)) for label, value, href in items]
    cid = _chart_id(chart_id, "bar", title, rows)
    value_heading = unit or "Number"
    columns = (label_heading, value_heading)
    if not rows:
        return _empty_chart(cid, "bar", title, columns, unit)

    values = [value for _, value, _ in rows]
    total = sum(values)
    description = _bar_description(rows, total, show_total)
    svg = _bar_svg(cid, title, description, rows)
    table = tuple(
        (Cell(label, label, href), Cell(value, format_number(value), numeric=True)) for label, value, href in rows
    )
    footer = (Cell("Total", "Total"), Cell(total, format_number(total), numeric=True)) if show_total else ()
    return Chart(cid, "bar", _clean(title), description, svg, columns, table, footer, unit)


def column_chart_by_year(
    title: str,
    counts: Mapping[int, int],
    *,
    unit: str = "",
    chart_id: str | None = None,
) -> Chart:
    """Vertical columns, one per year from the first to the last year in ``counts``; years missing from
    ``counts`` are shown (and listed in the table) as 0. Year labels thin out (every 2, 5, 10, ... years) so
    that they stay readable from one year to a span of a century or more."""
    data = {int(year): _number(value) for year, value in counts.items()}
    columns = ("Year", unit or "Number")
    if not data:
        cid = _chart_id(chart_id, "year", title, [])
        return _empty_chart(cid, "year", title, columns, unit)
    first, last = min(data), max(data)
    years = [(year, data.get(year, 0)) for year in range(first, last + 1)]
    cid = _chart_id(chart_id, "year", title, years)
    description = _year_description(years)
    svg = _column_svg(cid, title, description, years)
    table = tuple((Cell(year, str(year)), Cell(value, format_number(value), numeric=True)) for year, value in years)
    total = sum(value for _, value in years)
    footer = (Cell("Total", "Total"), Cell(total, format_number(total), numeric=True))
    return Chart(cid, "year", _clean(title), description, svg, columns, table, footer, unit)


def stacked_bar_chart(
    title: str,
    items: Sequence[tuple[str, Mapping[str, Number]]],
    series: Sequence[tuple[str, str]],
    *,
    label_heading: str = "Name",
    chart_id: str | None = None,
) -> Chart:
    """Horizontal bars split into series, e.g. each accountability mechanism with the number of partnerships
    where it is present, absent or unknown. ``series`` gives each series' key and label in the order the
    segments, the legend and the table columns follow; a key missing from an item counts as 0, a key that is
    not a series is an error (it would silently drop data)."""
    keys = [str(key) for key, _ in series]
    if not keys:
        raise ValueError("a stacked bar chart needs at least one series")
    if len(set(keys)) != len(keys):
        raise ValueError("series keys must be unique")
    labels = [_clean(label) for _, label in series]
    rows: list[tuple[str, list[Number]]] = []
    for label, values in items:
        unknown = set(map(str, values)) - set(keys)
        if unknown:
            raise ValueError(f"values for unknown series {sorted(unknown)!r} in {label!r}")
        by_key = {str(key): value for key, value in values.items()}
        rows.append((_clean(label), [_number(by_key.get(key, 0)) for key in keys]))
    cid = _chart_id(chart_id, "stacked", title, [keys, rows])
    columns = (label_heading, *labels, "Total")
    if not rows:
        return _empty_chart(cid, "stacked", title, columns, "", legend=labels)

    description = _stacked_description(rows, labels)
    svg = _stacked_svg(cid, title, description, rows, labels)
    table = tuple(
        (
            Cell(label, label),
            *(Cell(value, format_number(value), numeric=True) for value in values),
            Cell(sum(values), format_number(sum(values)), numeric=True),
        )
        for label, values in rows
    )
    series_totals = [sum(values[i] for _, values in rows) for i in range(len(keys))]
    grand = sum(series_totals)
    footer = (
        Cell("Total", "Total"),
        *(Cell(value, format_number(value), numeric=True) for value in series_totals),
        Cell(grand, format_number(grand), numeric=True),
    )
    return Chart(cid, "stacked", _clean(title), description, svg, columns, table, footer)


# --- text ------------------------------------------------------------------------------------------------


def format_number(value: Number) -> str:
    """``12345`` -> ``12,345``; ``2.5`` -> ``2.5``; ``2.0`` -> ``2``."""
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _names(names: Sequence[str], limit: int = 3) -> str:
    """``A``, ``A and B``, ``A, B and C``, ``A, B, C and 2 others``."""
    if len(names) > limit:
        rest = len(names) - limit
        return f"{', '.join(names[:limit])} and {rest} other{'s' if rest != 1 else ''}"
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _extreme(pairs: Sequence[tuple[str, Number]], pick: Number) -> str:
    names = [name for name, value in pairs if value == pick]
    each = " each" if len(names) > 1 else ""
    return f"{_names(names)} ({format_number(pick)}{each})"


def _bar_description(rows: Sequence[tuple[str, Number, str | None]], total: Number, show_total: bool) -> str:
    pairs = [(label, value) for label, value, _ in rows]
    count = f"{len(pairs)} {'entry' if len(pairs) == 1 else 'entries'}"
    top, bottom = max(v for _, v in pairs), min(v for _, v in pairs)
    if top == 0:
        return f"{count}, all 0."
    parts = [f"{count}.", f"Highest: {_extreme(pairs, top)}."]
    if bottom != top:
        parts.append(f"Lowest: {_extreme(pairs, bottom)}.")
    if show_total and len(pairs) > 1:
        parts.append(f"{format_number(total)} in total.")
    return " ".join(parts)


def _year_description(years: Sequence[tuple[int, Number]]) -> str:
    first, last = years[0][0], years[-1][0]
    span = f"Year {first}." if first == last else f"Years {first} to {last}."
    pairs = [(str(year), value) for year, value in years]
    top = max(value for _, value in pairs)
    total = sum(value for _, value in pairs)
    if top == 0:
        return f"{span} All 0."
    parts = [span]
    if len(pairs) > 1:
        parts.append(f"Highest: {_extreme(pairs, top)}.")
    none = sum(1 for _, value in pairs if value == 0)
    if none:
        parts.append(f"{none} {'year' if none == 1 else 'years'} with none.")
    parts.append(f"{format_number(total)} in total.")
    return " ".join(parts)


def _stacked_description(rows: Sequence[tuple[str, Sequence[Number]]], labels: Sequence[str]) -> str:
    totals = [(label, sum(values)) for label, values in rows]
    count = f"{len(rows)} {'entry' if len(rows) == 1 else 'entries'}"
    top = max(value for _, value in totals)
    grand = sum(value for _, value in totals)
    if top == 0:
        return f"{count}, all 0."
    by_series = ", ".join(
        f"{label}: {format_number(sum(values[i] for _, values in rows))}" for i, label in enumerate(labels)
    )
    parts = [f"{count}."]
    if len(rows) > 1:
        parts.append(f"Highest total: {_extreme(totals, top)}.")
    parts.append(f"{by_series}; {format_number(grand)} in total.")
    return " ".join(parts)


# --- input checks ----------------------------------------------------------------------------------------


def _clean(text: object) -> str:
    """A label fit for XML and for one line: characters XML forbids removed, runs of white space made one."""
    cleaned = " ".join(_NOT_XML.sub("", str(text)).split())
    return cleaned or "(unnamed)"


def _number(value: object) -> Number:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"chart values must be numbers, not {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"chart values must be finite and not negative, not {value!r}")
    return value


def _href(href: str | None) -> str | None:
    """Links come from ``reverse()``; anything but a path, a fragment or an http(s) URL is refused (a
    ``javascript:`` URL would survive escaping)."""
    if href is None or href == "":
        return None
    href = _NOT_XML.sub("", href).strip()
    if not _SAFE_HREF.match(href):
        raise ValueError(f"refusing chart link {href!r}: only paths and http(s) URLs")
    return href


def _chart_id(chart_id: str | None, kind: str, title: str, data: object) -> str:
    if chart_id is not None:
        if not _CHART_ID.match(chart_id):
            raise ValueError(f"chart_id {chart_id!r} must start with a letter and hold only letters, digits, - and _")
        return chart_id
    digest = hashlib.sha256(repr((kind, title, data)).encode("utf-8", "replace")).hexdigest()[:12]
    return f"chart-{digest}"


# --- text measuring --------------------------------------------------------------------------------------


def _char_width(char: str) -> float:
    """A generous estimate of a character's advance in em, so that estimated text never overflows."""
    if unicodedata.combining(char):
        return 0.0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 1.0
    if char in _NARROW:
        return 0.34
    if char.isupper() or char in "mwMW@%":
        return 0.74
    return 0.6


def text_width(text: str, font_size: float = FONT_SIZE) -> float:
    return sum(_char_width(char) for char in text) * font_size


def fit_text(text: str, max_width: float, font_size: float = FONT_SIZE) -> str:
    """``text`` if it fits in ``max_width``, else as much of it as fits followed by an ellipsis."""
    if text_width(text, font_size) <= max_width:
        return text
    budget = max_width - text_width("…", font_size)
    used, cut = 0.0, 0
    for char in text:
        advance = _char_width(char) * font_size
        if used + advance > budget:
            break
        used += advance
        cut += 1
    while 0 < cut < len(text) and unicodedata.combining(text[cut]):
        cut -= 1  # never split a letter from its accents
    space = text.rfind(" ", 0, cut + 1)
    if space > cut - 12 and space > 0:
        cut = space  # end on a whole word when one ends close by
    return text[:cut].rstrip() + "…"


# --- SVG -------------------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    """Coordinates with at most two decimals, no trailing zeros."""
    return f"{x:.2f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str | float) -> ET.Element:
    element = ET.SubElement(
        parent,
        tag,
        {name.rstrip("_").replace("_", "-"): _fmt(v) if isinstance(v, float | int) else v for name, v in attrs.items()},
    )
    if text is not None:
        element.text = text
    return element


def _svg_root(chart_id: str, kind: str, title: str, description: str, height: float) -> ET.Element:
    root = ET.Element(
        "svg",
        {
            "xmlns": _SVG_NS,
            "viewBox": f"0 0 {WIDTH} {_fmt(height)}",
            "width": str(WIDTH),
            "height": _fmt(height),
            "role": "img",
            "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
            "class": f"chart-svg chart-svg-{kind}",
            "font-size": str(FONT_SIZE),
        },
    )
    _el(root, "title", _clean(title), id=f"{chart_id}-title")
    _el(root, "desc", description, id=f"{chart_id}-desc")
    return root


def _serialise(root: ET.Element) -> SafeString:
    markup = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    # Every text and attribute went through ElementTree's escaping, and labels through _clean().
    return mark_safe(markup)  # noqa: S308


def _empty_chart(
    chart_id: str, kind: str, title: str, columns: tuple[str, ...], unit: str, legend: Sequence[str] = ()
) -> Chart:
    description = f"{NO_DATA}."
    height = 80.0
    root = _svg_root(chart_id, kind, title, description, height)
    _el(root, "text", NO_DATA, x=WIDTH / 2, y=height / 2 + 5, text_anchor="middle", class_="chart-empty")
    return Chart(chart_id, kind, _clean(title), description, _serialise(root), columns, (), (), unit)


def _bar_svg(chart_id: str, title: str, description: str, rows: Sequence[tuple[str, Number, str | None]]) -> SafeString:
    top_value = max(value for _, value, _ in rows)
    value_space = max(text_width(format_number(value)) for _, value, _ in rows) + 8
    max_bar = WIDTH - value_space
    height = len(rows) * BAR_ROW_HEIGHT
    root = _svg_root(chart_id, "bar", title, description, height)
    for index, (label, value, href) in enumerate(rows):
        y = index * BAR_ROW_HEIGHT
        parent = root
        if href:
            # The table repeats every link; inside role="img" a link is only for pointer users (no tab stop).
            parent = _el(root, "a", href=href, class_="chart-link", tabindex="-1")
        group = _el(parent, "g", class_="chart-row")
        _el(group, "title", f"{label}: {format_number(value)}")
        _el(group, "text", fit_text(label, WIDTH), x=0, y=y + BAR_LABEL_BASELINE, class_="chart-label")
        width = max_bar * value / top_value if top_value else 0.0
        _el(group, "rect", x=0, y=y + BAR_TOP, width=round(width, 2), height=BAR_HEIGHT, class_="chart-bar")
        _el(
            group,
            "text",
            format_number(value),
            x=round(width, 2) + 6,
            y=y + BAR_TOP + BAR_HEIGHT - 4,
            class_="chart-value",
        )
    return _serialise(root)


def _nice_ticks(top: Number) -> list[Number]:
    """0 and three to five round steps up to at least ``top`` (integers for counts of 1 and more)."""
    if top <= 0:
        return [0, 1]
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step: Number = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if top >= 1:
        step = max(1, round(step))
    count = math.ceil(top / step - 1e-9)
    return [round(step * i, 10) for i in range(count + 1)]


def year_label_step(years: int, plot_width: float, font_size: float = SMALL_FONT_SIZE) -> int:
    """The smallest round step (1, 2, 5, 10, 20, 25, 50, 100 years) at which year labels do not touch."""
    slot = plot_width / max(years, 1)
    needed = text_width("0000", font_size) + 6
    return next((step for step in _YEAR_STEPS if slot * step >= needed), _YEAR_STEPS[-1])


def _column_svg(chart_id: str, title: str, description: str, years: Sequence[tuple[int, Number]]) -> SafeString:
    height = COLUMN_CHART_HEIGHT
    ticks = _nice_ticks(max(value for _, value in years))
    top_tick = ticks[-1]
    left = max(text_width(format_number(t), SMALL_FONT_SIZE) for t in ticks) + 10
    right, top, bottom = 20.0, 20.0, 26.0
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    base = top + plot_h
    slot = plot_w / len(years)
    col_w = min(slot * 0.8, 40.0)
    root = _svg_root(chart_id, "year", title, description, height)

    axis = _el(root, "g", class_="chart-axis-y")
    for tick in ticks:
        y = base - plot_h * tick / top_tick
        _el(axis, "line", x1=left, x2=WIDTH - right, y1=round(y, 2), y2=round(y, 2), class_="chart-grid")
        _el(
            axis,
            "text",
            format_number(tick),
            x=left - 6,
            y=round(y + 4, 2),
            text_anchor="end",
            font_size=SMALL_FONT_SIZE,
            class_="chart-tick",
        )

    show_values = max(text_width(format_number(v), SMALL_FONT_SIZE) for _, v in years) + 2 <= slot
    columns = _el(root, "g", class_="chart-columns")
    for index, (year, value) in enumerate(years):
        h = plot_h * value / top_tick
        x = left + index * slot + (slot - col_w) / 2
        rect = _el(
            columns,
            "rect",
            x=round(x, 2),
            y=round(base - h, 2),
            width=round(col_w, 2),
            height=round(h, 2),
            class_="chart-bar",
        )
        _el(rect, "title", f"{year}: {format_number(value)}")
        if show_values:
            _el(
                columns,
                "text",
                format_number(value),
                x=round(x + col_w / 2, 2),
                y=round(base - h - 4, 2),
                text_anchor="middle",
                font_size=SMALL_FONT_SIZE,
                class_="chart-value",
            )

    _el(root, "line", x1=left, x2=WIDTH - right, y1=base, y2=base, class_="chart-axis")
    step = year_label_step(len(years), plot_w)
    labelled = [i for i, (year, _) in enumerate(years) if year % step == 0] or [0]
    axis_x = _el(root, "g", class_="chart-axis-x")
    for index in labelled:
        cx = round(left + (index + 0.5) * slot, 2)
        _el(axis_x, "line", x1=cx, x2=cx, y1=base, y2=base + 4, class_="chart-axis")
        _el(
            axis_x,
            "text",
            str(years[index][0]),
            x=cx,
            y=height - 6,
            text_anchor="middle",
            font_size=SMALL_FONT_SIZE,
            class_="chart-tick",
        )
    return _serialise(root)


def _legend(root: ET.Element, labels: Sequence[str]) -> float:
    """Swatch and name of each series, flowing onto more lines as needed; returns the height used."""
    group = _el(root, "g", class_="chart-legend")
    x, line = 0.0, 0
    for index, label in enumerate(labels):
        shown = fit_text(label, WIDTH - LEGEND_SWATCH - 6)
        width = LEGEND_SWATCH + 6 + text_width(shown) + 16
        if x > 0 and x + width > WIDTH:
            x, line = 0.0, line + 1
        y = line * LEGEND_ROW_HEIGHT
        item = _el(group, "g", class_="chart-legend-item")
        if shown != label:
            _el(item, "title", label)
        _el(
            item,
            "rect",
            x=round(x, 2),
            y=y + 2,
            width=LEGEND_SWATCH,
            height=LEGEND_SWATCH,
            class_=f"chart-swatch chart-series-{index % SERIES_CLASSES}",
        )
        _el(item, "text", shown, x=round(x + LEGEND_SWATCH + 6, 2), y=y + 15, class_="chart-legend-label")
        x += width
    return (line + 1) * LEGEND_ROW_HEIGHT + 8


def _stacked_svg(
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[tuple[str, Sequence[Number]]],
    labels: Sequence[str],
) -> SafeString:
    # The legend's height is known only once it is laid out; lay it out on a scratch root first.
    legend_height = _legend(ET.Element("svg"), labels)
    height = legend_height + len(rows) * BAR_ROW_HEIGHT
    root = _svg_root(chart_id, "stacked", title, description, height)
    _legend(root, labels)
    totals = [sum(values) for _, values in rows]
    top_value = max(totals)
    value_space = max(text_width(format_number(total)) for total in totals) + 8
    max_bar = WIDTH - value_space
    for row_index, ((label, values), total) in enumerate(zip(rows, totals, strict=True)):
        y = legend_height + row_index * BAR_ROW_HEIGHT
        group = _el(root, "g", class_="chart-row")
        parts = ", ".join(f"{name}: {format_number(v)}" for name, v in zip(labels, values, strict=True))
        _el(group, "title", f"{label}: {parts}")
        _el(group, "text", fit_text(label, WIDTH), x=0, y=y + BAR_LABEL_BASELINE, class_="chart-label")
        x = 0.0
        for index, value in enumerate(values):
            width = max_bar * value / top_value if top_value else 0.0
            if width > 0:
                segment = _el(
                    group,
                    "rect",
                    x=round(x, 2),
                    y=y + BAR_TOP,
                    width=round(width, 2),
                    height=BAR_HEIGHT,
                    class_=f"chart-segment chart-series-{index % SERIES_CLASSES}",
                )
                _el(segment, "title", f"{label}, {labels[index]}: {format_number(value)}")
            x += width
        _el(
            group,
            "text",
            format_number(total),
            x=round(x, 2) + 6,
            y=y + BAR_TOP + BAR_HEIGHT - 4,
            class_="chart-value",
        )
    return _serialise(root)
