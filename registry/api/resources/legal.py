"""Legal instruments and oversight bodies in the API."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from legal.filters import LegalInstrumentFilter, OversightBodyFilter
from legal.models import LegalInstrument, LegalTopic, OversightBody
from provenance.models import claims_prefetch, resolutions_prefetch, sources_prefetch
from registry.api.resources.common import (
    CLAIMED_FIELDS,
    RECORD_FIELDS,
    ClaimedRecordSerializer,
    PublicRecordViewSet,
    documented,
)
from registry.api.serializers import InstrumentBriefSerializer, JurisdictionBriefSerializer, NamedBriefSerializer


class LegalTopicBriefSerializer(NamedBriefSerializer):
    class Meta(NamedBriefSerializer.Meta):
        model = LegalTopic


class OversightBodyBriefSerializer(NamedBriefSerializer):
    class Meta(NamedBriefSerializer.Meta):
        model = OversightBody


class LegalInstrumentSerializer(ClaimedRecordSerializer):
    jurisdiction = JurisdictionBriefSerializer(read_only=True)
    topics = LegalTopicBriefSerializer(many=True, read_only=True)
    oversight_bodies = OversightBodyBriefSerializer(
        many=True, read_only=True, help_text="Published oversight bodies that oversee the instrument."
    )

    class Meta:
        model = LegalInstrument
        fields = [
            "slug",
            "short_name",
            "title",
            "jurisdiction",
            "kind",
            "year",
            "in_force_from",
            "in_force_to",
            "topics",
            "summary",
            "official_url",
            "oversight_bodies",
            *CLAIMED_FIELDS,
            *RECORD_FIELDS,
        ]
        read_only_fields = fields


class OversightBodySerializer(ClaimedRecordSerializer):
    jurisdiction = JurisdictionBriefSerializer(read_only=True)
    instruments = InstrumentBriefSerializer(
        many=True, read_only=True, help_text="Published instruments the body oversees."
    )

    class Meta:
        model = OversightBody
        fields = [
            "slug",
            "name",
            "kind",
            "jurisdiction",
            "powers",
            "instruments",
            "website",
            *CLAIMED_FIELDS,
            *RECORD_FIELDS,
        ]
        read_only_fields = fields


@documented("legal instrument", "legal instruments", LegalInstrumentSerializer)
class LegalInstrumentViewSet(PublicRecordViewSet):
    """Laws, regulations, reports and guidance that govern partnerships, by jurisdiction."""

    serializer_class = LegalInstrumentSerializer
    filterset_class = LegalInstrumentFilter

    def get_queryset(self) -> QuerySet[LegalInstrument]:
        return (
            LegalInstrument.objects.public()
            .select_related("jurisdiction", "jurisdiction__country")
            .prefetch_related(
                Prefetch("topics", queryset=LegalTopic.objects.order_by("name", "id")),
                Prefetch("oversight_bodies", queryset=OversightBody.objects.public().order_by("name", "id")),
                sources_prefetch(),
                claims_prefetch(),
                resolutions_prefetch(),
            )
        )


@documented("oversight body", "oversight bodies", OversightBodySerializer)
class OversightBodyViewSet(PublicRecordViewSet):
    """Bodies that oversee surveillance or data use: commissioners, UN mandates, courts, councils."""

    serializer_class = OversightBodySerializer
    filterset_class = OversightBodyFilter

    def get_queryset(self) -> QuerySet[OversightBody]:
        return (
            OversightBody.objects.public()
            .select_related("jurisdiction", "jurisdiction__country")
            .prefetch_related(
                Prefetch(
                    "instruments",
                    queryset=LegalInstrument.objects.public()
                    .select_related("jurisdiction")
                    .order_by("short_name", "id"),
                ),
                sources_prefetch(),
                claims_prefetch(),
                resolutions_prefetch(),
            )
        )
