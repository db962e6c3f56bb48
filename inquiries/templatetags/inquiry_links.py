"""``{% request_link_url %}``: the address of the request form, naming the record of the page it is on.

On a record page (any URL listed in ``inquiries.records.KIND_OF_PAGE``) the form opens with that record filled in
(``/requests/new/?record=partnership:<slug>``); elsewhere it opens empty. No query: the page's URL says it all."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from inquiries.records import KIND_OF_PAGE, RecordKind

register = template.Library()


@register.simple_tag(takes_context=True)
def request_link_url(context: dict[str, Any]) -> str:
    url = reverse("inquiries:new")
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match is None:
        return url
    kind = KIND_OF_PAGE.get((match.namespace, match.url_name or ""))
    slug = match.kwargs.get("slug")
    if kind and slug:
        return f"{url}?{urlencode({'record': f'{kind}:{slug}'})}"
    return url


@register.simple_tag(takes_context=True)
def request_link_label(context: dict[str, Any]) -> str:
    match = getattr(context.get("request"), "resolver_match", None)
    kind = KIND_OF_PAGE.get((match.namespace, match.url_name or "")) if match else None
    if kind == RecordKind.PARTNERSHIP:
        return "Ask about this partnership or send a correction"
    if kind:
        return "Send a correction of this record"
    return "Ask for information or send a correction"
