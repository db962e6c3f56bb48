"""Conditional requests: ``ETag`` and ``Last-Modified`` on list and detail responses, and ``304 Not Modified``
when the client's copy is current, decided before anything is serialized (one or two cheap queries).

What a version covers (the ETag is weak, ``W/"..."``: equal means "the same data", not byte-identical):

- detail: the record's pk and ``updated_at``, plus, for each event table of ``conditional_related``, the id
  (and, for Last-Modified, the time) of the newest history event of the related rows (django-pghistory
  records every insert, update and delete, M2M links included). A claim added, an assessment changed, an NGO
  linked or renamed: each writes an event, so each changes the ETag, even when the record's own
  ``updated_at`` does not move (``claim_add`` saves the record only when its verification status changes).
  One query: two indexed subqueries per event table.
- list: the query string (filters, cursor, page size, format) and the data version
  (``registry/versioning.py``: the newest event of every event table, the key of the response cache too), so
  any change anywhere renews every list ETag, and deciding costs one query of index lookups, never a scan of
  the rows.
- Event ids, not times, go into ETags: an event's time is its transaction's start, shared by every write of
  that transaction.
  That is conservative (a few needless 200s), never stale.
- ``Last-Modified`` is the newest of those times. HTTP dates have one-second precision, so a change within
  the second after a response can be missed by ``If-Modified-Since``; ``If-None-Match`` takes precedence
  (RFC 9110) and has no such limit: clients should prefer it.
- Not covered: changes to rows that are not in ``conditional_related`` (e.g. a new law in force changes a
  partnership's applicable law, an accountability mechanism renamed); a transaction that commits after a
  later one has already been read (the newest time seen then stays the newest). Both are rare editorial
  events; the next write to the record renews its ETag.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.http import HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.request import Request
from rest_framework.response import Response

from registry.api.resources.history import m2m_event_model
from registry.response_cache import ResponseCache
from registry.versioning import DataVersion, data_version

CONDITIONAL_PARAMETERS = [
    OpenApiParameter(
        "If-None-Match",
        str,
        OpenApiParameter.HEADER,
        description="An ETag from an earlier response: 304 Not Modified, with no body, if the data is unchanged.",
    ),
    OpenApiParameter(
        "If-Modified-Since",
        str,
        OpenApiParameter.HEADER,
        description="An HTTP date (e.g. a Last-Modified value): 304 Not Modified if nothing changed since then.",
    ),
]

NOT_MODIFIED = OpenApiResponse(description="Not Modified: the ETag or date given still matches; no body.")

# Partnership responses show these related rows: event model -> lookup from the event to the partnership.
PARTNERSHIP_RELATED_EVENTS: dict[str, str] = {
    "partnerships.PartnershipEvent": "pgh_obj",  # changes saved without touching updated_at
    "provenance.ClaimEvent": "partnership",
    "partnerships.MechanismAssessmentEvent": "partnership",
    "partnerships.PartnershipNgosEvent": "partnership",
    "partnerships.PartnershipPoliceDepartmentsEvent": "partnership",
    "partnerships.PartnershipFocusAreasEvent": "partnership",
    "partnerships.PartnershipSurveillancePracticesEvent": "partnership",
    "partnerships.PartnershipSourcesEvent": "partnership",
    "partnerships.NGOEvent": "pgh_obj__partnerships",
    "partnerships.PoliceDepartmentEvent": "pgh_obj__partnerships",
    "partnerships.FocusAreaEvent": "pgh_obj__partnerships",
    "partnerships.SurveillancePracticeEvent": "pgh_obj__partnerships",
    "provenance.SourceEvent": "pgh_obj__partnerships_partnership_records",
    "geography.RegionEvent": "pgh_obj__partnerships",
    "geography.JurisdictionEvent": "pgh_obj__partnerships",
}


def record_events(model: type[models.Model]) -> dict[str, str]:
    """The event tables whose rows change what a record of ``model`` shows, for ``conditional_related``: its
    own row (saves that leave ``updated_at`` alone), its many-to-many links and its claims."""
    events: dict[str, str] = {}
    own = own_events_label(model)
    try:
        event_model(own)
    except LookupError:
        pass
    else:
        events[own] = "pgh_obj"
    for field in model._meta.many_to_many:
        links = m2m_event_model(field)
        if links is not None:
            events[links._meta.label] = field.m2m_field_name()
    target = getattr(model, "claim_target", "")
    if target:
        events["provenance.ClaimEvent"] = target
    return events


@dataclass(frozen=True)
class Validators:
    """What identifies one version of a response: a weak ETag and the time of its last change."""

    etag: str
    last_modified: datetime | None

    @classmethod
    def of(cls, parts: list[Any], last_modified: datetime | None) -> Validators:
        digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:32]
        return cls(etag=f'W/"{digest}"', last_modified=last_modified)

    def apply(self, response: HttpResponseBase) -> HttpResponseBase:
        response["ETag"] = self.etag
        if self.last_modified is not None:
            response["Last-Modified"] = http_date(self.last_modified.timestamp())
        return response

    def not_modified(self, request: Request) -> HttpResponseBase | None:
        """A 304 (with the validators) if the request's If-None-Match / If-Modified-Since match, else None."""
        timestamp = int(self.last_modified.timestamp()) if self.last_modified is not None else None
        response = get_conditional_response(request._request, etag=self.etag, last_modified=timestamp)
        return self.apply(response) if response is not None else None


