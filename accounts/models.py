"""Editorial permissions that belong to no single model.

``Editorial`` has no table (``managed = False`` and nothing ever queries it): it only carries the two
permissions that the roles hand out, so that ``user.has_perm("accounts.verify_record")`` works like any
other permission and an administrator can also grant them to one user directly.
"""

from django.db import models


class Editorial(models.Model):
    """Holder of the editorial permissions; never stored."""

    id = models.AutoField(primary_key=True, help_text="Unused: the model has no table.")

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("verify_record", "Can verify a record: publish and unpublish it"),
            ("resolve_dispute", "Can resolve a dispute between claims"),
        ]
        verbose_name = "editorial permission"
        verbose_name_plural = "editorial permissions"

    def __str__(self) -> str:
        return "editorial permissions"
