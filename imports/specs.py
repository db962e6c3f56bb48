"""What can be imported and exported: per kind of record, its columns (the same for both directions), how a cell
becomes a field value, and the export query.

A record is found by its natural key, the ``slug``. A related record (region, jurisdiction, NGOs, police
departments, focus areas, surveillance practices, sources) is named by its slug; where no slug matches, an exact,
unambiguous name is accepted too, so the API's CSV export (which names regions and parties) imports as well.
Many values are one cell joined with ``"; "`` (CSV, XLSX) or a JSON array. Columns after ``columns`` are
written by the export for reading only (``read_only``) and ignored on import, as are the API export's derived
columns (``accepted``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import OuterRef, Q

from partnerships.models import NGO, FocusArea, Partnership, PoliceDepartment, SurveillancePractice
from provenance.models import PublicRecord, Source

MANY_SEPARATOR = ";"
RECORD_COLUMNS = ("sources", "is_published", "editorial_note")
RECORD_READ_ONLY = ("verification_status", "is_synthetic", "updated_at")
# Derived columns of the API's partnership export (registry/api/export.py), accepted and ignored on import.
API_PARTNERSHIP_DERIVED = (
    "country",
    "year_established_claims",
    "disputed_fields",
    "source_urls",
    "permalink",
)


@dataclass(frozen=True)
class ModelSpec:
    key: str
    model: type[models.Model]
    columns: tuple[str, ...]
    read_only: tuple[str, ...] = ()
    accepted: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name_plural)

    @property
    def is_public_record(self) -> bool:
        return issubclass(self.model, PublicRecord)

    @property
    def export_columns(self) -> tuple[str, ...]:
        return (*self.columns, *self.read_only)

    @property
    def known_columns(self) -> frozenset[str]:
        return frozenset((*self.columns, *self.read_only, *self.accepted))

    def field(self, name: str) -> Any:
        return self.model._meta.get_field(name)

    def kind(self, name: str) -> str:
        return field_kind(self.field(name))


SPECS: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in (
        ModelSpec(
            key="partnership",
            model=Partnership,
            columns=(
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
                *RECORD_COLUMNS,
            ),
            read_only=RECORD_READ_ONLY,
            accepted=API_PARTNERSHIP_DERIVED,
        ),
        *(
            ModelSpec(
                key=key,
                model=model,
                columns=("slug", "name", "aliases", "jurisdiction", "website", "description", *RECORD_COLUMNS),
                read_only=RECORD_READ_ONLY,
                accepted=("disputed_fields", "permalink"),
            )
            for key, model in (("ngo", NGO), ("police_department", PoliceDepartment))
        ),
        ModelSpec(
            key="surveillance_practice",
            model=SurveillancePractice,
            columns=("slug", "name", "implementation", "concerns", "description", *RECORD_COLUMNS),
            read_only=RECORD_READ_ONLY,
            accepted=("disputed_fields", "permalink"),
        ),
        ModelSpec(
            key="source",
            model=Source,
            columns=(
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
                "note",
            ),
            read_only=("is_synthetic", "updated_at"),
            accepted=("permalink",),
        ),
        ModelSpec(key="focus_area", model=FocusArea, columns=("slug", "name", "description"), accepted=("permalink",)),
    )
}


def spec_for(key: str) -> ModelSpec:
    try:
        return SPECS[key]
    except KeyError:
        raise ValueError(f"Unknown kind of record {key!r}: use one of {', '.join(SPECS)}.") from None


def spec_for_model(model: type[models.Model]) -> ModelSpec | None:
    return next((spec for spec in SPECS.values() if spec.model is model), None)


def field_kind(field: Any) -> str:
    if isinstance(field, models.ManyToManyField):
        return "many"
    if isinstance(field, models.ForeignKey):
        return "one"
    if isinstance(field, ArrayField):
        return "list"
    if isinstance(field, models.BooleanField):
        return "bool"
    if isinstance(field, models.IntegerField):
        return "int"
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        return "date"
    return "text"


# --- Cells to values -----------------------------------------------------------------------------------------

TRUE = frozenset({"true", "yes", "1", "y", "t"})
FALSE = frozenset({"false", "no", "0", "n", "f", ""})


def split_many(raw: Any) -> list[str]:
    """A many-valued cell: a JSON array, or text joined with ';' (the export joins with '; ')."""
    if isinstance(raw, list):
        items = [str(item).strip() for item in raw]
    elif raw is None:
        items = []
    else:
        items = [part.strip() for part in str(raw).split(MANY_SEPARATOR)]
    result: list[str] = []
    for item in items:
        if item and item not in result:
            result.append(item)
    return result


class CellError(Exception):
    pass


def parse_scalar(kind: str, raw: Any, field: Any) -> Any:
    """The field value a cell holds, or ``CellError`` saying what a valid cell looks like."""
    if isinstance(raw, list) and kind not in ("list", "many"):
        raise CellError("takes one value, not a list")
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = "" if raw is None else str(raw).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise CellError("must be true or false")
    if kind == "int":
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            return None
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise CellError("must be a whole number")
        text = str(int(raw)) if isinstance(raw, int | float) else raw.strip()
        if not text.lstrip("-").isdigit() or len(text) > 12:
            raise CellError("must be a whole number")
        return int(text)
    if kind == "date":
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            return None
        try:
            return _date(raw)
        except ValueError:
            raise CellError("must be a date as YYYY-MM-DD") from None
    if kind == "list":
        return split_many(raw)
    # text
    if (raw is None or raw == "") and not field.blank and field.has_default():
        return field.get_default()  # an empty cell of a choice with a default (status, ...): the default
    if raw is None:
        return "" if not field.null else None
    if isinstance(raw, bool):
        raise CellError("must be text")
    return str(raw)


def _date(raw: Any) -> date:
    text = str(raw).strip()
    if "T" in text or " " in text:
        return datetime.fromisoformat(text).date()
    return date.fromisoformat(text)


@dataclass
class Lookup:
    """Related records of one model named in the file, by slug and by (unambiguous) name."""

    by_slug: dict[str, models.Model]
    by_name: dict[str, list[models.Model]]
    label: str

    def find(self, ref: str) -> models.Model:
        if ref in self.by_slug:
            return self.by_slug[ref]
        named = self.by_name.get(ref, [])
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise CellError(f"{ref!r} names {len(named)} {self.label}; use the slug")
        raise CellError(f"no {self.label[:-1] if self.label.endswith('s') else self.label} with the slug {ref!r}")


def build_lookup(model: type[models.Model], refs: Iterable[str]) -> Lookup:
    wanted = sorted({ref for ref in refs if ref})
    has_name = any(f.name == "name" for f in model._meta.get_fields())
    label = str(model._meta.verbose_name_plural)
    if not wanted:
        return Lookup({}, {}, label)
    condition = Q(slug__in=wanted) | Q(name__in=wanted) if has_name else Q(slug__in=wanted)
    fields = ["pk", "slug", "name"] if has_name else ["pk", "slug"]
    by_slug: dict[str, models.Model] = {}
    by_name: dict[str, list[models.Model]] = {}
    for obj in model._default_manager.filter(condition).only(*fields).order_by():
        by_slug[obj.slug] = obj  # type: ignore[attr-defined]
        if has_name:
            by_name.setdefault(obj.name, []).append(obj)  # type: ignore[attr-defined]
    return Lookup(by_slug, by_name, label)


# --- Export ----------------------------------------------------------------------------------------------------


def export_queryset(spec: ModelSpec, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
    """Tuples in ``spec.export_columns`` order, every related slug aggregated in the same SELECT (one query)."""
    annotations: dict[str, Any] = {}
    values: list[str] = []
    for name in spec.export_columns:
        kind = spec.kind(name)
        if kind == "many":
            field = spec.field(name)
            related = field.related_model
            annotations[f"export_{name}"] = ArraySubquery(
                related._default_manager.filter(**{field.related_query_name(): OuterRef("pk")})
                .order_by("slug")
                .values("slug")
            )
            values.append(f"export_{name}")
        elif kind == "one":
            values.append(f"{name}__slug")
        else:
            values.append(name)
    return queryset.prefetch_related(None).annotate(**annotations).order_by("slug").values_list(*values)


def export_rows(
    spec: ModelSpec, queryset: models.QuerySet[Any], *, chunk_size: int = 2000
) -> Iterator[tuple[Any, ...]]:
    for row in export_queryset(spec, queryset).iterator(chunk_size=chunk_size):
        yield tuple(row)


def export_columns(spec: ModelSpec) -> Sequence[str]:
    return spec.export_columns
