"""Content negotiation: an unknown ``?format=`` is a 400 that names the parameter and the formats offered
(DRF's default answers 404, as if the resource did not exist)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import Http404
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer


class StrictFormatNegotiation(DefaultContentNegotiation):
    def filter_renderers(self, renderers: Sequence[BaseRenderer], format: str) -> Any:
        try:
            return super().filter_renderers(renderers, format)
        except Http404:
            offered = ", ".join(sorted({renderer.format for renderer in renderers if renderer.format}))
            message = f"Unknown format {format[:40]!r}: this endpoint offers {offered}."
            raise ValidationError({self.settings.URL_FORMAT_OVERRIDE: [ErrorDetail(message, code="invalid")]}) from None
