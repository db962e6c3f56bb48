"""The kinds of public record a request can be about, how to find a published one by slug, and its page.

A request names its record by kind and id (``InformationRequest.record_kind``/``record_id``); the form and the
links from record pages name it as ``<kind>:<slug>`` (``?record=partnership:safe-horizon-nypd``), since slugs are
the stable public identifiers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.urls import reverse


class RecordKind(models.TextChoices):
    PARTNERSHIP = "partnership", "Partnership"
    NGO = "ngo", "NGO"
    POLICE_DEPARTMENT = "police_department", "Police department"
    FOCUS_AREA = "focus_area", "Focus area"
    SURVEILLANCE_PRACTICE = "surveillance_practice", "Surveillance practice"
    SOURCE = "source", "Source"
    LEGAL_INSTRUMENT = "legal_instrument", "Legal instrument"
    OVERSIGHT_BODY = "oversight_body", "Oversight body"
    JURISDICTION = "jurisdiction", "Jurisdiction"
    CASE = "case", "Overreach case"


@dataclass(frozen=True)
class KindInfo:
    model: str  # "app_label.Model"
    url_name: str  # the record page
    label_field: str  # what names the record on a page
    public_only: bool  # False: every row has a public page (no is_published flag)

    def model_class(self) -> type[models.Model]:
        from django.apps import apps

        return apps.get_model(self.model)

    def queryset(self) -> models.QuerySet[Any]:
        manager = self.model_class()._default_manager
        return manager.public() if self.public_only else manager.all()  # type: ignore[attr-defined]


KINDS: dict[str, KindInfo] = {
    RecordKind.PARTNERSHIP: KindInfo("partnerships.Partnership", "partnerships:detail", "name", True),
    RecordKind.NGO: KindInfo("partnerships.NGO", "ngos:detail", "name", True),
    RecordKind.POLICE_DEPARTMENT: KindInfo("partnerships.PoliceDepartment", "police_departments:detail", "name", True),
    RecordKind.FOCUS_AREA: KindInfo("partnerships.FocusArea", "focus_areas:detail", "name", False),
    RecordKind.SURVEILLANCE_PRACTICE: KindInfo(
        "partnerships.SurveillancePractice", "surveillance_practices:detail", "name", True
    ),
    RecordKind.SOURCE: KindInfo("provenance.Source", "sources:detail", "title", False),
    RecordKind.LEGAL_INSTRUMENT: KindInfo("legal.LegalInstrument", "legal:instrument", "title", True),
    RecordKind.OVERSIGHT_BODY: KindInfo("legal.OversightBody", "legal:oversight_body", "name", True),
    RecordKind.JURISDICTION: KindInfo("geography.Jurisdiction", "legal:jurisdiction", "name", False),
    RecordKind.CASE: KindInfo("cases.OverreachCase", "cases:detail", "title", True),
}

# The record page a request link is on (URL namespace, URL name) -> the kind of its record.
KIND_OF_PAGE: dict[tuple[str, str], str] = {
    tuple(info.url_name.split(":")): kind  # type: ignore[misc]
    for kind, info in KINDS.items()
}


@dataclass(frozen=True)
class PublicRecordRef:
    """A published record a request is about."""

    kind: str
    pk: int
    slug: str
    label: str

    @property
    def url(self) -> str:
        return reverse(KINDS[self.kind].url_name, kwargs={"slug": self.slug})

    @property
    def token(self) -> str:
        return f"{self.kind}:{self.slug}"

    @property
    def kind_label(self) -> str:
        return RecordKind(self.kind).label


def _ref(kind: str, obj: Any) -> PublicRecordRef:
    return PublicRecordRef(kind=kind, pk=obj.pk, slug=obj.slug, label=str(getattr(obj, KINDS[kind].label_field)))


def parse_record_token(token: str) -> tuple[str, str] | None:
    """``"partnership:safe-horizon"`` -> ("partnership", "safe-horizon"), or None when it is malformed."""
    kind, sep, slug = token.strip().partition(":")
    if not sep or kind not in KINDS or not slug or len(slug) > 200:
        return None
    return kind, slug


def find_public_record(kind: str, slug: str) -> PublicRecordRef | None:
    """The published record of this kind with this slug (one query), or None."""
    info = KINDS[kind]
    obj = info.queryset().filter(slug=slug).only("pk", "slug", info.label_field).first()
    return _ref(kind, obj) if obj is not None else None


def public_record_by_id(kind: str | None, pk: int | None) -> PublicRecordRef | None:
    """The record a stored request is about, while it is still published (one query), or None."""
    if not kind or pk is None or kind not in KINDS:
        return None
    info = KINDS[kind]
    obj = info.queryset().filter(pk=pk).only("pk", "slug", info.label_field).first()
    return _ref(kind, obj) if obj is not None else None
