"""Public information requests and corrections, and the contact details of who sent them.

``InformationRequest`` is the public part: an unguessable reference (its status page's address), the kind, the
record it is about, the status and the public answer. Its history is tracked for those fields only: the subject and
message are the requester's own words and may hold personal data, so they are neither tracked nor shown publicly.

``Requester`` holds the contact details (name and e-mail, both optional). It is not tracked by history, its text
representation holds no personal data ("Requester #12", which is also what the admin log records), and its rows
are erased on demand or ``INQUIRY_RETENTION_DAYS`` after the request closed (``manage.py purge_requesters``)."""

from __future__ import annotations

import secrets
import string
from typing import Self

from django.db import models
from django.db.models import Q
from django.utils import timezone

from inquiries.records import RecordKind
from registry.constraints import choices_check
from registry.history import track_changes

REFERENCE_ALPHABET = string.ascii_lowercase + string.digits
REFERENCE_LENGTH = 16  # 36^16: about 82 bits, not guessable
REFERENCE_PATTERN = rf"^[a-z0-9]{{{REFERENCE_LENGTH}}}$"


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


class RequestKind(models.TextChoices):
    QUESTION = "question", "Question about a partnership"
    CORRECTION = "correction", "Correction of a record"


class RequestStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    UNDER_REVIEW = "under_review", "Under review"
    ANSWERED = "answered", "Answered"
    REFUSED = "refused", "Refused"
    WITHDRAWN = "withdrawn", "Withdrawn"


CLOSED_STATUSES = (RequestStatus.ANSWERED, RequestStatus.REFUSED, RequestStatus.WITHDRAWN)
# Status -> the statuses it may move to (inquiries/services.py enforces it). Closed requests stay closed.
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    RequestStatus.RECEIVED: (RequestStatus.UNDER_REVIEW, *CLOSED_STATUSES),
    RequestStatus.UNDER_REVIEW: CLOSED_STATUSES,
    RequestStatus.ANSWERED: (),
    RequestStatus.REFUSED: (),
    RequestStatus.WITHDRAWN: (),
}


class Requester(models.Model):
    """Who sent a request: contact details for the reply, visible to editors only. Never tracked by history."""

    name = models.CharField(max_length=200, blank=True, help_text="Name the requester gave (optional).")
    email = models.EmailField(max_length=254, blank=True, help_text="E-mail address for the reply (optional).")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the contact details were received.")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name="", email=""),
                name="inquiries_requester_has_contact",
                violation_error_message="A requester row holds a name or an e-mail address (or is not kept).",
            )
        ]

    def __str__(self) -> str:
        # No personal data: this is what the admin log and any error message show.
        return f"Requester #{self.pk}" if self.pk else "Requester (unsaved)"


class InformationRequestQuerySet(models.QuerySet["InformationRequest"]):
    def open(self) -> Self:
        return self.exclude(status__in=CLOSED_STATUSES)

    def closed(self) -> Self:
        return self.filter(status__in=CLOSED_STATUSES)

    def closed_before(self, moment: object) -> Self:
        return self.closed().filter(closed_at__lt=moment)

    def queue(self) -> Self:
        """The editors' queue: oldest first."""
        return self.order_by("received_at", "id")


