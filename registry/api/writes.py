"""Editors' writes to partnerships: create, update (with ``If-Match``), add a claim, attach a source.

Who may write: a user authenticated by a token (``Authorization: Token <key>``; an administrator creates one
with ``manage.py drf_create_token <username>`` or in the admin) or by an admin session (with its CSRF token),
holding the model permissions: ``partnerships.add_partnership`` to create, ``partnerships.change_partnership``
to update, plus ``provenance.add_claim`` to add a claim and ``provenance.add_source`` to create a source.
Anonymous writes answer 401, writes without the permission 403.

Updates are conditional: ``PATCH`` must send ``If-Match`` with the ETag of the detail response (``GET
/api/v1/partnerships/<slug>/``, or the previous ``PATCH``). No ``If-Match``: 428 Precondition Required. An
ETag that is no longer current (someone changed the record, a claim, a link since): 412 Precondition Failed
and nothing is written; the body (``StaleRecordSerializer``) gives the current ETag (also in the ``ETag`` header),
the record's newest changes (the public history: fields and time, never the editor) and its history URL.
``If-Match: *`` skips the check. The API's ETags are weak (``W/"..."``); ``If-Match``
compares them as given (with or without the ``W/`` prefix), since they change with every write.

Writes address published records (as every read does); drafts are edited in the admin. A created record is
a draft unless ``is_published`` is true. Publishing (creating with ``is_published`` true) and unpublishing
(``PATCH`` of ``is_published`` to false) also need ``accounts.verify_record`` (reviewers): 403 without it.
Every write is in history with the editor (pghistory's middleware
records the user id DRF authenticated; the public history never shows it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import PUBLISH_REFUSED, can_publish
from geography.models import Jurisdiction, Region
from partnerships.models import (
    NGO,
    DataSharing,
    FocusArea,
    Formalisation,
    Partnership,
    PartnershipStatus,
    PoliceDepartment,
    SurveillancePractice,
)
from partnerships.services import StaleRecord, partnership_create, partnership_update
from provenance.models import CLAIMABLE_FIELDS, Source, SourceKind, SourceTier
from provenance.services import claim_add, record_source_add, source_upsert
from registry.api.errors import ErrorResponseSerializer
from registry.api.permissions import ModelPermissionsOrAnonReadOnly
from registry.api.resources.history import record_history
from registry.api.serializers import (
    ClaimSerializer,
    HistoryEventSerializer,
    PartnershipSerializer,
    SourceBriefSerializer,
)
from registry.constraints import EARLIEST_YEAR

# --- Errors ------------------------------------------------------------------------------------------------


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = "Send If-Match with the record's ETag (from GET on the record) to change it."
    default_code = "precondition_required"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The record has changed since this ETag was issued; read it again and reapply the change."
    default_code = "stale"


# Changes listed in a 412's body (the full list is at the record's history URL).
STALE_RECENT_CHANGES = 10


class StaleRecordSerializer(ErrorResponseSerializer):
    """The body of a 412 on PATCH: the error, the record's current version and what changed on it lately (the
    public history: no editor, no request). An ETag is a digest and cannot be turned back into a time, so the
    client tells which of ``recent_changes`` came after it read the record by comparing ``at`` with that time."""

    current_etag = serializers.CharField(help_text="The record's ETag now (also in the ETag header): read, then retry.")
    last_modified = serializers.DateTimeField(allow_null=True, help_text="When the record last changed.")
    history = serializers.URLField(help_text="The record's full change history.")
    recent_changes = HistoryEventSerializer(
        many=True, help_text=f"The record's newest changes, newest first (at most {STALE_RECENT_CHANGES})."
    )


@contextmanager
def model_errors_as_400() -> Iterator[None]:
    """A ValidationError of ``full_clean`` (a field, or the record as a whole) is a 400 naming the field."""
    try:
        yield
    except DjangoValidationError as error:
        detail = error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}
        raise exceptions.ValidationError(detail) from error


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorResponseSerializer, description=description)


WRITE_ERRORS = {
    400: _error("The body is invalid; each error names its field (attr)."),
    401: _error("No credentials: send Authorization: Token <key>."),
    403: _error(
        "The user lacks the model permission for this write, or (publishing or unpublishing) accounts.verify_record."
    ),
    406: _error("The Accept header asks for a format not offered."),
    429: _error("Too many requests; retry after Retry-After seconds."),
}
RECORD_WRITE_ERRORS = {**WRITE_ERRORS, 404: _error("No published partnership has this slug.")}

# --- Input -------------------------------------------------------------------------------------------------


def year_not_in_future(value: int) -> None:
    if value > timezone.now().year:
        raise serializers.ValidationError(f"Ensure this value is between {EARLIEST_YEAR} and this year.")


def year_field(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=EARLIEST_YEAR, validators=[year_not_in_future], required=False, allow_null=True, help_text=help_text
    )


def slugs(queryset: QuerySet[Any], help_text: str) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="slug", queryset=queryset, many=True, required=False, help_text=help_text
    )


class PartnershipWriteSerializer(serializers.Serializer):
    """A new partnership. Relations are given by slug; lists of slugs replace the current links."""

    name = serializers.CharField(max_length=300, help_text="Short name.")
    slug = serializers.SlugField(max_length=160, help_text="Stable identifier (frozen once published).")
    region = serializers.SlugRelatedField(
        slug_field="slug", queryset=Region.objects.all(), help_text="Slug of the region."
    )
    jurisdiction = serializers.SlugRelatedField(
        slug_field="slug", queryset=Jurisdiction.objects.all(), help_text="Slug of the jurisdiction."
    )
    focus_summary = serializers.CharField(max_length=300, required=False, allow_blank=True)
    primary_objective = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    year_established = year_field(f"Year the partnership began ({EARLIEST_YEAR} to this year).")
    year_ended = year_field("Year it ended; only for an ended partnership.")
    status = serializers.ChoiceField(choices=PartnershipStatus.choices, required=False)
    formalisation = serializers.ChoiceField(choices=Formalisation.choices, required=False)
    data_sharing = serializers.ChoiceField(choices=DataSharing.choices, required=False)
    is_published = serializers.BooleanField(required=False, help_text="Publish at once (default: a draft).")
    editorial_note = serializers.CharField(required=False, allow_blank=True)
    sources = slugs(Source.objects.all(), "Slugs of the sources the record as a whole rests on.")
    ngos = slugs(NGO.objects.all(), "Slugs of the NGOs taking part.")
    police_departments = slugs(PoliceDepartment.objects.all(), "Slugs of the police departments taking part.")
    focus_areas = slugs(FocusArea.objects.all(), "Slugs of the focus areas.")
    surveillance_practices = slugs(SurveillancePractice.objects.all(), "Slugs of the surveillance practices.")


class PartnershipChangeSerializer(PartnershipWriteSerializer):
    """Changes to a partnership: any subset of the fields (the slug cannot change through the API)."""

    slug = None


class ClaimWriteSerializer(serializers.Serializer):
    """One sourced value of one field. A value that disagrees with another claim makes the record disputed."""

    field = serializers.ChoiceField(choices=CLAIMABLE_FIELDS["partnership"], help_text="The field the claim is about.")
    value = serializers.CharField(max_length=1000, help_text="The value the source gives, as text.")
    source = serializers.SlugRelatedField(
        slug_field="slug", queryset=Source.objects.all(), help_text="Slug of the source."
    )
    locator = serializers.CharField(max_length=300, required=False, allow_blank=True, help_text="Page, section.")
    quote = serializers.CharField(required=False, allow_blank=True, help_text="The source's words.")
    note = serializers.CharField(required=False, allow_blank=True, help_text="Editor's note.")


class SourceWriteSerializer(serializers.Serializer):
    """An existing source (its slug alone) or a new one (slug, title, kind, tier and any other fields)."""

    slug = serializers.SlugField(max_length=120, help_text="Slug of an existing source, or of the new one.")
    title = serializers.CharField(max_length=500, required=False)
    publisher = serializers.CharField(max_length=300, required=False, allow_blank=True)
    author = serializers.CharField(max_length=300, required=False, allow_blank=True)
    url = serializers.URLField(max_length=2000, required=False, allow_blank=True)
    archived_url = serializers.URLField(max_length=2000, required=False, allow_blank=True)
    published_on = serializers.DateField(required=False, allow_null=True)
    accessed_on = serializers.DateField(required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=SourceKind.choices, required=False)
    tier = serializers.ChoiceField(choices=SourceTier.choices, required=False)
    note = serializers.CharField(required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        exists = Source.objects.filter(slug=attrs["slug"]).exists()
        if exists and len(attrs) > 1:
            raise serializers.ValidationError(
                {"slug": "A source with this slug exists: send only its slug to attach it (edit it in the admin)."}
            )
        if not exists:
            missing = {
                name: "Required to create a new source." for name in ("title", "kind", "tier") if not attrs.get(name)
            }
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


# --- Permissions -------------------------------------------------------------------------------------------

# Adding a claim or a source changes the partnership: POST on these actions needs these permissions.
ACTION_PERMISSIONS = {
    "add_claim": ["partnerships.change_partnership", "provenance.add_claim"],
    "add_source": ["partnerships.change_partnership"],
}


class PartnershipEditorPermission(ModelPermissionsOrAnonReadOnly):
    """Reads are open; writes need the model permissions (see the module docstring)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        perms = ACTION_PERMISSIONS.get(getattr(view, "action", "") or "")
        if perms is None or request.method != "POST":
            return super().has_permission(request, view)
        if not request.user or not request.user.is_authenticated:
            return False
        return bool(request.user.has_perms(perms))


