"""Where things are: continent-level regions (as the seed uses them), countries (ISO 3166) and a tree of
jurisdictions (international > supranational > national > subnational > city) that law is derived from."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import F, Q
from django_countries import countries

from registry.constraints import choices_check, not_blank_check, slug_format_check
from registry.history import track_changes


@track_changes()
class Region(models.Model):
    """A continent-level region, named as the source documents name it (e.g. "North America")."""

    slug = models.SlugField(max_length=80, unique=True, help_text="Stable identifier used in URLs and filters.")
    name = models.CharField(max_length=120, unique=True, help_text="Name of the region.")
    description = models.TextField(blank=True, help_text="What the region covers.")

    class Meta:
        ordering = ["name"]
        constraints = [slug_format_check("geography_region"), not_blank_check("geography_region", "name")]

    def __str__(self) -> str:
        return self.name


def validate_iso_country(value: str) -> None:
    if value not in countries:
        raise ValidationError(f"{value!r} is not an ISO 3166-1 alpha-2 country code.")


@track_changes()
class Country(models.Model):
    """A country by its ISO 3166-1 alpha-2 code."""

    code = models.CharField(
        max_length=2,
        unique=True,
        validators=[validate_iso_country],
        help_text="ISO 3166-1 alpha-2 code in capitals, e.g. GB.",
    )
    slug = models.SlugField(max_length=80, unique=True, help_text="Stable identifier used in URLs and filters.")
    name = models.CharField(max_length=120, unique=True, help_text="Common English name of the country.")
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="countries", help_text="Region the country belongs to."
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "countries"
        constraints = [
            slug_format_check("geography_country"),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z]{2}$"),
                name="geography_country_code_iso",
                violation_error_message="The country code must be two capital letters (ISO 3166-1 alpha-2), e.g. GB.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class JurisdictionLevel(models.TextChoices):
    INTERNATIONAL = "international", "International"
    SUPRANATIONAL = "supranational", "Supranational (e.g. the European Union)"
    NATIONAL = "national", "National"
    SUBNATIONAL = "subnational", "Subnational (state, province, nation of a union)"
    CITY = "city", "City or municipality"


LEVEL_DEPTH = {level: depth for depth, level in enumerate(JurisdictionLevel.values)}


class JurisdictionQuerySet(models.QuerySet["Jurisdiction"]):
    def ancestors_of(self, jurisdiction: Jurisdiction, *, include_self: bool = True) -> JurisdictionQuerySet:
        """The jurisdiction's chain up to the root (one recursive query)."""
        ids = jurisdiction_ancestor_ids(jurisdiction.pk)
        if not include_self:
            ids = [i for i in ids if i != jurisdiction.pk]
        return self.filter(pk__in=ids)

    def descendants_of(self, jurisdiction: Jurisdiction, *, include_self: bool = True) -> JurisdictionQuerySet:
        """Everything below the jurisdiction (one recursive query), for "in Europe, including its cities"."""
        ids = jurisdiction_descendant_ids(jurisdiction.pk)
        if not include_self:
            ids = [i for i in ids if i != jurisdiction.pk]
        return self.filter(pk__in=ids)

    def at_level(self, level: str) -> JurisdictionQuerySet:
        return self.filter(level=level)


_ANCESTORS_SQL = """
WITH RECURSIVE chain(id, parent_id, depth) AS (
    SELECT id, parent_id, 0 FROM geography_jurisdiction WHERE id = %s
    UNION ALL
    SELECT j.id, j.parent_id, chain.depth + 1
    FROM geography_jurisdiction j JOIN chain ON j.id = chain.parent_id
    WHERE chain.depth < 32
)
SELECT id FROM chain ORDER BY depth
"""

_DESCENDANTS_SQL = """
WITH RECURSIVE tree(id, depth) AS (
    SELECT id, 0 FROM geography_jurisdiction WHERE id = %s
    UNION ALL
    SELECT j.id, tree.depth + 1
    FROM geography_jurisdiction j JOIN tree ON j.parent_id = tree.id
    WHERE tree.depth < 32
)
SELECT id FROM tree
"""


