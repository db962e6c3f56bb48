"""The seed's reference tables in the API (objectives, challenges, stakeholder groups), in table order."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from partnerships.filters import ChallengeFilter, ObjectiveFilter, StakeholderGroupFilter
from partnerships.models import Challenge, Objective, StakeholderGroup
from provenance.models import sources_prefetch
from registry.api.resources.common import (
    RECORD_FIELDS,
    SOURCED_FIELDS,
    PublicRecordViewSet,
    SourcedRecordSerializer,
    documented,
)


class ObjectiveSerializer(SourcedRecordSerializer):
    class Meta:
        model = Objective
        fields = ["slug", "name", "intended_benefit", "position", *SOURCED_FIELDS, *RECORD_FIELDS]
        read_only_fields = fields


class ChallengeSerializer(SourcedRecordSerializer):
    class Meta:
        model = Challenge
        fields = ["slug", "name", "potential_solutions", "position", *SOURCED_FIELDS, *RECORD_FIELDS]
        read_only_fields = fields


class StakeholderGroupSerializer(SourcedRecordSerializer):
    class Meta:
        model = StakeholderGroup
        fields = ["slug", "name", "key_concerns", "suggested_actions", "position", *SOURCED_FIELDS, *RECORD_FIELDS]
        read_only_fields = fields


class ReferenceTableViewSet(PublicRecordViewSet):
    """A reference table: published rows in the table's order."""

    cursor_ordering = ("position", "slug")
    model: Any = None

    def get_queryset(self) -> QuerySet[Any]:
        return self.model.objects.public().prefetch_related(sources_prefetch())


@documented("objective", "objectives of partnerships", ObjectiveSerializer)
class ObjectiveViewSet(ReferenceTableViewSet):
    """Objectives of NGO-police partnerships and their intended benefits."""

    model = Objective
    serializer_class = ObjectiveSerializer
    filterset_class = ObjectiveFilter


@documented("challenge", "challenges to accountability", ChallengeSerializer)
class ChallengeViewSet(ReferenceTableViewSet):
    """Challenges to accountability and their potential solutions."""

    model = Challenge
    serializer_class = ChallengeSerializer
    filterset_class = ChallengeFilter


@documented("stakeholder group", "stakeholder groups", StakeholderGroupSerializer)
class StakeholderGroupViewSet(ReferenceTableViewSet):
    """Stakeholder groups, their key concerns and the actions they suggest."""

    model = StakeholderGroup
    serializer_class = StakeholderGroupSerializer
    filterset_class = StakeholderGroupFilter
