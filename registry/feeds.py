"""Atom feeds: new and changed public records (``/feeds/changes/``) and the partnerships of any filtered list
(``/feeds/partnerships/?region=europe&...``, the same parameters as the list page and the API).

Each entry is one record: its title, its page (absolute link, also the entry's id, so a changed record updates
its entry rather than adding one), when it was first published and last changed, and a summary saying what it
is and how well it is sourced. Published records only; no personal data (nothing about who edited a record).
A feed costs a fixed number of queries whatever the number of records: one per record type."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.syndication.views import Feed
from django.db import models
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from cases.models import OverreachCase
from legal.models import LegalInstrument, OversightBody
from partnerships.filters import PartnershipFilter
from partnerships.models import NGO, Partnership, PoliceDepartment, SurveillancePractice
from registry.pages import filter_or_400

FEED_SIZE = 50
PUBLISHER = "Partnership Registry"


@dataclass(frozen=True)
class Entry:
    """One feed entry, built from a record (``url`` is absolute)."""

    title: str
    url: str
    updated: datetime.datetime
    published: datetime.datetime | None
    summary: str
    kind: str


@dataclass
class FeedQuery:
    """What a feed request asks for: the request (for absolute links) and, for a filtered feed, the filters."""

    request: HttpRequest
    filters: list[tuple[str, str]] = field(default_factory=list)  # (label, value) of each filter in use
    partnerships: models.QuerySet[Any] | None = None


def _status(record: Any) -> str:
    synthetic = " Synthetic test record, not real." if record.is_synthetic else ""
    return f"Verification status: {record.get_verification_status_display()}.{synthetic}"


def _year(year: int | None, words: str) -> str:
    return f", {words} {year}" if year else ""


def partnership_summary(p: Partnership) -> str:
    where = f"{p.jurisdiction.name}, {p.region.name}"
    return f"Partnership in {where}{_year(p.year_established, 'established')}. {_status(p)}"


def organisation_summary(kind: str) -> Callable[[Any], str]:
    def summary(o: Any) -> str:
        return f"{kind} in {o.jurisdiction.name}. {_status(o)}"

    return summary


def practice_summary(s: SurveillancePractice) -> str:
    return f"Surveillance practice. {_status(s)}"


def instrument_summary(i: LegalInstrument) -> str:
    where = f"{i.jurisdiction.name}{_year(i.year, 'from')}"
    return f"Legal instrument of {where}; kind: {i.get_kind_display()}. {_status(i)}"


def instrument_title(i: LegalInstrument) -> str:
    return i.title if i.short_name == i.title else f"{i.short_name}: {i.title}"


def oversight_summary(b: OversightBody) -> str:
    return f"Oversight body of {b.jurisdiction.name}; kind: {b.get_kind_display()}. {_status(b)}"


def case_summary(c: OverreachCase) -> str:
    return f"Overreach case in {c.location}{_year(c.year, 'in')}. {_status(c)}"


@dataclass(frozen=True)
class RecordKind:
    """How a record type becomes feed entries: what to read, its page, its title and summary."""

    label: str
    queryset: Callable[[], models.QuerySet[Any]]
    route: str
    title: Callable[[Any], str]
    summary: Callable[[Any], str]


RECORD_KINDS: tuple[RecordKind, ...] = (
    RecordKind(
        "Partnership",
        lambda: Partnership.objects.public().select_related("region", "jurisdiction").defer("search_vector"),
        "partnerships:detail",
        lambda p: p.name,
        partnership_summary,
    ),
    RecordKind(
        "NGO",
        lambda: NGO.objects.public().select_related("jurisdiction"),
        "ngos:detail",
        lambda o: o.name,
        organisation_summary("NGO"),
    ),
    RecordKind(
        "Police department",
        lambda: PoliceDepartment.objects.public().select_related("jurisdiction"),
        "police_departments:detail",
        lambda o: o.name,
        organisation_summary("Police department"),
    ),
    RecordKind(
        "Surveillance practice",
        lambda: SurveillancePractice.objects.public(),
        "surveillance_practices:detail",
        lambda s: s.name,
        practice_summary,
    ),
    RecordKind(
        "Legal instrument",
        lambda: LegalInstrument.objects.public().select_related("jurisdiction"),
        "legal:instrument",
        instrument_title,
        instrument_summary,
    ),
    RecordKind(
        "Oversight body",
        lambda: OversightBody.objects.public().select_related("jurisdiction"),
        "legal:oversight_body",
        lambda b: b.name,
        oversight_summary,
    ),
    RecordKind(
        "Overreach case",
        lambda: OverreachCase.objects.public().select_related("jurisdiction"),
        "cases:detail",
        lambda c: c.title,
        case_summary,
    ),
)
PARTNERSHIP_KIND = RECORD_KINDS[0]


def newest_first(queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
    return queryset.order_by("-updated_at", "-id")[:FEED_SIZE]


def entries(request: HttpRequest, kind: RecordKind, records: Iterable[Any]) -> list[Entry]:
    return [
        Entry(
            title=kind.title(record),
            url=request.build_absolute_uri(reverse(kind.route, args=[record.slug])),
            updated=record.updated_at,
            published=record.first_published_at,
            summary=kind.summary(record),
            kind=kind.label,
        )
        for record in records
    ]


class RegistryFeed(Feed):
    """What both feeds share: Atom, entries as built by ``entries()``."""

    feed_type = Atom1Feed
    author_name = PUBLISHER

    def feed_guid(self, obj: FeedQuery) -> str:
        return obj.request.build_absolute_uri()

    def feed_url(self, obj: FeedQuery) -> str:
        return obj.request.get_full_path()

    def item_title(self, item: Entry) -> str:
        return item.title  # an Atom title is text: the XML writer escapes it, no HTML escaping here

    def item_link(self, item: Entry) -> str:
        return item.url

    def item_guid(self, item: Entry) -> str:
        return item.url

    def item_description(self, item: Entry) -> str:
        return escape(item.summary)  # written as <summary type="html">

    def item_updateddate(self, item: Entry) -> datetime.datetime:
        return item.updated

    def item_pubdate(self, item: Entry) -> datetime.datetime | None:
        return item.published

    def item_categories(self, item: Entry) -> tuple[str, ...]:
        return (item.kind,)


class ChangesFeed(RegistryFeed):
    """The newest changes across the registry: the most recently changed published records of every type."""

    title = f"{PUBLISHER}: new and changed records"
    subtitle = (
        "Partnerships between NGOs and police, the law that governs them, and documented surveillance overreach: "
        f"the {FEED_SIZE} most recently published or changed records."
    )

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> FeedQuery:
        return FeedQuery(request)

    def link(self, obj: FeedQuery) -> str:
        return reverse("home")

    def items(self, obj: FeedQuery) -> list[Entry]:
        found: list[Entry] = []
        for kind in RECORD_KINDS:  # one query per record type
            found.extend(entries(obj.request, kind, newest_first(kind.queryset())))
        found.sort(key=lambda entry: (entry.updated, entry.url), reverse=True)
        return found[:FEED_SIZE]


# Words for the feed title, per filter parameter (others are named after the parameter).
FILTER_WORDS = {
    "q": "search",
    "ngo": "NGO",
    "year_min": "established from",
    "year_max": "established until",
    "mechanism_present": "has",
    "mechanism_absent": "lacks (evidence)",
    "mechanism_unknown": "unknown whether it has",
    "mechanism_lacking": "no evidence of",
}


def describe_filters(filterset: Any) -> list[tuple[str, str]]:
    """(words, value) for each filter given, in the order of the FilterSet, for people to read."""
    described = []
    for name, value in filterset.form.cleaned_data.items():
        if name == "ordering" or name not in filterset.data or value in (None, "", []):
            continue
        choices = dict(filterset.filters[name].extra.get("choices") or ())
        if isinstance(value, models.Model):
            shown = str(value)
        elif isinstance(value, datetime.datetime):
            shown = value.isoformat()
        else:
            shown = str(choices.get(value, value))
        described.append((FILTER_WORDS.get(name, name.replace("_", " ")), shown))
    return described


class PartnershipsFeed(RegistryFeed):
    """The partnerships of a filtered list, the most recently changed first. The parameters are the list page's
    and the API's (``PartnershipFilter``); an unknown or invalid one is a 400. ``ordering`` is accepted but a feed
    is always newest change first."""

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> FeedQuery:
        filterset = filter_or_400(request, PartnershipFilter, Partnership.objects.public())
        return FeedQuery(request, describe_filters(filterset), filterset.qs)

    def title(self, obj: FeedQuery) -> str:
        if not obj.filters:
            return f"{PUBLISHER}: partnerships, all"
        return f"{PUBLISHER}: partnerships, {'; '.join(f'{words}: {value}' for words, value in obj.filters)}"

    def subtitle(self, obj: FeedQuery) -> str:
        return f"The {FEED_SIZE} most recently published or changed partnerships matching these filters."

    def link(self, obj: FeedQuery) -> str:
        query = obj.request.GET.urlencode()
        return f"{reverse('partnerships:list')}?{query}" if query else reverse("partnerships:list")

    def items(self, obj: FeedQuery) -> list[Entry]:
        if obj.partnerships is None:
            return []
        records = newest_first(obj.partnerships.select_related("region", "jurisdiction").defer("search_vector"))
        return entries(obj.request, PARTNERSHIP_KIND, records)


urlpatterns = [
    path("changes/", ChangesFeed(), name="changes"),
    path("partnerships/", PartnershipsFeed(), name="partnerships"),
]
