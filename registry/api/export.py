"""Streamed exports of a filtered list: every matching record (not one page) in one download, in flat memory.

- ``?format=csv``: ``text/csv; charset=utf-8; header=present``, RFC 4180 (the csv module's quoting, ``\\r\\n``
  line ends), a header row, then one row per record. Many-valued cells are joined with ``"; "``. A text cell
  that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'`` so that a
  spreadsheet shows it as text instead of running it as a formula (CSV/formula injection).
  No byte order mark: the file starts with the header ``slug,...`` as RFC 4180 and programs expect, and the
  charset is declared in the Content-Type. (Excel opens UTF-8 without a BOM correctly through
  Data > From Text/CSV; double-clicking the file may show accented names wrongly.)
- ``?format=ndjson``: ``application/x-ndjson``, one JSON object per line with the same keys in the same order;
  many-valued fields are JSON arrays and years numbers. No formula neutralising (JSON is not a spreadsheet).
  ``?format=json`` stays the paginated JSON list.

Partnerships stream from ``QuerySet.iterator(chunk_size=2000)`` over plain value rows (no serializer, no
model instance per row): related names are aggregated by subqueries in the same SELECT, so an export of any
size is one query. Every other resource exports the fields of its JSON list, in the same order, without the
per-field claims (those stay in the JSON API), then ``permalink``: a related record is its slug (a country its
code), many are joined; rows are serialized one at a time from ``iterator(chunk_size=500)`` with the list's
prefetches (one query per related table per 500 rows). Pagination parameters (cursor, page_size, count) do
not apply to an export: they answer 400.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import OuterRef, QuerySet
from django.http import HttpResponseBase, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from partnerships.models import NGO, FocusArea, Partnership, PoliceDepartment, SurveillancePractice
from provenance.models import Claim, Source, disputed_fields_subquery
from registry.api.conditional import paginated_list_response

CHUNK_SIZE = 2000  # rows fetched from the database cursor at a time
SERIALIZED_CHUNK_SIZE = 500  # model instances (and their prefetches) fetched at a time
EXPORT_OMITTED_FIELDS = frozenset({"claims", "dispute_resolutions"})  # per-field claims stay in the JSON API
ROWS_PER_WRITE = 500  # rows per piece of the streamed body
MANY_SEPARATOR = "; "
# An exported row: its values by column name, or in column order.
Row = Mapping[str, Any] | tuple[Any, ...]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# --- Writers (any list) -------------------------------------------------------------------------------


def neutralise(text: str) -> str:
    """Keep a spreadsheet from reading a cell as a formula: prefix ``'`` to a risky first character."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def api_datetime(value: datetime) -> str:
    """A datetime as DRF's DateTimeField writes it (ISO 8601 in the current time zone, ``Z`` for UTC), without
    building a serializer field per value (that cost 9 s of a 100k-row export)."""
    text = timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def plain(value: Any) -> Any:
    """A JSON-ready value: datetimes as the API writes them (ISO 8601, UTC with Z), lists as lists."""
    if isinstance(value, datetime):
        return api_datetime(value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def csv_cell(value: Any) -> str:
    # The common types first: most cells are text, numbers or lists of names.
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return f"'{value}" if value.startswith(FORMULA_STARTS) else value
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return neutralise(str(value))  # a negative number starts with "-"
    if kind is list or kind is tuple:
        text = MANY_SEPARATOR.join("" if item is None else str(plain(item)) for item in value)
        return f"'{text}" if text.startswith(FORMULA_STARTS) else text
    if isinstance(value, datetime):
        return api_datetime(value)
    return neutralise(str(plain(value)))


def csv_stream(columns: Sequence[str], rows: Iterable[Row]) -> Iterator[str]:
    """The header, then the rows, as RFC 4180 text in pieces of ``ROWS_PER_WRITE`` rows. A row is a mapping of
    the columns, or a tuple of their values in column order (the fast path of big exports)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for count, row in enumerate(rows, start=1):
        writer.writerow(map(csv_cell, row if isinstance(row, tuple) else [row[c] for c in columns]))
        if count % ROWS_PER_WRITE == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate(0)
    yield buffer.getvalue()


def ndjson_stream(columns: Sequence[str], rows: Iterable[Row]) -> Iterator[str]:
    """One JSON object per line (keys in column order), in pieces of ``ROWS_PER_WRITE`` rows."""
    lines: list[str] = []
    for row in rows:
        values = row if isinstance(row, tuple) else [row[c] for c in columns]
        record = dict(zip(columns, map(plain, values), strict=True))
        lines.append(json.dumps(record, cls=DjangoJSONEncoder, ensure_ascii=False) + "\n")
        if len(lines) == ROWS_PER_WRITE:
            yield "".join(lines)
            lines = []
    yield "".join(lines)


class ExportRenderer(BaseRenderer):
    """Lets content negotiation accept ``?format=csv`` / ``ndjson`` (or the Accept header); the body is written
    by the view as a stream. Anything else answered in this format (an error) is rendered as JSON."""

    charset = "utf-8"
    extension = ""
    stream: Callable[[Sequence[str], Iterable[Row]], Iterator[str]]

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return JSONRenderer().render(data)


class CSVRenderer(ExportRenderer):
    media_type = "text/csv"
    format = "csv"
    extension = "csv"
    stream = staticmethod(csv_stream)


class NDJSONRenderer(ExportRenderer):
    media_type = "application/x-ndjson"
    format = "ndjson"
    extension = "ndjson"
    stream = staticmethod(ndjson_stream)


EXPORT_RENDERERS: tuple[type[ExportRenderer], ...] = (CSVRenderer, NDJSONRenderer)


def in_one_transaction(pieces: Iterator[str]) -> Iterator[str]:
    """Streams the export inside one read transaction. The body is written after the view has returned (and its
    ATOMIC_REQUESTS transaction has ended); a server-side cursor opened outside a transaction is declared WITH
    HOLD, and PostgreSQL then computes the whole result before it sends the first row (26 s for 100k rows, and a
    statement that could outlast the statement timeout). Inside a transaction the rows come as they are read. A
    client that leaves mid-way closes the generator: the transaction is rolled back (it wrote nothing)."""
    with transaction.atomic():
        yield from pieces


def export_response(
    *, renderer: ExportRenderer, filename: str, columns: Sequence[str], rows: Iterable[Row]
) -> StreamingHttpResponse:
    content_type = f"{renderer.media_type}; charset=utf-8"
    if isinstance(renderer, CSVRenderer):
        content_type += "; header=present"
    response = StreamingHttpResponse(in_one_transaction(renderer.stream(columns, rows)), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{renderer.extension}"'
    return response


def export_schema(description: str) -> dict[str, Any]:
    """``parameters`` and ``responses`` additions for a list operation's extend_schema."""
    return {
        "parameters": [
            OpenApiParameter(
                "format",
                str,
                enum=["json", "csv", "ndjson"],
                description=(
                    "json (default): one page of JSON. csv: every matching record as a CSV download (RFC 4180, "
                    "UTF-8 without BOM, many values joined with '; ', cells starting with = + - @ tab or CR "
                    "prefixed with '). ndjson: every matching record, one JSON object per line. The exports "
                    "take the filters but no cursor, page_size or count. " + description
                ),
            )
        ],
        "responses": {
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV export (?format=csv)."),
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.STR, description="JSON Lines export (?format=ndjson)."
            ),
        },
    }


