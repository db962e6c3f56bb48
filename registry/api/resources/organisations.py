"""NGOs, police departments, surveillance practices and accountability mechanisms in the API."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from partnerships.filters import (
    AccountabilityMechanismFilter,
    NGOFilter,
    PoliceDepartmentFilter,
    SurveillancePracticeFilter,
)
from partnerships.models import NGO, AccountabilityMechanism, Partnership, PoliceDepartment, SurveillancePractice
from provenance.models import claims_prefetch, resolutions_prefetch, sources_prefetch
from registry.api.resources.common import (
    CLAIMED_FIELDS,
    RECORD_FIELDS,
    SOURCED_FIELDS,
    ClaimedRecordSerializer,
    PublicRecordViewSet,
    SourcedRecordSerializer,
    documented,
)
from registry.api.serializers import JurisdictionBriefSerializer, NamedBriefSerializer

ORGANISATION_FIELDS = ["slug", "name", "aliases", "jurisdiction", "website", "description"]


class PartnershipBriefSerializer(NamedBriefSerializer):
    class Meta(NamedBriefSerializer.Meta):
        model = Partnership


class NGOSerializer(ClaimedRecordSerializer):
    jurisdiction = JurisdictionBriefSerializer(read_only=True)

    class Meta:
        model = NGO
        fields = [*ORGANISATION_FIELDS, *CLAIMED_FIELDS, *RECORD_FIELDS]
        read_only_fields = fields


class NGODetailSerializer(NGOSerializer):
    partnerships = PartnershipBriefSerializer(many=True, read_only=True, help_text="Published partnerships it is in.")

    class Meta(NGOSerializer.Meta):
        fields = [*NGOSerializer.Meta.fields, "partnerships"]
        read_only_fields = fields


class PoliceDepartmentSerializer(NGOSerializer):
    class Meta(NGOSerializer.Meta):
        model = PoliceDepartment  # type: ignore[assignment]


class PoliceDepartmentDetailSerializer(NGODetailSerializer):
    class Meta(NGODetailSerializer.Meta):
        model = PoliceDepartment  # type: ignore[assignment]


class SurveillancePracticeSerializer(ClaimedRecordSerializer):
    class Meta:
        model = SurveillancePractice
        fields = ["slug", "name", "implementation", "concerns", "description", *CLAIMED_FIELDS, *RECORD_FIELDS]
        read_only_fields = fields


class AccountabilityMechanismSerializer(SourcedRecordSerializer):
    class Meta:
        model = AccountabilityMechanism
        fields = [
            "slug",
            "name",
            "recommendation",
            "description",
            "expected_outcome",
            "position",
            *SOURCED_FIELDS,
            *RECORD_FIELDS,
        ]
        read_only_fields = fields


class OrganisationViewSet(PublicRecordViewSet):
    model: Any = None
    detail_serializer_class: Any = None

    def get_queryset(self) -> QuerySet[Any]:
        queryset = (
            self.model.objects.public()
            .select_related("jurisdiction", "jurisdiction__country")
            .prefetch_related(sources_prefetch(), claims_prefetch(), resolutions_prefetch())
        )
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("partnerships", queryset=Partnership.objects.public().order_by("name", "id"))
            )
        return queryset

    def get_serializer_class(self) -> Any:
        return self.detail_serializer_class if self.action == "retrieve" else self.serializer_class


@documented("NGO", "NGOs", NGOSerializer, NGODetailSerializer)
class NGOViewSet(OrganisationViewSet):
    """Non-governmental organisations that partner with police."""

    model = NGO
    serializer_class = NGOSerializer
    detail_serializer_class = NGODetailSerializer
    filterset_class = NGOFilter


@documented("police department", "police departments", PoliceDepartmentSerializer, PoliceDepartmentDetailSerializer)
class PoliceDepartmentViewSet(OrganisationViewSet):
    """Police forces and law-enforcement agencies."""

    model = PoliceDepartment
    serializer_class = PoliceDepartmentSerializer
    detail_serializer_class = PoliceDepartmentDetailSerializer
    filterset_class = PoliceDepartmentFilter


@documented("surveillance practice", "surveillance practices", SurveillancePracticeSerializer)
class SurveillancePracticeViewSet(PublicRecordViewSet):
    """Surveillance practices partnerships use, how they are implemented and what they risk."""

    serializer_class = SurveillancePracticeSerializer
    filterset_class = SurveillancePracticeFilter

    def get_queryset(self) -> QuerySet[SurveillancePractice]:
        return SurveillancePractice.objects.public().prefetch_related(
            sources_prefetch(), claims_prefetch(), resolutions_prefetch()
        )


@documented(
    "accountability mechanism", "accountability mechanisms (the checklist, in order)", AccountabilityMechanismSerializer
)
class AccountabilityMechanismViewSet(PublicRecordViewSet):
    """The accountability checklist: the seed's recommendations, in order."""

    serializer_class = AccountabilityMechanismSerializer
    filterset_class = AccountabilityMechanismFilter
    cursor_ordering = ("position", "slug")

    def get_queryset(self) -> QuerySet[AccountabilityMechanism]:
        return AccountabilityMechanism.objects.public().prefetch_related(sources_prefetch())
