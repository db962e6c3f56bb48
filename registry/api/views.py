"""Viewsets of the public API. Thin: a public queryset with its joins, a serializer, a FilterSet.

Every queryset starts from ``.public()``: an unpublished record is absent from lists and answers 404."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import Resolver404, resolve
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geography.models import Country, Region
from partnerships.filters import PartnershipFilter
from partnerships.models import (
    NGO,
    AccountabilityMechanism,
    FocusArea,
    Partnership,
    PoliceDepartment,
    SurveillancePractice,
)
from provenance.models import Claim, resolutions_prefetch
from registry.api import serializers
from registry.api.conditional import (
    CONDITIONAL_PARAMETERS,
    NOT_MODIFIED,
    PARTNERSHIP_RELATED_EVENTS,
    ConditionalMixin,
)
from registry.api.errors import ErrorResponseSerializer
from registry.api.examples import PARTNERSHIP_DETAIL_EXAMPLES, PARTNERSHIP_LIST_EXAMPLES
from registry.api.export import (
    PARTNERSHIP_EXPORT_COLUMNS,
    PARTNERSHIP_EXPORT_SCHEMA,
    ExportMixin,
    list_url,
    partnership_export_rows,
)
from registry.api.keyset import KeysetCursorPagination
from registry.api.resources.history import record_history
from registry.api.writes import PartnershipWriteMixin

ERRORS = {
    400: OpenApiResponse(ErrorResponseSerializer, description="A query parameter is unknown, empty or invalid."),
    404: OpenApiResponse(ErrorResponseSerializer, description="No published record has this slug."),
    406: OpenApiResponse(ErrorResponseSerializer, description="The Accept header asks for a format not offered."),
    429: OpenApiResponse(ErrorResponseSerializer, description="Too many requests; retry after Retry-After seconds."),
}
LIST_ERRORS = {status: ERRORS[status] for status in (400, 406, 429)}


class PublicReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_field = "slug"
    lookup_value_regex = "[-a-zA-Z0-9_]+"


@extend_schema_view(
    list=extend_schema(
        summary="List partnerships, or export them all as CSV or JSON Lines",
        parameters=[*PARTNERSHIP_EXPORT_SCHEMA["parameters"], *CONDITIONAL_PARAMETERS],
        examples=PARTNERSHIP_LIST_EXAMPLES,
        responses={
            (200, "application/json"): serializers.PartnershipSerializer,
            **PARTNERSHIP_EXPORT_SCHEMA["responses"],
            304: NOT_MODIFIED,
            # Errors are JSON whatever the format asked for.
            **{(status, "application/json"): response for status, response in LIST_ERRORS.items()},
        },
    ),
    retrieve=extend_schema(
        summary="Read one partnership, with its accountability checklist and applicable law",
        parameters=CONDITIONAL_PARAMETERS,
        examples=PARTNERSHIP_DETAIL_EXAMPLES,
        responses={200: serializers.PartnershipDetailSerializer, 304: NOT_MODIFIED, **ERRORS},
    ),
)
class PartnershipViewSet(PartnershipWriteMixin, ConditionalMixin, ExportMixin, PublicReadOnlyViewSet):
    """Partnerships between NGOs and police departments, with their sources and claims. Editors with a token
    write through PartnershipWriteMixin (registry/api/writes.py)."""

    filterset_class = PartnershipFilter
    pagination_class = KeysetCursorPagination  # ?ordering= and ?q= (best match first) with exact cursors
    export_columns = PARTNERSHIP_EXPORT_COLUMNS
    conditional_related = PARTNERSHIP_RELATED_EVENTS

    def export_rows(self, queryset: QuerySet[Any]) -> Iterator[tuple[Any, ...]]:
        return partnership_export_rows(queryset, permalink_base=list_url(self.request, "partnership"))

    def get_queryset(self) -> QuerySet[Partnership]:
        queryset = (
            Partnership.objects.public()
            .defer("search_vector")  # derived, only ever used inside SQL
            .select_related("region", "jurisdiction", "jurisdiction__country")
            .prefetch_related(
                Prefetch("ngos", queryset=NGO.objects.public().order_by("name", "id")),
                Prefetch("police_departments", queryset=PoliceDepartment.objects.public().order_by("name", "id")),
                Prefetch("focus_areas", queryset=FocusArea.objects.order_by("name", "id")),
                Prefetch(
                    "surveillance_practices", queryset=SurveillancePractice.objects.public().order_by("name", "id")
                ),
                "sources",
                Prefetch("claims", queryset=Claim.objects.select_related("source")),
                resolutions_prefetch(),
            )
        )
        if self.action == "retrieve":
            queryset = queryset.with_checklist()
        return queryset

    def get_serializer_class(self) -> Any:
        if self.action == "retrieve":
            return serializers.PartnershipDetailSerializer
        return serializers.PartnershipSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        context: dict[str, Any] = super().get_serializer_context()
        if self.action == "retrieve":
            context["mechanisms"] = list(AccountabilityMechanism.objects.public().order_by("position", "name"))
        return context

    @extend_schema(
        summary="Change history of one partnership",
        description=(
            "What changed and when, newest first: its own fields (insert, update, delete), its links (add, remove), "
            "its claims (claim_add, claim_update, claim_remove) and the reviewers' resolutions of disputes "
            "(dispute_resolved). No personal data: who made a change is not shown."
        ),
        responses={200: serializers.HistoryEventSerializer(many=True), **ERRORS},
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(serializers.HistoryEventSerializer(record_history(self.get_object()), many=True).data)


@extend_schema_view(
    list=extend_schema(summary="List regions", responses={200: serializers.RegionSerializer, **LIST_ERRORS}),
    retrieve=extend_schema(summary="Read one region", responses={200: serializers.RegionSerializer, **ERRORS}),
)
class RegionViewSet(PublicReadOnlyViewSet):
    """Continent-level regions."""

    queryset = Region.objects.all()
    serializer_class = serializers.RegionSerializer


@extend_schema_view(
    list=extend_schema(summary="List countries", responses={200: serializers.CountrySerializer, **LIST_ERRORS}),
    retrieve=extend_schema(summary="Read one country", responses={200: serializers.CountrySerializer, **ERRORS}),
)
class CountryViewSet(PublicReadOnlyViewSet):
    """Countries by ISO 3166-1 alpha-2 code."""

    queryset = Country.objects.select_related("region")
    serializer_class = serializers.CountrySerializer


@extend_schema_view(
    list=extend_schema(summary="List focus areas", responses={200: serializers.FocusAreaSerializer, **LIST_ERRORS}),
    retrieve=extend_schema(summary="Read one focus area", responses={200: serializers.FocusAreaSerializer, **ERRORS}),
)
class FocusAreaViewSet(PublicReadOnlyViewSet):
    """What partnerships work on."""

    queryset = FocusArea.objects.all()
    serializer_class = serializers.FocusAreaSerializer


class ApiNotFoundView(APIView):
    """Any other path under /api/: a 404 in the API's error shape, whatever the method."""

    schema = None
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        path = request.path
        if not path.endswith("/"):
            try:
                match = resolve(f"{path}/")
            except Resolver404:
                match = None
            if match is not None and match.url_name != "api-not-found":
                raise NotFound(f"No API endpoint at this address. Did you mean {path}/ (with a trailing slash)?")
        raise NotFound("No API endpoint at this address. The API lives under /api/v1/; see /api/v1/docs/.")
