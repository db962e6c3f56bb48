"""Public pages of the law: the jurisdiction tree with its instruments (/legal/), one jurisdiction, one legal
instrument and one oversight body.

Every page costs a fixed number of queries whatever the number of rows: the tree is built in Python from one
query of jurisdictions and one aggregated query of instruments (a count and the first few names per
jurisdiction), and long lists are capped with a link to the filtered list that holds them all."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.postgres.aggregates import ArrayAgg
from django.contrib.postgres.fields import ArrayField
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import models
from django.db.models import Case, Count, F, Func, Prefetch, Q, Value, When
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from cases.models import OverreachCase
from geography.models import LEVEL_DEPTH, Jurisdiction, JurisdictionLevel
from legal.filters import LegalInstrumentFilter
from legal.models import InstrumentKind, LegalInstrument, LegalTopic, OversightBody
from partnerships.models import Partnership
from provenance.models import VerificationStatus, claims_prefetch, sources_prefetch
from registry.pages import (
    BadQuery,
    filter_or_400,
    record_context,
    refuse_unknown_parameters,
)

# Instrument links shown beside a jurisdiction in the tree; the jurisdiction's page lists the rest.
TREE_LINKS = 8
# Rows shown in a capped list on a record page, which then links to the full list, and rows per page.
LIST_CAP = 50
PAGE_SIZE = 50
# Below this many partnerships, a capped list is sorted rather than read along the name index (see
# first_partnerships).
SMALL_SET = 5000
CITATION_KIND = "Data set record"

LEVEL_WORDS: dict[str, str] = {
    JurisdictionLevel.INTERNATIONAL: "International",
    JurisdictionLevel.SUPRANATIONAL: "Supranational",
    JurisdictionLevel.NATIONAL: "National",
    JurisdictionLevel.SUBNATIONAL: "Subnational",
    JurisdictionLevel.CITY: "City",
}

# Words for the filter parameters of the list pages (legal and cases), when shown as active filters.
FILTER_WORDS = {
    "kind": "Kind",
    "topic": "Topic",
    "jurisdiction": "Jurisdiction and below",
    "country": "Country",
    "in_force_on": "In force on",
    "year_min": "From year",
    "year_max": "To year",
    "in_force_from_after": "Took effect on or after",
    "in_force_to_before": "Ceased on or before",
    "verification_status": "Verification",
    "disputed": "Disputed",
    "source": "Source",
    "synthetic": "Synthetic",
    "changed_since": "Changed since",
    "issue": "Issue",
    "surveillance_method": "Surveillance method",
    "partnership": "Partnership",
    "found_by_kind": "Found by",
}


class ArrayHead(Func):
    """The first ``length`` items of an array (PostgreSQL slice ``(array)[1:n]``)."""

    template = "(%(expressions)s)[1:%(length)d]"

    def __init__(self, expression: Any, length: int) -> None:
        super().__init__(expression, length=int(length), output_field=ArrayField(models.CharField()))


def api_url(basename: str, slug: str) -> str:
    return reverse(f"{basename}-detail", kwargs={"version": "v1", "slug": slug})


def list_url(name: str, **params: str) -> str:
    return f"{reverse(name)}?{urlencode(params)}"


def slug_url(name: str) -> Any:
    """A function slug -> the address of the ``name`` page for it: one reverse() instead of one per link (slugs
    are URL-safe). Reversing each of the ~3,000 links of a 400-jurisdiction tree took half its render time."""
    marker = "slug-marker-0"
    head, tail = reverse(name, kwargs={"slug": marker}).split(marker)
    return lambda slug: f"{head}{slug}{tail}"


def page_of(request: HttpRequest, queryset: models.QuerySet[Any], *, param: str = "page", per_page: int) -> Page:
    """The page ``?<param>=`` of ``queryset``: not a whole number is a 400, a page past the end a 404."""
    paginator = Paginator(queryset, per_page)
    try:
        return paginator.page(request.GET.get(param) or 1)
    except PageNotAnInteger as error:
        raise BadQuery({param: ["A page number is a whole number from 1."]}) from error
    except EmptyPage as error:
        raise Http404("No such page.") from error


def page_links(request: HttpRequest, page: Page, *, param: str = "page", anchor: str = "") -> dict[str, str]:
    """Addresses of the previous and next pages, keeping every other parameter."""
    links = {}
    for key, number in (
        ("previous", page.previous_page_number() if page.has_previous() else None),
        ("next", page.next_page_number() if page.has_next() else None),
    ):
        if number is not None:
            query = request.GET.copy()
            query[param] = str(number)
            links[key] = f"{request.path}?{query.urlencode()}{'#' + anchor if anchor else ''}"
    return links


def first_partnerships(jurisdiction: Jurisdiction) -> tuple[list[Partnership], int]:
    """The first LIST_CAP published partnerships (by name) in the jurisdiction and below, and how many there are.

    Two queries. The planner over-estimates how many partnerships sit in a small tree (a real country among
    100k synthetic partnerships) and then reads the whole name index looking for them (800 ms); a small set is
    sorted instead. "name ASC NULLS FIRST" cannot come from that index, and names are never null, so the order
    is the same."""
    partnerships = (
        Partnership.objects.public()
        .in_jurisdiction(jurisdiction)
        .select_related("jurisdiction")
        .only("slug", "name", "year_established", "is_synthetic", "jurisdiction__slug", "jurisdiction__name")
    )
    total = partnerships.count()
    name = F("name").asc(nulls_first=True) if total <= SMALL_SET else F("name").asc()
    return list(partnerships.order_by(name, "id")[:LIST_CAP]), total


def ancestors_root_first(jurisdiction: Jurisdiction) -> list[Jurisdiction]:
    """The jurisdiction's chain from the root down to it (two queries)."""
    return list(reversed(jurisdiction.ancestors()))


