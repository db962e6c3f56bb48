"""Who may do what: anyone may read; writing needs the model permission (editors' tokens, a later step)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import DjangoModelPermissionsOrAnonReadOnly


class ModelPermissionsOrAnonReadOnly(DjangoModelPermissionsOrAnonReadOnly):
    """Reading is open to everyone. A method the view does not implement is let through so that the client
    gets 405 Method Not Allowed (with an Allow header), not a misleading 401/403."""

    def has_permission(self, request: Any, view: Any) -> bool:
        method = request.method.lower()
        if method not in view.http_method_names or not hasattr(view, method):
            return True
        return bool(super().has_permission(request, view))
