"""Writes about information requests: typed, keyword-only services that the form, the admin and the commands use.

Every service runs in one transaction. Status changes follow ``ALLOWED_TRANSITIONS`` (a closed request stays
closed). Erasing a requester deletes their contact row and empties the subject and message of their requests
(the requester's own words), keeping the public part; history records only that the request was erased
(``erased_at``), never what was erased."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import pghistory
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from inquiries.models import (
    ALLOWED_TRANSITIONS,
    CLOSED_STATUSES,
    InformationRequest,
    Requester,
    RequestKind,
    RequestStatus,
)
from inquiries.records import PublicRecordRef, RecordKind


class InvalidTransition(ValidationError):
    """The request cannot move from its status to the one asked for."""

    def __init__(self, *, current: str, target: str) -> None:
        allowed = ", ".join(RequestStatus(s).label.lower() for s in ALLOWED_TRANSITIONS[current]) or "none (closed)"
        super().__init__(
            f"A request that is {RequestStatus(current).label.lower()} cannot become "
            f"{RequestStatus(target).label.lower()}; allowed: {allowed}.",
            code="invalid_transition",
        )
        self.current = current
        self.target = target


def _editor_context(editor: AbstractBaseUser | AnonymousUser | None) -> Any:
    user_id = getattr(editor, "pk", None)
    return pghistory.context(user=user_id) if user_id is not None else nullcontext()


def information_request_submit(
    *,
    kind: str,
    record: PublicRecordRef | None,
    subject: str,
    message: str,
    name: str = "",
    email: str = "",
) -> InformationRequest:
    """Store a request from the public, with a requester row only when a name or an e-mail was given."""
    if kind == RequestKind.QUESTION and (record is None or record.kind != RecordKind.PARTNERSHIP):
        raise ValidationError({"record": "A question is about a partnership: choose one."}, code="question_record")
    name, email = name.strip(), email.strip()
    with transaction.atomic():
        requester = None
        if name or email:
            requester = Requester(name=name, email=email)
            requester.full_clean()
            requester.save()
        request = InformationRequest(
            kind=kind,
            record_kind=record.kind if record else None,
            record_id=record.pk if record else None,
            subject=subject.strip(),
            message=message.strip(),
            requester=requester,
        )
        request.full_clean(exclude=["requester"])
        request.save()
    return request


def information_request_update(
    *,
    information_request: InformationRequest,
    status: str,
    public_answer: str,
    editor: AbstractBaseUser | AnonymousUser | None = None,
) -> InformationRequest:
    """Move the request to ``status`` (an allowed transition, or the same status) and set its public answer.
    Raises ``InvalidTransition`` or ``ValidationError``; nothing is written then."""
    with transaction.atomic(), _editor_context(editor):
        current = InformationRequest.objects.select_for_update().get(pk=information_request.pk)
        if status != current.status and status not in ALLOWED_TRANSITIONS[current.status]:
            raise InvalidTransition(current=current.status, target=status)
        if current.is_closed and public_answer.strip() != current.public_answer:
            raise ValidationError(
                {"public_answer": "A closed request's public answer is final."}, code="closed_answer_final"
            )
        current.status = status
        current.public_answer = public_answer.strip()
        if status in CLOSED_STATUSES and current.closed_at is None:
            current.closed_at = timezone.now()
        current.full_clean(exclude=["requester"])
        current.save(update_fields=["status", "public_answer", "closed_at"])
    information_request.status = current.status
    information_request.public_answer = current.public_answer
    information_request.closed_at = current.closed_at
    return current


def requesters_matching(requesters: Iterable[Requester]) -> list[Requester]:
    """The given requester rows and every other row with one of their e-mail addresses (case-insensitive): all
    that is held about the same person."""
    rows = list(requesters)
    emails = {r.email.lower() for r in rows if r.email}
    ids = {r.pk for r in rows}
    more = []
    if emails:
        from django.db.models import Q

        condition = Q()
        for email in emails:
            condition |= Q(email__iexact=email)
        more = list(Requester.objects.filter(condition).exclude(pk__in=ids))
    return sorted([*rows, *more], key=lambda r: r.pk)


def requester_export(*, requesters: Iterable[Requester]) -> dict[str, Any]:
    """Everything held about the requester(s): their contact rows and their requests, as JSON-ready data."""
    rows = requesters_matching(requesters)
    requests = InformationRequest.objects.filter(requester__in=rows).order_by("received_at", "id")
    by_requester: dict[int, list[dict[str, Any]]] = {r.pk: [] for r in rows}
    for request in requests:
        by_requester[request.requester_id].append(  # type: ignore[index]
            {
                "reference": request.reference,
                "kind": request.kind,
                "record_kind": request.record_kind,
                "record_id": request.record_id,
                "subject": request.subject,
                "message": request.message,
                "status": request.status,
                "public_answer": request.public_answer,
                "received_at": request.received_at.isoformat(),
                "closed_at": request.closed_at.isoformat() if request.closed_at else None,
            }
        )
    return {
        "exported_at": timezone.now().isoformat(),
        "requesters": [
            {
                "id": r.pk,
                "name": r.name,
                "email": r.email,
                "created_at": r.created_at.isoformat(),
                "requests": by_requester[r.pk],
            }
            for r in rows
        ],
    }


@dataclass(frozen=True)
class Erasure:
    requesters: int
    requests: int


def _erase(requester_ids: list[int], *, now: datetime.datetime) -> Erasure:
    requests = InformationRequest.objects.filter(requester_id__in=requester_ids).update(
        requester=None, subject="", message="", erased_at=now
    )
    deleted, _ = Requester.objects.filter(pk__in=requester_ids).delete()
    return Erasure(requesters=deleted, requests=requests)


def requester_erase(
    *, requesters: Iterable[Requester], editor: AbstractBaseUser | AnonymousUser | None = None
) -> Erasure:
    """Erase the requester(s) (and every row with the same e-mail): contact rows deleted, their requests' words
    emptied; the requests' public part stays. History records that the requests were erased, not what."""
    rows = requesters_matching(requesters)
    with transaction.atomic(), _editor_context(editor):
        return _erase([r.pk for r in rows], now=timezone.now())


def requesters_purge(*, closed_before: datetime.datetime, dry_run: bool = False) -> Erasure:
    """Erase what is held about the senders of requests closed before ``closed_before`` (the retention period):
    their requester rows, and the subject and message of those requests (also when no contact was given). A
    requester with another request still open, or closed more recently, is kept until that one is due too; a
    requester row without any request is erased once it is older than the retention period."""
    due_requests = InformationRequest.objects.closed_before(closed_before)
    due = set(due_requests.filter(requester__isnull=False).values_list("requester_id", flat=True))
    not_due = set(
        InformationRequest.objects.filter(requester_id__in=due)
        .exclude(pk__in=due_requests.values("pk"))
        .values_list("requester_id", flat=True)
    )
    # A requester row left without any request (its request deleted by hand) is due once it is as old.
    orphans = set(
        Requester.objects.filter(requests__isnull=True, created_at__lt=closed_before).values_list("pk", flat=True)
    )
    ids = sorted((due - not_due) | orphans)
    anonymous = due_requests.filter(requester__isnull=True, erased_at__isnull=True)
    if dry_run:
        count = InformationRequest.objects.filter(requester_id__in=ids).count() + anonymous.count()
        return Erasure(requesters=len(ids), requests=count)
    now = timezone.now()
    with transaction.atomic():
        erased = _erase(ids, now=now)
        words = anonymous.update(subject="", message="", erased_at=now)
    return Erasure(requesters=erased.requesters, requests=erased.requests + words)