def serializer_export_columns(serializer_class: Any) -> tuple[str, ...]:
    """The export columns of a resource: its list serializer's fields but the claims, then ``permalink``."""
    return (*(name for name in serializer_class.Meta.fields if name not in EXPORT_OMITTED_FIELDS), "permalink")


def flat(value: Any) -> Any:
    """A nested API value as an export value: a related record by its slug (a country by its code), many as a
    list of those."""
    if isinstance(value, Mapping):
        return value.get("slug", value.get("code"))
    if isinstance(value, list):
        return [flat(item) for item in value]
    return value


class ExportMixin:
    """``?format=csv`` and ``?format=ndjson`` on the list of a viewset: the whole filtered list, streamed.

    By default the columns are the list serializer's fields (``serializer_export_columns``) and each row is
    that serializer's output, flattened. A resource with its own columns sets ``export_columns`` and
    overrides ``export_rows``."""

    export_filename: str = ""
    export_columns: Sequence[str] = ()
    export_default_ordering: str = "slug"

    def get_export_columns(self) -> Sequence[str]:
        return self.export_columns or serializer_export_columns(getattr(self, "serializer_class", None))

    def get_renderers(self) -> list[BaseRenderer]:
        renderers: list[BaseRenderer] = super().get_renderers()  # type: ignore[misc]
        if getattr(self, "action", None) == "list":
            renderers += [renderer() for renderer in EXPORT_RENDERERS]
        return renderers

    def export_rows(self, queryset: QuerySet[Any]) -> Iterator[Row]:
        view: Any = self
        columns = [column for column in self.get_export_columns() if column != "permalink"]
        context = view.get_serializer_context()
        permalink_base = list_url(view.request, view.basename)
        for record in queryset.iterator(chunk_size=SERIALIZED_CHUNK_SIZE):
            data = view.serializer_class(record, context=context).data
            yield {**{column: flat(data[column]) for column in columns}, "permalink": f"{permalink_base}{record.slug}/"}

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        view: Any = self
        return self.list_filtered(request, view.filter_queryset(view.get_queryset()))

    def list_filtered(self, request: Request, queryset: QuerySet[Any]) -> HttpResponseBase:
        renderer = request.accepted_renderer
        if not isinstance(renderer, ExportRenderer):
            return paginated_list_response(self, queryset)
        paginator = getattr(self, "paginator", None)
        refused = sorted(set(request.query_params) & set(getattr(paginator, "query_parameters", set)()))
        if refused:
            raise ValidationError(
                {
                    name: [ErrorDetail(f"{name} does not apply to a {renderer.format} export.", code="invalid")]
                    for name in refused
                }
            )
        if not queryset.query.order_by:
            queryset = queryset.order_by(self.export_default_ordering)
        return export_response(
            renderer=renderer,
            # Named after the resource's address: /api/v1/police-departments/ -> police-departments.csv
            filename=self.export_filename or request.path.rstrip("/").rsplit("/", 1)[-1],
            columns=self.get_export_columns(),
            rows=self.export_rows(queryset),
        )

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        # An error answered to ?format=csv is still JSON in the API's one error shape.
        if isinstance(response, Response) and isinstance(getattr(request, "accepted_renderer", None), ExportRenderer):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


