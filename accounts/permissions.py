"""The editorial permissions, by name, and the one check every write path shares.

``accounts.verify_record`` is needed to publish a record (``is_published`` from false to true) or to unpublish
it: in the admin (change form, list_editable, the publish/unpublish actions) and in the API. Editors save drafts;
reviewers verify and publish. ``accounts.resolve_dispute`` is needed to resolve a dispute between claims.
"""

from __future__ import annotations

from typing import Any

VERIFY_RECORD = "accounts.verify_record"
RESOLVE_DISPUTE = "accounts.resolve_dispute"

PUBLISH_REFUSED = (
    "Publishing or unpublishing a record needs the permission to verify records (accounts.verify_record, "
    "given by the Reviewers and Administrators roles). Save the record as a draft; a reviewer publishes it."
)


def can_publish(user: Any) -> bool:
    """May this user publish or unpublish a record? (Superusers may; inactive users may not.)"""
    return bool(user is not None and user.is_authenticated and user.has_perm(VERIFY_RECORD))


def can_resolve_disputes(user: Any) -> bool:
    """May this user choose the value of a disputed field?"""
    return bool(user is not None and user.is_authenticated and user.has_perm(RESOLVE_DISPUTE))
