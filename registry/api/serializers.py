"""Serializers of the public API. Fields are always listed explicitly (never ``__all__``), so a new model field
is exposed only by a deliberate change here; nested records use a brief form (slug and name)."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from geography.models import Country, Jurisdiction, Region
from legal.models import LegalInstrument
from partnerships.models import (
    NGO,
    AssessmentStatus,
    FocusArea,
    Partnership,
    PoliceDepartment,
    SurveillancePractice,
)
from provenance.models import Claim, DisputeResolution, Source, latest_resolutions


@extend_schema_field({"type": "string", "format": "uri", "nullable": True})
class OptionalURLField(serializers.URLField):
    """A URL the record may not have: null when absent, never an empty string (which is not a URI)."""

    def to_representation(self, value: str) -> str | None:
        return value or None


class PublicModelSerializer(serializers.ModelSerializer):
    """The base of every model serializer of the API: model URL fields that may be blank are served as null."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.URLField: OptionalURLField,
    }


# --- Brief forms (nested) --------------------------------------------------------------------------


class RegionBriefSerializer(PublicModelSerializer):
    class Meta:
        model = Region
        fields = ["slug", "name"]


class JurisdictionBriefSerializer(PublicModelSerializer):
    country = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="ISO 3166-1 alpha-2 code of the country; null above national level.",
    )

    class Meta:
        model = Jurisdiction
        fields = ["slug", "name", "level", "country"]


class NamedBriefSerializer(PublicModelSerializer):
    """Slug and name of a related record."""

    class Meta:
        fields = ["slug", "name"]


class NGOBriefSerializer(NamedBriefSerializer):
    class Meta(NamedBriefSerializer.Meta):
        model = NGO


class PoliceDepartmentBriefSerializer(NamedBriefSerializer):
    class Meta(NamedBriefSerializer.Meta):
        model = PoliceDepartment


class FocusAreaBriefSerializer(NamedBriefSerializer):
    class Meta(NamedBriefSerializer.Meta):
        model = FocusArea


class SurveillancePracticeBriefSerializer(NamedBriefSerializer):
    class Meta(NamedBriefSerializer.Meta):
        model = SurveillancePractice


class SourceBriefSerializer(PublicModelSerializer):
    class Meta:
        model = Source
        fields = ["slug", "title", "publisher", "url", "kind", "tier"]


class ClaimSerializer(PublicModelSerializer):
    source = serializers.SlugRelatedField(slug_field="slug", read_only=True, help_text="Slug of the source.")

    class Meta:
        model = Claim
        fields = ["field", "value", "source", "locator", "quote"]


class DisputeResolutionSerializer(PublicModelSerializer):
    """The reviewers' decision on a disputed field. Who made it is never shown: it is "the reviewers"."""

    class Meta:
        model = DisputeResolution
        fields = ["field", "chosen_value", "reason", "resolved_at"]