# --- Partnerships ---------------------------------------------------------------------------------

PARTNERSHIP_EXPORT_COLUMNS: tuple[str, ...] = (
    "slug",
    "name",
    "region",  # region name
    "country",  # ISO 3166-1 alpha-2 code of the jurisdiction's country
    "jurisdiction",  # jurisdiction name
    "ngos",  # names of the published NGOs, by name
    "police_departments",  # names of the published police departments, by name
    "focus_areas",  # focus area names
    "year_established",  # the editor's chosen value
    "year_established_claims",  # every distinct value the sources claim, so a dispute is visible
    "status",
    "formalisation",
    "data_sharing",
    "surveillance_practices",  # names of the published practices
    "verification_status",
    "disputed_fields",  # fields on which claims disagree
    "source_urls",  # URLs of the record's sources and of its claims' sources, sorted, no duplicates
    "updated_at",
    "permalink",  # the record in the API
)


def _names(model: Any, relation: str, *, public: bool = True) -> ArraySubquery:
    related = model.objects.public() if public else model.objects.all()
    return ArraySubquery(related.filter(**{relation: OuterRef("pk")}).order_by("name", "id").values("name"))


def partnership_export_queryset(queryset: QuerySet[Partnership]) -> QuerySet[Any]:
    """Tuples of plain values with every related name aggregated in the same SELECT (one query in all)."""
    return (
        queryset.prefetch_related(None)
        .annotate(
            export_ngos=_names(NGO, "partnerships"),
            export_police_departments=_names(PoliceDepartment, "partnerships"),
            export_focus_areas=_names(FocusArea, "partnerships", public=False),
            export_surveillance_practices=_names(SurveillancePractice, "partnerships"),
            export_year_claims=ArraySubquery(
                Claim.objects.filter(partnership=OuterRef("pk"), field="year_established")
                .order_by("value")
                .values("value")
                .distinct()
            ),
            export_disputed=ArraySubquery(disputed_fields_subquery(Partnership).order_by("field").values("field")),
            export_record_urls=ArraySubquery(
                Source.objects.filter(partnerships_partnership_records=OuterRef("pk")).exclude(url="").values("url")
            ),
            export_claim_urls=ArraySubquery(
                Source.objects.filter(claims__partnership=OuterRef("pk")).exclude(url="").values("url")
            ),
        )
        .values_list(
            "slug",
            "name",
            "region__name",
            "jurisdiction__country__code",
            "jurisdiction__name",
            "export_ngos",
            "export_police_departments",
            "export_focus_areas",
            "year_established",
            "export_year_claims",
            "status",
            "formalisation",
            "data_sharing",
            "export_surveillance_practices",
            "verification_status",
            "export_disputed",
            "export_record_urls",
            "export_claim_urls",
            "updated_at",
        )
    )


def partnership_export_rows(queryset: QuerySet[Partnership], *, permalink_base: str) -> Iterator[tuple[Any, ...]]:
    """The rows of ``PARTNERSHIP_EXPORT_COLUMNS`` as tuples in column order (no dict per row: a 100k-row export
    spends most of its time in Python); ``permalink_base`` is the absolute URL of the list. The query's columns
    are the export's, but for the claimed years (numbers where they are), the two URL lists (one sorted set) and
    the permalink (added)."""
    for row in partnership_export_queryset(queryset).iterator(chunk_size=CHUNK_SIZE):
        years = [int(v) if v.isdigit() else v for v in row[9]]
        urls = sorted({*row[16], *row[17]})
        yield (*row[:9], years, *row[10:16], urls, row[18], f"{permalink_base}{row[0]}/")


PARTNERSHIP_EXPORT_SCHEMA = export_schema(
    "Columns, in this order: " + ", ".join(PARTNERSHIP_EXPORT_COLUMNS) + ". year_established_claims lists every "
    "year the sources claim (two values: the year is disputed); region, jurisdiction and parties are names, "
    "country an ISO 3166-1 alpha-2 code, permalink the record's API address."
)


def list_url(request: Request, basename: str) -> str:
    """Absolute URL of a resource's list (with a trailing slash) for permalinks."""
    return request.build_absolute_uri(reverse(f"{basename}-list", kwargs={"version": request.version}))
