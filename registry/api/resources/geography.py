"""Jurisdictions in the API: the tree law is derived from, with each one's ancestors and the law in force."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from geography.filters import JurisdictionFilter
from geography.models import Jurisdiction, jurisdiction_ancestor_ids
from legal.models import LegalInstrument
from registry.api.resources.common import documented
from registry.api.serializers import InstrumentBriefSerializer, JurisdictionBriefSerializer, PublicModelSerializer
from registry.api.views import PublicReadOnlyViewSet


class JurisdictionSerializer(PublicModelSerializer):
    parent = serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text="Slug of the jurisdiction directly above; null for the root.",
    )
    country = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="ISO 3166-1 alpha-2 code of the country; null above national level.",
    )

    class Meta:
        model = Jurisdiction
        fields = ["slug", "name", "level", "parent", "country", "subdivision_code"]
        read_only_fields = fields


class JurisdictionDetailSerializer(JurisdictionSerializer):
    ancestors = serializers.SerializerMethodField(help_text="Every jurisdiction above this one, nearest first.")
    applicable_instruments = serializers.SerializerMethodField(
        help_text="Published instruments in force today here or in any jurisdiction above."
    )

    class Meta(JurisdictionSerializer.Meta):
        fields = [*JurisdictionSerializer.Meta.fields, "ancestors", "applicable_instruments"]
        read_only_fields = fields

    @extend_schema_field(JurisdictionBriefSerializer(many=True))
    def get_ancestors(self, obj: Jurisdiction) -> Any:
        ids = jurisdiction_ancestor_ids(obj.pk)[1:]
        by_id = Jurisdiction.objects.select_related("country").in_bulk(ids)
        return JurisdictionBriefSerializer([by_id[i] for i in ids if i in by_id], many=True).data

    @extend_schema_field(InstrumentBriefSerializer(many=True))
    def get_applicable_instruments(self, obj: Jurisdiction) -> Any:
        instruments = LegalInstrument.objects.public().applicable_to(obj).order_by("short_name", "id")
        return InstrumentBriefSerializer(instruments, many=True).data


@documented("jurisdiction", "jurisdictions", JurisdictionSerializer, JurisdictionDetailSerializer)
class JurisdictionViewSet(PublicReadOnlyViewSet):
    """The jurisdiction tree: international > supranational > national > subnational > city."""

    filterset_class = JurisdictionFilter

    def get_queryset(self) -> QuerySet[Jurisdiction]:
        return Jurisdiction.objects.select_related("parent", "country")

    def get_serializer_class(self) -> Any:
        return JurisdictionDetailSerializer if self.action == "retrieve" else JurisdictionSerializer
