"""Sources in the API: the documents the registry cites, with their own public fields only (no editorial note,
and nothing about the records that cite them, which may be unpublished)."""

from __future__ import annotations

from provenance.filters import SourceFilter
from provenance.models import Source
from registry.api.conditional import ConditionalMixin
from registry.api.export import ExportMixin
from registry.api.resources.common import documented
from registry.api.serializers import PublicModelSerializer
from registry.api.views import PublicReadOnlyViewSet


class SourceSerializer(PublicModelSerializer):
    class Meta:
        model = Source
        fields = [
            "slug",
            "title",
            "publisher",
            "author",
            "url",
            "archived_url",
            "published_on",
            "accessed_on",
            "kind",
            "tier",
            "is_synthetic",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


@documented("source", "sources", SourceSerializer)
class SourceViewSet(ConditionalMixin, ExportMixin, PublicReadOnlyViewSet):
    """Documents the registry cites: statutes, MOUs, reports, news articles."""

    queryset = Source.objects.all()
    serializer_class = SourceSerializer
    filterset_class = SourceFilter
