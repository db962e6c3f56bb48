"""The Groups admin shows what each editorial role may do (accounts.roles)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group

from accounts.roles import ROLE_DESCRIPTIONS

admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(GroupAdmin):
    list_display = ["name", "role"]
    readonly_fields = ["role"]
    fields = ["name", "role", "permissions"]

    @admin.display(description="what the role may do")
    def role(self, obj: Any) -> str:
        return ROLE_DESCRIPTIONS.get(getattr(obj, "name", ""), "Not an editorial role: only the permissions below.")
