"""The home page: what the registry is, its key figures and the partnerships it holds.

The full public website (filters, record pages, charts, map) is built on these querysets later."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cases.models import OverreachCase
from geography.models import Country
from legal.models import LegalInstrument
from partnerships.models import Partnership


def home(request: HttpRequest) -> HttpResponse:
    partnerships = Partnership.objects.public().with_related().with_disputed_flag().order_by("-updated_at", "-id")[:50]
    disputed = Partnership.objects.public().disputed()
    context = {
        "partnerships": partnerships,
        "figures": {
            "partnerships": Partnership.objects.public().count(),
            "countries": Country.objects.filter(jurisdictions__partnerships__is_published=True).distinct().count(),
            "cases": OverreachCase.objects.public().count(),
            "instruments": LegalInstrument.objects.public().count(),
            "disputed": disputed.count(),
        },
    }
    return render(request, "registry/home.html", context)
