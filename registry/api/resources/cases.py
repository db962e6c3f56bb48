"""Overreach cases in the API: where a partnership turned into surveillance, with quotes and their sources."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from cases.filters import OverreachCaseFilter
from cases.models import CaseQuote, IssueType, OverreachCase
from partnerships.models import Partnership, SurveillancePractice
from provenance.models import claims_prefetch, resolutions_prefetch, sources_prefetch
from registry.api.resources.common import (
    CLAIMED_FIELDS,
    RECORD_FIELDS,
    ClaimedRecordSerializer,
    PublicRecordViewSet,
    documented,
)
from registry.api.resources.organisations import PartnershipBriefSerializer
from registry.api.serializers import (
    JurisdictionBriefSerializer,
    NamedBriefSerializer,
    PublicModelSerializer,
    SourceBriefSerializer,
    SurveillancePracticeBriefSerializer,
)


class IssueTypeBriefSerializer(NamedBriefSerializer):
    class Meta(NamedBriefSerializer.Meta):
        model = IssueType


class CaseQuoteSerializer(PublicModelSerializer):
    source = SourceBriefSerializer(read_only=True, help_text="Where the quote was published.")

    class Meta:
        model = CaseQuote
        fields = ["text", "speaker", "source"]
        read_only_fields = fields


class OverreachCaseSerializer(ClaimedRecordSerializer):
    jurisdiction = JurisdictionBriefSerializer(read_only=True)
    partnerships = PartnershipBriefSerializer(
        many=True, read_only=True, help_text="Published registry partnerships involved."
    )
    surveillance_methods = SurveillancePracticeBriefSerializer(many=True, read_only=True)
    issues = IssueTypeBriefSerializer(many=True, read_only=True)
    quotes = CaseQuoteSerializer(many=True, read_only=True)

    class Meta:
        model = OverreachCase
        fields = [
            "slug",
            "title",
            "location",
            "jurisdiction",
            "year",
            "partnerships",
            "partnership_type",
            "surveillance_methods",
            "issues",
            "found_by",
            "found_by_kind",
            "summary",
            "outcome",
            "quotes",
            *CLAIMED_FIELDS,
            *RECORD_FIELDS,
        ]
        read_only_fields = fields


@documented("overreach case", "overreach cases", OverreachCaseSerializer)
class OverreachCaseViewSet(PublicRecordViewSet):
    """Documented cases where a partnership turned into surveillance."""

    serializer_class = OverreachCaseSerializer
    filterset_class = OverreachCaseFilter

    def get_queryset(self) -> QuerySet[OverreachCase]:
        return (
            OverreachCase.objects.public()
            .select_related("jurisdiction", "jurisdiction__country")
            .prefetch_related(
                Prefetch("partnerships", queryset=Partnership.objects.public().order_by("name", "id")),
                Prefetch("surveillance_methods", queryset=SurveillancePractice.objects.public().order_by("name", "id")),
                Prefetch("issues", queryset=IssueType.objects.order_by("name", "id")),
                Prefetch("quotes", queryset=CaseQuote.objects.select_related("source").order_by("position", "id")),
                sources_prefetch(),
                claims_prefetch(),
                resolutions_prefetch(),
            )
        )
