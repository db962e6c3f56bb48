"""What every read-only resource module shares: the provenance fields of a public record, the viewset base with
its history action, and the OpenAPI descriptions of list and detail."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from registry.api.conditional import CONDITIONAL_PARAMETERS, NOT_MODIFIED, ConditionalMixin
from registry.api.export import ExportMixin, export_schema, serializer_export_columns
from registry.api.resources.history import record_history
from registry.api.serializers import (
    ClaimSerializer,
    DisputeResolutionsField,
    HistoryEventSerializer,
    PublicModelSerializer,
    SourceBriefSerializer,
)
from registry.api.views import ERRORS, LIST_ERRORS, PublicReadOnlyViewSet

# The publication fields of every PublicRecord, after its own fields.
RECORD_FIELDS = [
    "verification_status",
    "editorial_note",
    "is_synthetic",
    "first_published_at",
    "created_at",
    "updated_at",
]
# ... and its provenance: the sources it rests on and, for records that carry claims, the claims per field.
SOURCED_FIELDS = ["sources"]
CLAIMED_FIELDS = ["disputed_fields", "dispute_resolutions", "sources", "claims"]


class SourcedRecordSerializer(PublicModelSerializer):
    """A record with the sources it rests on."""

    sources = SourceBriefSerializer(many=True, read_only=True)


class ClaimedRecordSerializer(SourcedRecordSerializer):
    """A record with its sources, its claims per field, and the fields on which the claims disagree."""

    claims = ClaimSerializer(many=True, read_only=True)
    disputed_fields = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Fields on which the claims of different sources disagree.",
    )
    dispute_resolutions = DisputeResolutionsField()


class HistoryMixin(viewsets.GenericViewSet):
    """Adds ``<slug>/history/`` to a viewset of public records (404 for an unpublished one)."""

    @extend_schema(
        summary="Change history of one record",
        description=(
            "What changed and when, newest first: the record's own fields (insert, update, delete), its links "
            "(add, remove), its claims (claim_add, claim_update, claim_remove, naming the field claimed) and the "
            "reviewers' resolutions of disputes (dispute_resolved, naming the field). "
            "No personal data: who made a change is not shown."
        ),
        responses={200: HistoryEventSerializer(many=True), **ERRORS},
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(HistoryEventSerializer(record_history(self.get_object()), many=True).data)


class PublicRecordViewSet(HistoryMixin, ConditionalMixin, ExportMixin, PublicReadOnlyViewSet):
    """A read-only resource of published records, addressed by slug, with ``<slug>/history/``, ETags and 304s,
    and its whole filtered list as CSV or JSON Lines."""


def documented(noun: str, plural: str, list_serializer: Any, detail_serializer: Any | None = None) -> Any:
    """The OpenAPI summaries, parameters and responses of a read-only resource's list and detail, with the
    exports and conditional requests when the viewset offers them."""

    def decorate(viewset: type) -> type:
        list_responses: dict[Any, Any] = {200: list_serializer, **LIST_ERRORS}
        list_parameters: list[Any] = []
        detail_responses: dict[Any, Any] = {200: detail_serializer or list_serializer, **ERRORS}
        detail_parameters: list[Any] = []
        summary = f"List {plural}"
        if issubclass(viewset, ExportMixin):
            columns = serializer_export_columns(list_serializer)
            export = export_schema(
                "Columns, in this order: " + ", ".join(columns) + ". A related record is its slug (a country its "
                "ISO 3166-1 alpha-2 code); permalink is the record's API address."
            )
            summary += ", or export them all as CSV or JSON Lines"
            list_parameters += export["parameters"]
            list_responses = {
                (200, "application/json"): list_serializer,
                **export["responses"],
                # Errors are JSON whatever the format asked for.
                **{(status, "application/json"): response for status, response in LIST_ERRORS.items()},
            }
        if issubclass(viewset, ConditionalMixin):
            list_parameters += CONDITIONAL_PARAMETERS
            detail_parameters += CONDITIONAL_PARAMETERS
            list_responses[304] = NOT_MODIFIED
            detail_responses[304] = NOT_MODIFIED
        return extend_schema_view(
            list=extend_schema(summary=summary, parameters=list_parameters, responses=list_responses),
            retrieve=extend_schema(
                summary=f"Read one {noun}", parameters=detail_parameters, responses=detail_responses
            ),
        )(viewset)

    return decorate
