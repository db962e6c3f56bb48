"""Public pages of sources: the list of the documents the registry cites, and a page per source with its
bibliographic data and what it supports: every published record that cites it (as a whole, through a claim,
as checklist evidence or for a quote) and every claim it makes about a published record.

A fixed number of queries per page: one per kind of record supported (each capped, with its total counted in
the same query by a window function), one page of claims, the history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Count, Exists, F, Func, OuterRef, Prefetch, Q, Subquery, Window
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from cases.models import CaseQuote, OverreachCase
from legal.models import LegalInstrument, OversightBody
from partnerships.entity_views import form_fields, list_context, paginate
from partnerships.models import NGO, MechanismAssessment, Partnership, PoliceDepartment, SurveillancePractice
from provenance.filters import SourceFilter
from provenance.models import CLAIM_TARGETS, Claim, Source, SourceKind, SourceTier
from registry.citation import cite
from registry.pages import filter_or_400, refuse_unknown_parameters
from registry.presentation import field_label, history_entries

# Records of one kind listed on a source page; beyond this, the page says how many more there are.
SUPPORTED_LIMIT = 100
CLAIMS_PER_PAGE = 50


@dataclass(frozen=True)
class SupportedKind:
    """A kind of public record a source can support, and how."""

    model: Any  # a PublicRecord model (its manager has public())
    target: str  # the Claim field naming such a record (provenance.models.CLAIM_TARGETS)
    url_name: str
    singular: str
    plural: str
    order: tuple[str, ...]
    # Another way the source bears on such a record: (model, its link to the record, its link to the source, words).
    other: tuple[Any, str, str, str] | None = None


SUPPORTED_KINDS = [
    SupportedKind(
        Partnership,
        "partnership",
        "partnerships:detail",
        "partnership",
        "Partnerships",
        ("name", "id"),
        (MechanismAssessment, "partnership", "evidence", "checklist evidence"),
    ),
    SupportedKind(NGO, "ngo", "ngos:detail", "NGO", "NGOs", ("name", "id")),
    SupportedKind(
        PoliceDepartment,
        "police_department",
        "police_departments:detail",
        "police department",
        "Police departments",
        ("name", "id"),
    ),
    SupportedKind(
        SurveillancePractice,
        "surveillance_practice",
        "surveillance_practices:detail",
        "surveillance practice",
        "Surveillance practices",
        ("name", "id"),
    ),
    SupportedKind(
        LegalInstrument,
        "legal_instrument",
        "legal:instrument",
        "legal instrument",
        "Legal instruments",
        ("short_name", "id"),
    ),
    SupportedKind(
        OversightBody, "oversight_body", "legal:oversight_body", "oversight body", "Oversight bodies", ("name", "id")
    ),
    SupportedKind(
        OverreachCase,
        "overreach_case",
        "cases:detail",
        "overreach case",
        "Overreach cases",
        ("title", "id"),
        (CaseQuote, "case", "source", "quote"),
    ),
]
KIND_BY_TARGET = {kind.target: kind for kind in SUPPORTED_KINDS}


def sources_link(model: type[models.Model]) -> tuple[Any, str]:
    """The link table of ``model.sources`` and the name of its column pointing to the record."""
    link: Any = model._meta.get_field("sources")
    return link.remote_field.through, link.m2m_field_name()


def supported_ids(kind: SupportedKind, source: Any) -> models.QuerySet[Any]:
    """Ids of ``kind`` records citing ``source`` as a whole, through a claim, or in kind.other (a union).

    ``source`` is a Source or an OuterRef to one."""
    through, own = sources_link(kind.model)
    ids = through.objects.filter(source=source).order_by().values(f"{own}_id")
    parts = [Claim.objects.filter(**{f"{kind.target}__isnull": False}, source=source).order_by().values(kind.target)]
    if kind.other:
        other, to_record, to_source, _ = kind.other
        parts.append(other.objects.filter(**{to_source: source}).order_by().values(to_record))
    return ids.union(*parts)


def supported_records(kind: SupportedKind, source: Source) -> list[Any]:
    """The published ``kind`` records ``source`` supports, alphabetical, at most SUPPORTED_LIMIT, each with
    ``total`` (how many in all) and the ways it is cited (``as_whole``, ``by_claim``, ``by_other``)."""
    through, own = sources_link(kind.model)
    queryset = (
        kind.model.objects.public()
        .filter(pk__in=supported_ids(kind, source))
        .annotate(
            total=Window(Count("pk")),
            as_whole=Exists(through.objects.filter(**{own: OuterRef("pk")}, source=source)),
            by_claim=Exists(Claim.objects.filter(**{kind.target: OuterRef("pk")}, source=source)),
        )
        .order_by(*kind.order)
    )
    if kind.model is Partnership:
        queryset = queryset.defer("search_vector")
    if kind.other:
        other, to_record, to_source, _ = kind.other
        queryset = queryset.annotate(
            by_other=Exists(other.objects.filter(**{to_record: OuterRef("pk"), to_source: source}))
        )
    return list(queryset[:SUPPORTED_LIMIT])


def supported_partnership_count() -> Coalesce:
    """For each source row: the number of published partnerships it supports, as on its page (one correlated
    count, evaluated only for the rows of the page shown)."""
    partnerships = KIND_BY_TARGET["partnership"]
    count = (
        Partnership.objects.public()
        .filter(pk__in=supported_ids(partnerships, OuterRef(OuterRef("pk"))))
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )
    return Coalesce(Subquery(count, output_field=models.IntegerField()), 0)


def source_list(request: HttpRequest) -> HttpResponse:
    order = ("title", "id")
    filterset = filter_or_400(request, SourceFilter, Source.objects.order_by(*order), extra=("page",))
    fields = form_fields(
        filterset,
        [
            ("q", "Search", "search", []),
            ("kind", "Kind of document", "select", list(SourceKind.choices)),
            ("tier", "Tier", "select", list(SourceTier.choices)),
            ("publisher", "Publisher", "text", []),
            ("published_after", "Published from", "date", []),
            ("published_before", "Published until", "date", []),
        ],
    )

    def rows(ids: models.QuerySet[Any]) -> models.QuerySet[Any]:
        return (
            Source.objects.filter(pk__in=ids).annotate(partnership_count=supported_partnership_count()).order_by(*order)
        )

    context = {
        "filterset": filterset,
        "api_url": reverse("source-list", kwargs={"version": "v1"}),
        **list_context(request, filterset, fields, rows),
    }
    return render(request, "sources/list.html", context)


def published_claims(source: Source) -> models.QuerySet[Claim]:
    """The claims ``source`` makes about published records, grouped by kind of record, then by record (in the
    order the records were added). Publication is checked by an EXISTS per kind and each record is prefetched
    (one query per kind present on the page): joining the seven record tables costs more to plan than to run."""
    published = Q()
    for kind in SUPPORTED_KINDS:
        # The IS NOT NULL first: a kind absent from the source's claims never builds its EXISTS hash table.
        is_published = Exists(kind.model.objects.public().filter(pk=OuterRef(f"{kind.target}_id")))
        published |= Q(**{f"{kind.target}__isnull": False}) & Q(is_published)
    order = [F(f"{kind.target}_id").asc(nulls_last=True) for kind in SUPPORTED_KINDS]
    prefetches = [
        Prefetch(kind.target, queryset=kind.model.objects.defer("search_vector"))
        if kind.model is Partnership
        else kind.target
        for kind in SUPPORTED_KINDS
    ]
    return (
        Claim.objects.filter(source=source)
        .filter(published)
        .prefetch_related(*prefetches)
        .order_by(*order, "field", "value", "id")
    )


def claim_rows(claims: list[Claim]) -> list[dict[str, Any]]:
    rows = []
    for claim in claims:
        target = next(t for t in CLAIM_TARGETS if getattr(claim, f"{t}_id") is not None)
        kind = KIND_BY_TARGET[target]
        record = getattr(claim, target)
        rows.append(
            {
                "kind": kind.singular,
                "record": record,
                "url": reverse(kind.url_name, args=[record.slug]),
                "field": field_label(kind.model, claim.field),
                "claim": claim,
            }
        )
    return rows


def source_detail(request: HttpRequest, slug: str) -> HttpResponse:
    refuse_unknown_parameters(request, "page")
    source = get_object_or_404(Source, slug=slug)
    groups = []
    for kind in SUPPORTED_KINDS:
        records = supported_records(kind, source)
        if records:
            groups.append(
                {
                    "kind": kind,
                    "url_name": kind.url_name,
                    "records": records,
                    "total": records[0].total,
                    "other_words": kind.other[3] if kind.other else "",
                }
            )
    page = paginate(request, published_claims(source), per_page=CLAIMS_PER_PAGE)
    context = {
        "source": source,
        "groups": groups,
        "page": page,
        "claims": claim_rows(list(page.object_list)),
        "query": "",
        "limit": SUPPORTED_LIMIT,
        "history": history_entries(source),
        "citation": cite(
            request, title=source.title, path=request.path, updated_at=source.updated_at, kind="Source record"
        ),
        "api_url": reverse("source-detail", kwargs={"version": "v1", "slug": source.slug}),
    }
    return render(request, "sources/detail.html", context)
