"""What every read-only resource module shares: the provenance fields of a public record, the viewset base with
its history action, and the OpenAPI descriptions of list and detail."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from provenance.models import Claim, Source
from registry.api.resources.history import record_history
from registry.api.serializers import ClaimSerializer, HistoryEventSerializer, SourceBriefSerializer
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
CLAIMED_FIELDS = ["disputed_fields", "sources", "claims"]


def sources_prefetch(path: str = "sources") -> Prefetch:
    return Prefetch(path, queryset=Source.objects.order_by("title", "id"))


def claims_prefetch(path: str = "claims") -> Prefetch:
    return Prefetch(path, queryset=Claim.objects.select_related("source"))


class SourcedRecordSerializer(serializers.ModelSerializer):
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


class HistoryMixin(viewsets.GenericViewSet):
    """Adds ``<slug>/history/`` to a viewset of public records (404 for an unpublished one)."""

    @extend_schema(
        summary="Change history of one record",
        description=(
            "What changed and when, newest first: the record's own fields (insert, update, delete), its links "
            "(add, remove) and its claims (claim_add, claim_update, claim_remove, naming the field claimed). "
            "No personal data: who made a change is not shown."
        ),
        responses={200: HistoryEventSerializer(many=True), **ERRORS},
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(HistoryEventSerializer(record_history(self.get_object()), many=True).data)


class PublicRecordViewSet(HistoryMixin, PublicReadOnlyViewSet):
    """A read-only resource of published records, addressed by slug, with ``<slug>/history/``."""


def documented(noun: str, plural: str, list_serializer: Any, detail_serializer: Any | None = None) -> Any:
    """The OpenAPI summaries and responses of a read-only resource's list and detail."""
    return extend_schema_view(
        list=extend_schema(summary=f"List {plural}", responses={200: list_serializer, **LIST_ERRORS}),
        retrieve=extend_schema(
            summary=f"Read one {noun}", responses={200: detail_serializer or list_serializer, **ERRORS}
        ),
    )