# --- Views -------------------------------------------------------------------------------------------------

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="The record's ETag from GET (or the last PATCH). Missing: 428; no longer current: 412.",
)


def _tag(etag: str) -> str:
    return etag.strip().removeprefix("W/")


class PartnershipWriteMixin:
    """``create``, ``partial_update`` and the ``claims``/``sources`` actions of the partnership viewset."""

    permission_classes = [PartnershipEditorPermission]

    def fresh_object(self) -> Partnership:
        """The addressed record (404 unless published). Its prefetches do not matter to the services: they read
        the evidence from the database (provenance.services.derive_verification_status)."""
        found: Partnership = self.get_object()  # type: ignore[attr-defined]
        return found

    def written(self, partnership: Partnership, *, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(PartnershipSerializer(Partnership.objects.get(pk=partnership.pk)).data, status=status_code)

    @extend_schema(
        summary="Create a partnership (editors)",
        request=PartnershipWriteSerializer,
        responses={201: PartnershipSerializer, **WRITE_ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = PartnershipWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data.get("is_published") and not can_publish(request.user):
            raise exceptions.PermissionDenied(PUBLISH_REFUSED)
        with model_errors_as_400():
            partnership = partnership_create(**data.validated_data, editor=request.user)
        response = self.written(partnership, status_code=status.HTTP_201_CREATED)
        response["Location"] = reverse(
            "partnership-detail", kwargs={"version": request.version, "slug": partnership.slug}
        )
        return response

    @extend_schema(
        summary="Change a partnership (editors; conditional on If-Match)",
        request=PartnershipChangeSerializer,
        parameters=[IF_MATCH],
        responses={
            200: PartnershipSerializer,
            **RECORD_WRITE_ERRORS,
            412: OpenApiResponse(
                StaleRecordSerializer,
                description=(
                    "Precondition Failed: the record changed since this ETag; nothing was written. The body gives "
                    "the current ETag, the record's newest changes and its history URL."
                ),
            ),
            428: _error("Precondition Required: send If-Match with the record's ETag."),
        },
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view: Any = self
        partnership = view.get_object()
        if_match = request.headers.get("If-Match")
        if not if_match:
            raise PreconditionRequired()
        data = PartnershipChangeSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        publishing = data.validated_data.get("is_published", partnership.is_published)
        if publishing != partnership.is_published and not can_publish(request.user):
            raise exceptions.PermissionDenied(PUBLISH_REFUSED)

        def current_version(_: Partnership) -> str:
            validators = view.detail_validators(request)
            return _tag(validators.etag) if validators is not None else ""

        expected = None if if_match.strip() == "*" else _tag(if_match)
        try:
            with model_errors_as_400():
                partnership = partnership_update(
                    partnership=partnership,
                    changes=data.validated_data,
                    expected_version=expected,
                    current_version=current_version,
                    editor=request.user,
                )
        except StaleRecord:
            return self.stale_response(request, partnership)
        response = self.written(partnership)
        validators = view.detail_validators(request)
        return validators.apply(response) if validators is not None else response

    def stale_response(self, request: Request, partnership: Partnership) -> Response:
        """412 with the current version, the newest changes and where the whole history is."""
        view: Any = self
        validators = view.detail_validators(request)
        history = reverse("partnership-history", kwargs={"version": request.version, "slug": partnership.slug})
        body = {
            "errors": [
                {"code": PreconditionFailed.default_code, "detail": PreconditionFailed.default_detail, "attr": None}
            ],
            "current_etag": validators.etag if validators is not None else "",
            "last_modified": validators.last_modified if validators is not None else None,
            "history": request.build_absolute_uri(history),
            "recent_changes": record_history(partnership)[:STALE_RECENT_CHANGES],
        }
        response = Response(StaleRecordSerializer(body).data, status=status.HTTP_412_PRECONDITION_FAILED)
        return validators.apply(response) if validators is not None else response

    @extend_schema(
        summary="Add a claim to a partnership (editors)",
        request=ClaimWriteSerializer,
        responses={201: ClaimSerializer, **RECORD_WRITE_ERRORS},
        filters=False,
    )
    @action(detail=True, methods=["post"], url_path="claims", pagination_class=None, filterset_class=None)
    def add_claim(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partnership = self.fresh_object()
        data = ClaimWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with model_errors_as_400():
            claim = claim_add(record=partnership, **data.validated_data)
        return Response(ClaimSerializer(claim).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Attach a source to a partnership, creating the source if new (editors)",
        request=SourceWriteSerializer,
        responses={201: SourceBriefSerializer, **RECORD_WRITE_ERRORS},
        filters=False,
    )
    @action(detail=True, methods=["post"], url_path="sources", pagination_class=None, filterset_class=None)
    def add_source(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partnership = self.fresh_object()
        data = SourceWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        slug = values.pop("slug")
        source = Source.objects.filter(slug=slug).first()
        with model_errors_as_400(), transaction.atomic():
            if source is None:
                if not request.user.has_perm("provenance.add_source"):
                    raise exceptions.PermissionDenied("Creating a source needs the provenance.add_source permission.")
                source = source_upsert(slug=slug, **values)
            record_source_add(record=partnership, source=source)
        return Response(SourceBriefSerializer(source).data, status=status.HTTP_201_CREATED)
