"""The home page: what the registry is, its key figures and the partnerships it holds.

The full public website (filters, record pages, charts, map) is built on these querysets later."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cases.models import OverreachCase
from geography.models import Country
from legal.models import LegalInstrument
from partnerships.models import Partnership
from provenance.models import VerificationStatus


def home(request: HttpRequest) -> HttpResponse:
    partnerships = Partnership.objects.public().with_related().with_disputed_flag().order_by("-updated_at", "-id")[:50]
    context = {
        "partnerships": partnerships,
        "figures": {
            "partnerships": Partnership.objects.public().count(),
            # One EXISTS per country (a few hundred), not a join over every partnership.
            "countries": Country.objects.filter(
                Exists(Partnership.objects.public().filter(jurisdiction__country=OuterRef("pk")))
            ).count(),
            "cases": OverreachCase.objects.public().count(),
            "instruments": LegalInstrument.objects.public().count(),
            # The stored status follows the claims (provenance.services), and is indexed.
            "disputed": Partnership.objects.public().with_status(VerificationStatus.DISPUTED).count(),
        },
    }
    return render(request, "registry/home.html", context)