def jurisdiction_ancestor_ids(pk: int) -> list[int]:
    """Ids from the jurisdiction itself up to the root, nearest first."""
    with connection.cursor() as cursor:
        cursor.execute(_ANCESTORS_SQL, [pk])
        return [row[0] for row in cursor.fetchall()]


def jurisdiction_descendant_ids(pk: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(_DESCENDANTS_SQL, [pk])
        return [row[0] for row in cursor.fetchall()]


@track_changes()
class Jurisdiction(models.Model):
    """A body of law's territory. A tree: each jurisdiction but the international root has a parent."""

    slug = models.SlugField(max_length=120, unique=True, help_text="Stable identifier used in URLs and filters.")
    name = models.CharField(max_length=200, help_text='Name, e.g. "England and Wales" or "New York City".')
    level = models.CharField(
        max_length=16, choices=JurisdictionLevel.choices, help_text="Where the jurisdiction sits in the tree."
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text="The jurisdiction directly above this one (empty only for the international root).",
    )
    country = models.ForeignKey(
        Country,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="jurisdictions",
        help_text="Country the jurisdiction lies in; required at national level and below.",
    )
    subdivision_code = models.CharField(
        max_length=10, blank=True, help_text="ISO 3166-2 code for subnational jurisdictions, e.g. US-CA."
    )

    objects = JurisdictionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            slug_format_check("geography_jurisdiction"),
            not_blank_check("geography_jurisdiction", "name"),
            choices_check("geography_jurisdiction", "level", JurisdictionLevel.values),
            models.UniqueConstraint(
                fields=["parent", "name"],
                name="geography_jurisdiction_unique_name_per_parent",
                violation_error_message="A jurisdiction of this name already sits under that parent.",
                nulls_distinct=False,  # two roots of the same name are duplicates too
            ),
            models.CheckConstraint(
                condition=Q(level=JurisdictionLevel.INTERNATIONAL) | Q(parent__isnull=False),
                name="geography_jurisdiction_parent_required",
                violation_error_message="Only the international root may have no parent jurisdiction.",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(parent=F("pk")),
                name="geography_jurisdiction_not_own_parent",
                violation_error_message="A jurisdiction cannot be its own parent.",
            ),
            models.CheckConstraint(
                condition=Q(level__in=[JurisdictionLevel.INTERNATIONAL, JurisdictionLevel.SUPRANATIONAL])
                | Q(country__isnull=False),
                name="geography_jurisdiction_country_required",
                violation_error_message="A national, subnational or city jurisdiction needs a country.",
            ),
            models.CheckConstraint(
                condition=Q(subdivision_code="") | Q(subdivision_code__regex=r"^[A-Z]{2}-[A-Z0-9]{1,3}$"),
                name="geography_jurisdiction_subdivision_iso",
                violation_error_message="The subdivision code must be an ISO 3166-2 code such as US-CA.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def ancestors(self, *, include_self: bool = True) -> list[Jurisdiction]:
        """This jurisdiction and every one above it, nearest first (e.g. London > England > UK > International)."""
        ids = jurisdiction_ancestor_ids(self.pk)
        if not include_self:
            ids = ids[1:]
        by_id = Jurisdiction.objects.in_bulk(ids)
        return [by_id[i] for i in ids if i in by_id]

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.parent_id is not None and self.parent is not None:
            if LEVEL_DEPTH.get(self.parent.level, 0) > LEVEL_DEPTH.get(self.level, 0):
                errors["parent"] = "A jurisdiction cannot sit below one of a lower level."
            if self.pk is not None and self.pk in jurisdiction_ancestor_ids(self.parent_id):
                errors["parent"] = "That parent would make the tree a cycle."
        if errors:
            raise ValidationError(errors)