def in_force_state(instrument: LegalInstrument, today: datetime.date) -> str:
    """in_force, not_yet or ended on ``today``, by the same rule as LegalInstrumentQuerySet.in_force_on."""
    if instrument.in_force_to is not None and instrument.in_force_to < today:
        return "ended"
    if instrument.in_force_from is not None:
        return "not_yet" if instrument.in_force_from > today else "in_force"
    if instrument.year is not None and instrument.year > today.year:
        return "not_yet"
    return "in_force"


# ---- Active filters, shared by the list pages of law and cases -------------------------------------------------


def query_without(query: QueryDict, *names: str) -> str:
    """``?query`` without ``names``, ``page`` and empty values (a form sends every field), or "" when nothing
    is left."""
    remaining = query.copy()
    for name in (*names, "page", *[key for key, value in query.items() if value == ""]):
        remaining.pop(name, None)
    encoded = remaining.urlencode()
    return f"?{encoded}" if encoded else ""


def active_filters(request: HttpRequest, filterset: Any) -> list[dict[str, str]]:
    """The filters in force on a list page, each with its value in words and the address without it."""
    cleaned = filterset.form.cleaned_data
    active = []
    for name in filterset.filters:
        raw = request.GET.get(name, "")
        if raw == "":
            continue
        value = cleaned.get(name)
        form_field = filterset.form.fields[name]
        if isinstance(value, models.Model):
            shown = str(value)
        elif getattr(form_field, "choices", None) is not None:
            shown = str(dict(form_field.choices).get(value, raw))
        elif isinstance(value, datetime.datetime):
            shown = value.strftime("%Y-%m-%d %H:%M UTC")
        elif isinstance(value, datetime.date):
            shown = value.isoformat()
        else:
            shown = raw
        active.append(
            {
                "name": name,
                "label": FILTER_WORDS.get(name, name.replace("_", " ").capitalize()),
                "value": shown,
                "remove_url": f"{request.path}{query_without(request.GET, name)}",
            }
        )
    return active


def hidden_params(request: HttpRequest, shown: set[str]) -> list[tuple[str, str]]:
    """Parameters in force that the page's form has no field for: kept as hidden inputs when it is submitted."""
    return [(name, str(value)) for name, value in request.GET.items() if name not in shown and name != "page" and value]


# ---- The jurisdiction tree ------------------------------------------------------------------------------------


@dataclass
class TreeNode:
    jurisdiction: Jurisdiction
    count: int = 0  # matching instruments made in this jurisdiction
    links: list[tuple[str, str]] = field(default_factory=list)  # (address, short name) of the first few
    total: int = 0  # matching instruments here and below
    children: list[TreeNode] = field(default_factory=list)

    @property
    def more(self) -> int:
        return self.count - len(self.links)


@dataclass
class TreeRow:
    """One jurisdiction of the tree, flattened for a single loop in the template: it opens a nested list when
    it has children, otherwise it closes its item and ``closes`` enclosing lists."""

    node: TreeNode
    depth: int
    level: str
    url: str
    has_children: bool = False
    closes: range = range(0)


Summary = dict[int, tuple[int, list[tuple[str, str]]]]