def own_events_label(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model.__name__}Event"


def newest(*times: datetime | None) -> datetime | None:
    present = [time for time in times if time is not None]
    return max(present) if present else None


def event_model(label: str) -> type[models.Model]:
    app_label, model_name = label.split(".")
    return apps.get_model(app_label, model_name)


def paginated_list_response(view: Any, queryset: QuerySet[Any]) -> Response:
    """DRF's ListModelMixin.list, from an already filtered queryset."""
    page = view.paginate_queryset(queryset)
    if page is not None:
        serializer = view.get_serializer(page, many=True)
        return view.get_paginated_response(serializer.data)
    return Response(view.get_serializer(queryset, many=True).data)


class ConditionalMixin:
    """ETag / Last-Modified and 304 on ``list`` and ``retrieve`` of a read-only viewset whose model has
    ``updated_at``. ``conditional_related`` maps a history event model ("app.ModelEvent") to the lookup from
    that event to the record's pk (e.g. ``"provenance.ClaimEvent": "partnership"``); by default it is the
    record's own events, links and claims (``record_events``)."""

    conditional_related: Mapping[str, str] = {}

    def get_conditional_related(self) -> Mapping[str, str]:
        if self.conditional_related:
            return self.conditional_related
        view: Any = self
        return record_events(view.get_queryset().model)

    # --- Versions --------------------------------------------------------------------------------

    def list_validators(self, request: Request, version: DataVersion) -> Validators:
        """The query string and the data version (registry/versioning.py): every insert, update and delete of any
        public row writes a history event, so any change renews every list ETag, at the cost of one query of
        index lookups, never a scan of the rows."""
        query = sorted(request.query_params.lists())
        parts: list[Any] = [request.path, query, request.accepted_media_type, version.token]
        return Validators.of(parts, version.changed_at)

    def detail_validators(self, request: Request) -> Validators | None:
        """None when no published record has this slug (the normal 404 follows)."""
        view: Any = self
        lookup = view.lookup_url_kwarg or view.lookup_field
        queryset = view.get_queryset().prefetch_related(None).filter(**{view.lookup_field: view.kwargs[lookup]})
        annotations = {}
        for index, (label, path) in enumerate(self.get_conditional_related().items()):
            events = event_model(label)._default_manager.filter(**{path: OuterRef("pk")}).order_by().values(path)
            # The newest event's id changes with every write; its time (a transaction's start) dates it.
            annotations[f"id_{index}"] = Subquery(events.annotate(last=Max("pgh_id")).values("last")[:1])
            annotations[f"at_{index}"] = Subquery(events.annotate(last=Max("pgh_created_at")).values("last")[:1])
        row = queryset.annotate(**annotations).values("pk", "updated_at", *annotations).first()
        if row is None:
            return None
        ids = [row[name] for name in annotations if name.startswith("id_")]
        times = [row[name] for name in annotations if name.startswith("at_")]
        parts = [request.path, request.accepted_media_type, row["pk"], row["updated_at"], ids]
        return Validators.of(parts, newest(row["updated_at"], *times))

    # --- Actions ---------------------------------------------------------------------------------

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        responses = ResponseCache(request)
        cached = responses.lookup()
        if cached is not None:
            return cached
        view: Any = self
        queryset = view.filter_queryset(view.get_queryset())
        # The version the cache key was made of, when the cache is on: one version query per request.
        validators = self.list_validators(request, responses.version or data_version())
        not_modified = validators.not_modified(request)
        if not_modified is not None:
            return not_modified
        respond = getattr(super(), "list_filtered", None)
        response = respond(request, queryset) if respond else paginated_list_response(view, queryset)
        return responses.store(validators.apply(response))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        responses = ResponseCache(request)
        cached = responses.lookup()
        if cached is not None:
            return cached
        validators = self.detail_validators(request)
        if validators is not None:
            not_modified = validators.not_modified(request)
            if not_modified is not None:
                return not_modified
        response: HttpResponseBase = super().retrieve(request, *args, **kwargs)  # type: ignore[misc]
        return responses.store(validators.apply(response) if validators is not None else response)
