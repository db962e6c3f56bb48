"""Editors' token authentication: DRF's ``TokenAuthentication``, refusing malformed keys before any query.

DRF's keys are 40 hexadecimal characters. Anything else (a NUL byte, which PostgreSQL cannot compare and
would turn into a 500; an over-long string) answers 401 like any other invalid token."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

TOKEN_KEY = re.compile(r"[0-9a-fA-F]{40}")


class RegistryTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> Any:
        if not TOKEN_KEY.fullmatch(key):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(key)