@extend_schema_field(DisputeResolutionSerializer(many=True))
class DisputeResolutionsField(serializers.Field):
    """The current resolution of each resolved field of a record (the latest one: a later resolution of the same
    field supersedes an earlier). Reads prefetched ``dispute_resolutions`` (provenance.models.resolutions_prefetch)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text",
            "The reviewers' resolution of each disputed field they resolved: the value chosen and why. The "
            "conflicting claims stay listed in claims.",
        )
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value: Any) -> Any:
        current = sorted(latest_resolutions(value).values(), key=lambda resolution: resolution.field)
        return DisputeResolutionSerializer(current, many=True).data


class ChecklistItemSerializer(serializers.Serializer):
    """One accountability mechanism as assessed for a partnership."""

    mechanism = serializers.CharField(help_text="Slug of the accountability mechanism.")
    name = serializers.CharField(help_text="Name of the mechanism.")
    status = serializers.ChoiceField(
        choices=AssessmentStatus.choices, help_text="present, absent, or unknown (also when never assessed)."
    )
    evidence = serializers.CharField(allow_null=True, help_text="Slug of the source showing it present or absent.")
    note = serializers.CharField(help_text="What the evidence says, briefly.")


class InstrumentBriefSerializer(PublicModelSerializer):
    jurisdiction = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="Slug of the jurisdiction it applies in."
    )

    class Meta:
        model = LegalInstrument
        fields = ["slug", "short_name", "title", "kind", "jurisdiction", "official_url"]


# --- Partnerships ----------------------------------------------------------------------------------


class PartnershipSerializer(PublicModelSerializer):
    """A partnership with its parties, where it operates, and its provenance."""

    region = RegionBriefSerializer(read_only=True)
    jurisdiction = JurisdictionBriefSerializer(read_only=True)
    ngos = NGOBriefSerializer(many=True, read_only=True)
    police_departments = PoliceDepartmentBriefSerializer(many=True, read_only=True)
    focus_areas = FocusAreaBriefSerializer(many=True, read_only=True)
    surveillance_practices = SurveillancePracticeBriefSerializer(many=True, read_only=True)
    sources = SourceBriefSerializer(many=True, read_only=True)
    claims = ClaimSerializer(many=True, read_only=True)
    disputed_fields = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Fields on which the claims of different sources disagree.",
    )
    dispute_resolutions = DisputeResolutionsField()

    class Meta:
        model = Partnership
        fields = [
            "slug",
            "name",
            "region",
            "jurisdiction",
            "ngos",
            "police_departments",
            "focus_areas",
            "focus_summary",
            "primary_objective",
            "description",
            "year_established",
            "year_ended",
            "status",
            "formalisation",
            "data_sharing",
            "surveillance_practices",
            "verification_status",
            "disputed_fields",
            "dispute_resolutions",
            "sources",
            "claims",
            "editorial_note",
            "is_synthetic",
            "first_published_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PartnershipDetailSerializer(PartnershipSerializer):
    """A partnership, plus its accountability checklist and the law that applies to it."""

    accountability_checklist = serializers.SerializerMethodField(
        help_text="Every accountability mechanism: present, absent or unknown, with the evidence."
    )
    applicable_law = InstrumentBriefSerializer(
        many=True,
        read_only=True,
        help_text="Instruments in force today in the partnership's jurisdiction or any jurisdiction above it.",
    )

    class Meta(PartnershipSerializer.Meta):
        fields = [*PartnershipSerializer.Meta.fields, "accountability_checklist", "applicable_law"]
        read_only_fields = fields

    @extend_schema_field(ChecklistItemSerializer(many=True))
    def get_accountability_checklist(self, obj: Partnership) -> list[dict[str, Any]]:
        items = [
            {
                "mechanism": item.mechanism.slug,
                "name": item.mechanism.name,
                "status": item.status,
                "evidence": item.evidence.slug if item.evidence else None,
                "note": item.note,
            }
            for item in obj.checklist(self.context["mechanisms"])
        ]
        return ChecklistItemSerializer(items, many=True).data


class HistoryEventSerializer(serializers.Serializer):
    """One change to a record. Who made it is never shown: no user, no address, no request."""

    event = serializers.CharField(help_text="insert (created), update, or delete.")
    at = serializers.DateTimeField(help_text="When the change was made.")
    changed_fields = serializers.ListField(
        child=serializers.CharField(), help_text="Fields whose value changed (empty when created or deleted)."
    )


# --- Geography -------------------------------------------------------------------------------------


class RegionSerializer(PublicModelSerializer):
    class Meta:
        model = Region
        fields = ["slug", "name", "description"]


class CountrySerializer(PublicModelSerializer):
    region = serializers.SlugRelatedField(slug_field="slug", read_only=True, help_text="Slug of the region.")

    class Meta:
        model = Country
        fields = ["slug", "code", "name", "region"]


class FocusAreaSerializer(PublicModelSerializer):
    class Meta:
        model = FocusArea
        fields = ["slug", "name", "description"]
