"""Test-only helpers: a tiny URLconf whose view writes a record while serving a request (for history context
tests that must not depend on the admin), a builder of an admin change form's POST data, and a database server
that cannot be reached (``unreachable_database``) or never answers (``silent_server``)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.views.decorators.http import require_POST

from provenance.models import Source


@require_POST
def source_retitle(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename a source with a plain ``save()``, as an editor's form would."""
    source = get_object_or_404(Source, pk=pk)
    source.title = request.POST["title"]
    source.save()
    return HttpResponse(status=204)


urlpatterns = [path("test-only/source/<int:pk>/retitle/", source_retitle, name="test-source-retitle")]


def admin_change_form_data(response: Any, **changes: Any) -> dict[str, Any]:
    """The POST data an editor's browser would send back unchanged from an admin change page (a test client
    response, which carries the template context), plus ``changes``.

    Walks the main form and every inline formset (management form included), so the test does not have to
    know which fields and inlines the ModelAdmin shows."""
    assert response.context_data is not None
    forms = [response.context_data["adminform"].form]
    for inline in response.context_data.get("inline_admin_formsets", []):
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    data: dict[str, Any] = {}
    for form in forms:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue  # unset fields and unticked checkboxes are absent from a real POST
            if isinstance(value, list | tuple):
                data[bound.html_name] = [str(v) for v in value]
            else:
                data[bound.html_name] = str(value)
    data.update(changes)
    return data


@contextmanager
def silent_server() -> Iterator[int]:
    """A loopback port that accepts TCP connections and never says a word (a hung database server)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once (a database server that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def unreachable_database(alias: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """While inside, connection ``alias`` points at a closed port, as if its server were down; afterwards it is
    restored. Use with the transactional database (``transactional_db``): the open connection is closed."""
    connection = connections[alias]
    saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT")}
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)