def build_tree(jurisdictions: list[Jurisdiction], summary: Summary) -> list[TreeNode]:
    """Roots of the jurisdiction tree, children ordered by level then name, with instrument counts per node
    and summed over each subtree."""
    nodes = {}
    for jurisdiction in jurisdictions:
        count, links = summary.get(jurisdiction.pk, (0, []))
        nodes[jurisdiction.pk] = TreeNode(jurisdiction, count=count, links=links)
    roots = []
    for node in nodes.values():
        parent = nodes.get(node.jurisdiction.parent_id) if node.jurisdiction.parent_id else None
        if parent is None:
            roots.append(node)
        else:
            parent.children.append(node)

    def key(node: TreeNode) -> tuple[int, str, str]:
        j = node.jurisdiction
        return (LEVEL_DEPTH.get(j.level, 99), j.name.casefold(), j.slug)

    # Totals bottom-up without recursion: a post-order walk with an explicit stack (the tree may be deep). A
    # broken tree (a cycle the database does not forbid) has no root and is simply not shown.
    stack: list[tuple[TreeNode, bool]] = [(root, False) for root in roots]
    while stack:
        node, visited = stack.pop()
        if visited:
            node.children.sort(key=key)
            node.total = node.count + sum(child.total for child in node.children)
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in node.children)
    roots.sort(key=key)
    return roots


def flatten_tree(roots: list[TreeNode], *, prune: bool) -> list[TreeRow]:
    """Depth-first rows of the tree; with ``prune``, only the branches that hold a matching instrument."""
    url = slug_url("legal:jurisdiction")
    rows: list[TreeRow] = []
    stack = [(root, 0) for root in reversed(roots)]
    while stack:
        node, depth = stack.pop()
        if prune and node.total == 0:
            continue
        j = node.jurisdiction
        rows.append(TreeRow(node, depth, LEVEL_WORDS.get(j.level, j.level), url(j.slug)))
        stack.extend((child, depth + 1) for child in reversed(node.children))
    for index, row in enumerate(rows):
        next_depth = rows[index + 1].depth if index + 1 < len(rows) else 0
        row.has_children = next_depth > row.depth
        row.closes = range(0 if row.has_children else row.depth - next_depth)
    return rows


def instrument_summary(instruments: models.QuerySet[LegalInstrument]) -> Summary:
    """Per jurisdiction id: how many of ``instruments`` were made there and the first few (address, short
    name). One GROUP BY query."""
    url = slug_url("legal:instrument")
    ordering = ("short_name", "id")
    rows = (
        instruments.order_by()
        .values("jurisdiction_id")
        .annotate(
            n=Count("id"),
            slugs=ArrayHead(ArrayAgg("slug", order_by=ordering), TREE_LINKS),
            names=ArrayHead(ArrayAgg("short_name", order_by=ordering), TREE_LINKS),
        )
        .values_list("jurisdiction_id", "n", "slugs", "names")
    )
    return {
        pk: (n, [(url(slug), name) for slug, name in zip(slugs, names, strict=True)]) for pk, n, slugs, names in rows
    }


FORM_FIELDS = {"kind", "topic", "in_force_on", "year_min", "year_max", "verification_status"}


def index(request: HttpRequest) -> HttpResponse:
    filterset = filter_or_400(request, LegalInstrumentFilter, LegalInstrument.objects.public())
    active = active_filters(request, filterset)
    instruments = filterset.qs
    if active:
        # A filter may join a many-to-many table: aggregate over the matching ids, each counted once.
        instruments = LegalInstrument.objects.filter(pk__in=filterset.qs.order_by().values("pk"))
    summary = instrument_summary(instruments)
    jurisdictions = list(Jurisdiction.objects.only("id", "slug", "name", "level", "parent_id").order_by())
    roots = build_tree(jurisdictions, summary)
    rows = flatten_tree(roots, prune=bool(active))
    api_query = query_without(request.GET)
    context = {
        "rows": rows,
        "matching": sum(n for n, _links in summary.values()),
        "active": active,
        "hidden": hidden_params(request, FORM_FIELDS),
        "values": {name: request.GET.get(name, "") for name in FORM_FIELDS},
        "kinds": InstrumentKind.choices,
        "topics": list(LegalTopic.objects.order_by("name").values_list("slug", "name")),
        "statuses": VerificationStatus.choices,
        "this_year": timezone.localdate().year,
        "api_list_url": reverse("legal-instrument-list", kwargs={"version": "v1"}) + api_query,
    }
    return render(request, "legal/index.html", context)


# ---- One jurisdiction ----------------------------------------------------------------------------------------