@track_changes(exclude=["requester", "subject", "message"])  # the requester's own words may hold personal data
class InformationRequest(models.Model):
    """A question about a partnership or a correction of a record, sent by a member of the public."""

    reference = models.CharField(
        max_length=REFERENCE_LENGTH,
        unique=True,
        default=new_reference,
        editable=False,
        help_text="Random, unguessable public reference: the address of the request's status page.",
    )
    kind = models.CharField(
        max_length=20, choices=RequestKind.choices, help_text="A question about a partnership, or a correction."
    )
    record_kind = models.CharField(
        max_length=40,
        choices=RecordKind.choices,
        blank=True,
        null=True,
        help_text="Kind of the public record the request is about (empty: no particular record).",
    )
    record_id = models.BigIntegerField(
        blank=True, null=True, help_text="Id of the public record the request is about (with its kind)."
    )
    subject = models.CharField(
        max_length=200, blank=True, help_text="Subject line the requester wrote. Not public; erased with the requester."
    )
    message = models.TextField(
        blank=True, help_text="What the requester asked or corrected. Not public; erased with the requester."
    )
    status = models.CharField(
        max_length=20,
        choices=RequestStatus.choices,
        default=RequestStatus.RECEIVED,
        help_text="Where the request stands; shown on its public status page.",
    )
    public_answer = models.TextField(
        blank=True, help_text="The public part of the answer, shown on the status page (no personal data)."
    )
    received_at = models.DateTimeField(default=timezone.now, help_text="When the request was received.")
    closed_at = models.DateTimeField(
        blank=True, null=True, help_text="When the request was answered, refused or withdrawn."
    )
    erased_at = models.DateTimeField(
        blank=True,
        null=True,
        help_text="When the requester's contact details and words were erased (on demand or after retention).",
    )
    requester = models.ForeignKey(
        Requester,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
        help_text="Who sent it (contact details for the reply; empty when none were given or they were erased).",
    )

    objects = InformationRequestQuerySet.as_manager()

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["status", "received_at"], name="inquiries_status_received")]
        constraints = [
            choices_check("inquiries_request", "kind", list(RequestKind.values)),
            choices_check("inquiries_request", "status", list(RequestStatus.values)),
            models.CheckConstraint(
                condition=Q(record_kind__isnull=True) | Q(record_kind__in=list(RecordKind.values)),
                name="inquiries_request_record_kind_valid",
                violation_error_message=f"The record kind must be one of: {', '.join(RecordKind.values)}.",
            ),
            models.CheckConstraint(
                condition=Q(reference__regex=REFERENCE_PATTERN),
                name="inquiries_request_reference_format",
                violation_error_message=f"A reference is {REFERENCE_LENGTH} lowercase letters and digits.",
            ),
            models.CheckConstraint(
                condition=Q(record_kind__isnull=True, record_id__isnull=True)
                | Q(record_kind__isnull=False, record_id__isnull=False),
                name="inquiries_request_record_complete",
                violation_error_message="A record is named by both its kind and its id, or not at all.",
            ),
            models.CheckConstraint(
                # "IS NOT NULL" too: a question naming no record would make the comparison NULL, which a check passes.
                condition=~Q(kind=RequestKind.QUESTION)
                | Q(record_kind__isnull=False, record_kind=RecordKind.PARTNERSHIP),
                name="inquiries_request_question_about_partnership",
                violation_error_message="A question is about a partnership.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=CLOSED_STATUSES, closed_at__isnull=False)
                | (~Q(status__in=CLOSED_STATUSES) & Q(closed_at__isnull=True)),
                name="inquiries_request_closed_at_iff_closed",
                violation_error_message="A request has a closing time exactly when answered, refused or withdrawn.",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=models.F("received_at")),
                name="inquiries_request_closed_after_received",
                violation_error_message="A request cannot close before it was received.",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[RequestStatus.ANSWERED, RequestStatus.REFUSED]) | ~Q(public_answer=""),
                name="inquiries_request_answer_when_answered",
                violation_error_message="An answered or refused request needs a public answer (or reason).",
            ),
            models.CheckConstraint(
                condition=Q(erased_at__isnull=True) | Q(requester__isnull=True, subject="", message=""),
                name="inquiries_request_erased_means_empty",
                violation_error_message="An erased request keeps no requester, subject or message.",
            ),
        ]

    def __str__(self) -> str:
        # No personal data (this is the admin log's object_repr): the public reference only.
        return f"Request {self.reference}"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    def allowed_next_statuses(self) -> tuple[str, ...]:
        return ALLOWED_TRANSITIONS[self.status]
