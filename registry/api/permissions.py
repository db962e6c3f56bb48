"""Who may do what: anyone may read; writing needs the model permission (editors' tokens, a later step)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissionsOrAnonReadOnly


class ModelPermissionsOrAnonReadOnly(DjangoModelPermissionsOrAnonReadOnly):
    """Reading is open to everyone. A method the view does not implement is let through so that the client
    gets 405 Method Not Allowed (with an Allow header), not a misleading 401/403."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            # DRF's answer for a read is always yes (no permission is required), but it builds the view's whole
            # queryset to find the model first: 1.7 ms of every read, cached ones included.
            return True
        method = request.method.lower()
        if method not in view.http_method_names or not hasattr(view, method):
            return True
        return bool(super().has_permission(request, view))