def jurisdiction(request: HttpRequest, slug: str) -> HttpResponse:
    refuse_unknown_parameters(request, "page", "made_page")
    place = get_object_or_404(Jurisdiction.objects.select_related("country", "parent"), slug=slug)
    today = timezone.localdate()
    chain = ancestors_root_first(place)
    # Nearest first: the law made here, then the law of each jurisdiction above.
    nearness = Case(
        *[When(jurisdiction_id=j.pk, then=Value(i)) for i, j in enumerate(reversed(chain))],
        default=Value(len(chain)),
        output_field=models.IntegerField(),
    )
    applicable = page_of(
        request,
        LegalInstrument.objects.public()
        .applicable_to(place, on=today)
        .annotate(nearness=nearness)
        .prefetch_related(Prefetch("topics", queryset=LegalTopic.objects.order_by("name", "id")))
        .order_by("nearness", "short_name", "id"),
        per_page=PAGE_SIZE,
    )
    made_here = page_of(
        request,
        LegalInstrument.objects.public().filter(jurisdiction=place).order_by("short_name", "id"),
        param="made_page",
        per_page=PAGE_SIZE,
    )
    for instrument in made_here.object_list:
        instrument.state = in_force_state(instrument, today)
    children = list(
        place.children.annotate(n=Count("instruments", filter=Q(instruments__is_published=True))).order_by("name", "id")
    )
    partnerships, partnership_total = first_partnerships(place)
    cases = (
        OverreachCase.objects.public()
        .filter(jurisdiction__in=Jurisdiction.objects.descendants_of(place))
        .select_related("jurisdiction")
        .only("slug", "title", "year", "is_synthetic", "jurisdiction__slug", "jurisdiction__name")
        .order_by(F("year").desc(nulls_last=True), "title", "id")
    )
    context = {
        "place": place,
        "level": LEVEL_WORDS.get(place.level, place.level),
        "chain": chain,
        "above": list(reversed(chain[:-1])),
        "applicable": applicable,
        "applicable_links": page_links(request, applicable, anchor="applicable-heading"),
        "today": today,
        "made_here": made_here,
        "made_here_links": page_links(request, made_here, param="made_page", anchor="made-here"),
        "children": children,
        "bodies": list(OversightBody.objects.public().filter(jurisdiction=place).order_by("name", "id")),
        "partnerships": partnerships,
        "partnership_total": partnership_total,
        "partnerships_url": list_url("partnerships:list", jurisdiction=place.slug),
        "cases": list(cases[:LIST_CAP]),
        "case_total": cases.count(),
        "cases_url": list_url("cases:list", jurisdiction=place.slug),
        "api_url": api_url("jurisdiction", place.slug),
    }
    return render(request, "legal/jurisdiction.html", context)


# ---- One legal instrument ------------------------------------------------------------------------------------


def instrument(request: HttpRequest, slug: str) -> HttpResponse:
    refuse_unknown_parameters(request)
    record = get_object_or_404(
        LegalInstrument.objects.public()
        .select_related("jurisdiction", "jurisdiction__country")
        .prefetch_related(
            Prefetch("topics", queryset=LegalTopic.objects.order_by("name", "id")),
            Prefetch("oversight_bodies", queryset=OversightBody.objects.public().order_by("name", "id")),
            sources_prefetch(),
            claims_prefetch(),
        ),
        slug=slug,
    )
    partnerships, partnership_total = first_partnerships(record.jurisdiction)
    title = record.short_name if record.short_name == record.title else f"{record.short_name}: {record.title}"
    context = {
        "record": record,
        "chain": ancestors_root_first(record.jurisdiction),
        "state": in_force_state(record, timezone.localdate()),
        "partnerships": partnerships,
        "partnership_total": partnership_total,
        "partnerships_url": list_url("partnerships:list", jurisdiction=record.jurisdiction.slug),
        **record_context(
            request,
            record,
            title=title,
            kind=CITATION_KIND,
            api_url=api_url("legal-instrument", record.slug),
        ),
    }
    return render(request, "legal/instrument.html", context)


# ---- One oversight body --------------------------------------------------------------------------------------


def oversight_body(request: HttpRequest, slug: str) -> HttpResponse:
    refuse_unknown_parameters(request)
    record = get_object_or_404(
        OversightBody.objects.public()
        .select_related("jurisdiction", "jurisdiction__country")
        .prefetch_related(
            Prefetch(
                "instruments",
                queryset=LegalInstrument.objects.public().select_related("jurisdiction").order_by("short_name", "id"),
            ),
            sources_prefetch(),
            claims_prefetch(),
        ),
        slug=slug,
    )
    context = {
        "record": record,
        "chain": ancestors_root_first(record.jurisdiction),
        **record_context(
            request, record, title=record.name, kind=CITATION_KIND, api_url=api_url("oversight-body", record.slug)
        ),
    }
    return render(request, "legal/oversight_body.html", context)
