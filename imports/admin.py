"""Import and export in the admin.

``ImportExportMixin`` adds "Import" and "Export CSV / XLSX / JSON" buttons to a changelist of an importable model
(see ``imports.specs.SPECS``): upload a file (dry run ticked by default) -> a report per row -> "Apply this
import", which re-reads the uploaded file kept on the server (checked against its SHA-256), validates every row
again and writes all or nothing. Importing needs the add and change permissions; exporting the view permission,
and honours the changelist's current filters and search."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from imports.formats import EXPORT_FORMATS, FORMATS, max_file_bytes
from imports.models import ImportBatch, ImportUpload
from imports.services import (
    CONTENT_TYPES,
    FILE_EXTENSIONS,
    ImportReport,
    export_stream,
    import_run,
    read_upload,
    records_export,
)
from imports.specs import ModelSpec, spec_for_model

EXPORT_PARAMETER = "export_format"
REPORT_ROW_LIMIT = 1000  # rows listed on the report page (the counts cover them all)
UPLOAD_KEEP = timedelta(days=1)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV (UTF-8), XLSX, or JSON (an array of objects, or JSON Lines).")
    format = forms.ChoiceField(
        choices=[("", "From the file name"), *[(kind, kind.upper()) for kind in FORMATS]],
        required=False,
        help_text="Leave as is unless the file name has no .csv, .xlsx or .json ending.",
    )
    dry_run = forms.BooleanField(
        initial=True,
        required=False,
        label="Dry run",
        help_text="Only report what would change. You can then apply the import from the report.",
    )


class ImportExportMixin(admin.ModelAdmin):
    change_list_template = "admin/imports/change_list.html"

    @property
    def import_spec(self) -> ModelSpec:
        spec = spec_for_model(self.model)
        if spec is None:
            raise ImproperlyConfigured(f"{self.model.__name__} cannot be imported (not in imports.specs.SPECS).")
        return spec

    def _url_name(self, action: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{action}"

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name=self._url_name("import")),
            # <id>: the dry run's ImportBatch (named like the admin's own <id> routes, which tests/test_deploy.py fills)
            path("import/<int:id>/apply/", wrap(self.import_apply_view), name=self._url_name("import_apply")),
            path("export/", wrap(self.export_view), name=self._url_name("export")),
            *super().get_urls(),
        ]

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = dict(extra_context or {})
        if self.has_import_permission(request):
            context["import_url"] = reverse(f"admin:{self._url_name('import')}")
        export_url = reverse(f"admin:{self._url_name('export')}")
        query = request.GET.copy()
        links = []
        for kind in ("csv", "xlsx", "json"):
            query[EXPORT_PARAMETER] = kind
            links.append((kind.upper(), f"{export_url}?{query.urlencode()}"))
        context["export_links"] = links
        # The changelist template of the next admin class (e.g. the conflict guard's) stays the one extended.
        context["imports_base_change_list"] = super().change_list_template or "admin/change_list.html"
        return super().changelist_view(request, extra_context=context)

    # --- Import ----------------------------------------------------------------------------------------------

    def _import_context(self, request: HttpRequest, **values: Any) -> dict[str, Any]:
        spec = self.import_spec
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "spec": spec,
            "title": f"Import {spec.label}",
            "columns": spec.columns,
            "read_only_columns": (*spec.read_only, *spec.accepted),
            "max_file_bytes": max_file_bytes(),
            "changelist_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"),
            "import_url": reverse(f"admin:{self._url_name('import')}"),
            **values,
        }

    def _report_response(self, request: HttpRequest, report: ImportReport, *, applied: bool) -> TemplateResponse:
        apply_url = ""
        if report.dry_run and report.ok and report.batch_id and (report.created or report.updated):
            apply_url = reverse(f"admin:{self._url_name('import_apply')}", args=[report.batch_id])
        listed = report.changes[:REPORT_ROW_LIMIT]
        context = self._import_context(
            request,
            title=f"Import report: {report.filename}",
            report=report,
            listed_rows=listed,
            unlisted=len(report.changes) - len(listed),
            apply_url=apply_url,
            applied=applied,
        )
        status = 200 if report.ok else 422
        return TemplateResponse(request, "admin/imports/report.html", context, status=status)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            content = read_upload(upload)
            report = import_run(
                file=content,
                filename=upload.name or "upload",
                model=self.import_spec.key,
                dry_run=form.cleaned_data["dry_run"],
                editor=request.user,
                format=form.cleaned_data["format"] or None,
                origin=request.path,
            )
            if report.dry_run and report.ok and report.batch_id and (report.created or report.updated):
                ImportUpload.objects.filter(created_at__lt=timezone.now() - UPLOAD_KEEP).delete()
                ImportUpload.objects.create(batch_id=report.batch_id, content=content)
            return self._report_response(request, report, applied=not report.dry_run)
        status = 400 if request.method == "POST" else 200
        return TemplateResponse(
            request, "admin/imports/upload.html", self._import_context(request, form=form), status=status
        )

    def import_apply_view(self, request: HttpRequest, id: int) -> HttpResponse:
        batch_id = id
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        spec = self.import_spec
        with transaction.atomic():
            batch = (
                ImportBatch.objects.applicable()
                .select_for_update(of=("self",))
                .select_related("upload")
                .filter(pk=batch_id, model=spec.key)
                .first()
            )
            if batch is None:
                messages.error(
                    request,
                    "This dry run cannot be applied: it was already applied, it had rejected rows, or its file "
                    "is no longer kept. Upload the file again.",
                )
                return redirect(f"admin:{self._url_name('import')}")
            content = bytes(batch.upload.content)
            if request.POST.get("sha256") != batch.sha256:
                messages.error(request, "The file to apply is not the one in the report. Upload it again.")
                return redirect(f"admin:{self._url_name('import')}")
            report = import_run(
                file=content,
                filename=batch.filename,
                model=spec.key,
                dry_run=False,
                editor=request.user,
                format=batch.format,
                origin=request.path,
            )
            if report.written or report.ok:
                batch.applied_batch_id = report.batch_id
                batch.save(update_fields=["applied_batch"])
                ImportUpload.objects.filter(batch=batch).delete()
        return self._report_response(request, report, applied=True)

    # --- Export ----------------------------------------------------------------------------------------------

    def export_view(self, request: HttpRequest) -> HttpResponseBase:
        if not self.has_view_permission(request):
            raise PermissionDenied
        kind = request.GET.get(EXPORT_PARAMETER, "csv")
        if kind not in EXPORT_FORMATS:
            return HttpResponseBadRequest(
                f"Unknown export format {kind!r}: use one of {', '.join(EXPORT_FORMATS)}.", content_type="text/plain"
            )
        query = request.GET.copy()
        query.pop(EXPORT_PARAMETER, None)
        request.GET = query  # type: ignore[assignment]  # the changelist refuses parameters it does not know
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("The filters of this export are not valid.", content_type="text/plain")
        spec = self.import_spec
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        filename = f"{spec.model._meta.model_name}-{stamp}.{FILE_EXTENSIONS[kind]}"
        if kind == "xlsx":
            output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
            records_export(model=spec.key, format=kind, output=output, queryset=queryset)
            output.seek(0)
            return FileResponse(output, as_attachment=True, filename=filename, content_type=CONTENT_TYPES[kind])
        response = StreamingHttpResponse(
            export_stream(model=spec.key, format=kind, queryset=queryset), content_type=CONTENT_TYPES[kind]
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """The record of every import run. Read-only: batches are written by the import alone."""

    list_display = [
        "id",
        "model",
        "filename",
        "format",
        "dry_run",
        "status",
        "rows_total",
        "rows_created",
        "rows_updated",
        "rows_unchanged",
        "rows_rejected",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "dry_run", "model", "format"]
    list_select_related = ["created_by"]
    search_fields = ["filename", "sha256"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).defer("problems")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
