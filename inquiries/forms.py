"""The public request form: what is asked, about which record, optional contact details, and its protections
(a honeypot field and a signed start time, see inquiries/protection.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.urls import Resolver404, resolve

from inquiries.models import RequestKind
from inquiries.protection import StartedTokenError, seconds_since_started, started_token
from inquiries.records import KIND_OF_PAGE, PublicRecordRef, RecordKind, find_public_record, parse_record_token

HONEYPOT_FIELD = "website"


def parse_record_reference(value: str) -> tuple[str, str] | None:
    """A record named as ``kind:slug`` or by the address of its page on this site (path or full URL)."""
    value = value.strip()
    token = parse_record_token(value)
    if token is not None:
        return token
    path = urlsplit(value).path
    if not path.startswith("/"):
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return None
    kind = KIND_OF_PAGE.get((match.namespace, match.url_name or ""))
    slug = match.kwargs.get("slug")
    return (kind, slug) if kind and slug else None


class InformationRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label="What do you want to send?",
        choices=RequestKind.choices,
        widget=forms.RadioSelect,
        initial=RequestKind.QUESTION,
    )
    record = forms.CharField(
        label="The record it is about",
        required=False,
        max_length=500,
        help_text=(
            "The address of the record's page on this site (for a question: a partnership's page). Filled in when "
            "you came from a record's page. For a correction it may stay empty."
        ),
    )
    subject = forms.CharField(label="Subject", max_length=200)
    message = forms.CharField(
        label="Your question or correction",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="For a correction, please name your source. Only the registry's editors read this.",
    )
    name = forms.CharField(
        label="Your name (optional)",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Your e-mail address (optional, for a reply)",
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    # The honeypot: hidden from people by CSS (static/css/inquiries.css), left out of the tab order.
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    started = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("started", started_token())
        self.record_ref: PublicRecordRef | None = None

    @property
    def is_honeypot_filled(self) -> bool:
        return bool(self.data.get(HONEYPOT_FIELD, "").strip())

    def clean_started(self) -> str:
        token = self.cleaned_data["started"]
        try:
            elapsed = seconds_since_started(token)
        except StartedTokenError:
            # A fresh token, so that the next submission of this form can succeed.
            self.data = {**self.data, "started": started_token()}
            raise forms.ValidationError(
                "This form is too old or was altered. Please check your text and send it again.", code="started"
            ) from None
        minimum = settings.INQUIRY_MIN_FILL_SECONDS
        if elapsed < minimum:
            raise forms.ValidationError(
                f"The form was sent within {minimum} seconds of opening it, which is how automated spam behaves. "
                "Please check your text and send it again.",
                code="too_fast",
            )
        return token

    def clean_record(self) -> str:
        value = self.cleaned_data["record"].strip()
        if not value:
            return ""
        parsed = parse_record_reference(value)
        ref = find_public_record(*parsed) if parsed else None
        if ref is None:
            raise forms.ValidationError(
                "No published record has this address. Copy the address of the record's page on this site.",
                code="unknown_record",
            )
        self.record_ref = ref
        return ref.token

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        question = data.get("kind") == RequestKind.QUESTION and "record" in data
        if question and (self.record_ref is None or self.record_ref.kind != RecordKind.PARTNERSHIP):
            self.add_error("record", "A question is about a partnership: give the address of its page.")
        return data
