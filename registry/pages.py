"""Helpers shared by the public HTML pages of every app."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import BadRequest
from django.db import models
from django.http import HttpRequest, QueryDict

from registry.citation import cite
from registry.presentation import claims_by_field, history_entries


def record_context(
    request: HttpRequest, record: models.Model, *, title: str, kind: str, api_url: str
) -> dict[str, Any]:
    """What includes/record_footer.html needs: the record's claims per field, its sources, its history, its
    citation and its API address. ``record`` has ``claims`` (with ``source``) and ``sources`` prefetched
    (a Source, which has neither, gets empty claims and sources)."""
    fields = claims_by_field(record) if hasattr(record, "claims") else []
    return {
        "fields": fields,
        "disputed_fields": [claimed for claimed in fields if claimed.disputed],
        "sources": list(record.sources.all()) if hasattr(record, "sources") else [],
        "history": history_entries(record),
        "citation": cite(request, title=title, path=request.path, updated_at=record.updated_at, kind=kind),  # type: ignore[attr-defined]
        "api_url": api_url,
    }


class BadQuery(BadRequest):
    """A page's query string is wrong: answered 400 with ``problems`` (parameter -> messages) shown."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{name}: {' '.join(messages)}" for name, messages in problems.items()))
        self.problems = problems


def query_problems(request: HttpRequest, allowed: set[str]) -> dict[str, list[str]]:
    """The same rules as the API's StrictFilterBackend: unknown, empty, repeated or NUL-bearing parameters."""
    problems: dict[str, list[str]] = {}
    for name, values in request.GET.lists():
        shown = name.replace("\x00", "\\x00")[:60]
        if "\x00" in name or name not in allowed:
            problems.setdefault(shown, []).append(f"Unknown parameter. Allowed here: {', '.join(sorted(allowed))}.")
        elif any("\x00" in value for value in values):
            problems.setdefault(shown, []).append("Values cannot contain NUL characters.")
        elif len(values) > 1 and not name.endswith("[]"):
            problems.setdefault(shown, []).append("Given more than once.")
    return problems


def refuse_unknown_parameters(request: HttpRequest, *allowed: str) -> None:
    """A page without a FilterSet: any query parameter but ``allowed`` is a 400 naming it, as on the API."""
    problems = query_problems(request, set(allowed))
    if problems:
        raise BadQuery(problems)


def clean_query(data: QueryDict, *, drop: tuple[str, ...] = ()) -> str:
    """The query string of the non-empty parameters (an HTML form sends every field), without ``drop``."""
    kept = QueryDict(mutable=True)
    for name, values in data.lists():
        if name in drop:
            continue
        for value in values:
            if value != "":
                kept.appendlist(name, value)
    return kept.urlencode()


def filter_or_400(
    request: HttpRequest, filterset_class: Any, queryset: models.QuerySet[Any], *, extra: tuple[str, ...] = ()
) -> Any:
    """The bound FilterSet (the same class the API uses) over ``queryset``; raises BadQuery when a parameter is
    unknown or invalid. Empty values are ignored (an HTML form sends every field), unlike in the API."""
    allowed = set(filterset_class.base_filters) | set(extra)
    problems = query_problems(request, allowed)
    data = request.GET.copy()
    for name in list(data):
        if data.get(name) == "":
            del data[name]
    filterset = filterset_class(data=data, queryset=queryset, request=request)
    if not problems and not filterset.is_valid():
        problems = {name: [str(message) for message in messages] for name, messages in filterset.errors.items()}
    if problems:
        raise BadQuery(problems)
    return filterset
