"""The OpenAPI schema generator of the API: drf-spectacular's, with reads open to anyone declared as such."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import SAFE_METHODS

from registry.api.permissions import ModelPermissionsOrAnonReadOnly


class RegistryAutoSchema(AutoSchema):
    """A read that anyone may make declares no security requirement. (drf-spectacular recognises only AllowAny
    and IsAuthenticatedOrReadOnly as open, so every read was documented as needing a token, and generated
    clients typed every read as needing an authenticated client.)"""

    def get_auth(self) -> list[dict[str, Any]]:
        auths: list[dict[str, Any]] = super().get_auth()  # also registers the security schemes
        permissions = self.view.get_permissions()
        if self.method in SAFE_METHODS and any(isinstance(p, ModelPermissionsOrAnonReadOnly) for p in permissions):
            return []
        return auths
