"""URLs of the API: ``/api/v1/<resource>/`` and ``/api/v1/<resource>/<slug>/``, the schema and its docs.

Any other path under /api/ answers a JSON 404 (which points to the right address when only the trailing
slash is missing)."""

from __future__ import annotations

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from registry.api import docs, views
from registry.api.resources import cases, geography, legal, organisations, provenance, reference

router = DefaultRouter()
router.register("partnerships", views.PartnershipViewSet, basename="partnership")
router.register("regions", views.RegionViewSet, basename="region")
router.register("countries", views.CountryViewSet, basename="country")
router.register("focus-areas", views.FocusAreaViewSet, basename="focus-area")
router.register("ngos", organisations.NGOViewSet, basename="ngo")
router.register("police-departments", organisations.PoliceDepartmentViewSet, basename="police-department")
router.register("surveillance-practices", organisations.SurveillancePracticeViewSet, basename="surveillance-practice")
router.register(
    "accountability-mechanisms", organisations.AccountabilityMechanismViewSet, basename="accountability-mechanism"
)
router.register("jurisdictions", geography.JurisdictionViewSet, basename="jurisdiction")
router.register("legal-instruments", legal.LegalInstrumentViewSet, basename="legal-instrument")
router.register("oversight-bodies", legal.OversightBodyViewSet, basename="oversight-body")
router.register("cases", cases.OverreachCaseViewSet, basename="case")
router.register("sources", provenance.SourceViewSet, basename="source")
router.register("objectives", reference.ObjectiveViewSet, basename="objective")
router.register("challenges", reference.ChallengeViewSet, basename="challenge")
router.register("stakeholder-groups", reference.StakeholderGroupViewSet, basename="stakeholder-group")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start script as a file (?script=): no inline script (registry/csp.py).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    path(
        "redoc/", SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html"), name="api-redoc"
    ),
    path("redoc/redoc.standalone.js", docs.redoc_bundle, name="api-redoc-bundle"),
    *router.urls,
]

# Included by registry/urls.py under ^api/(?P<version>v1)/ ; everything else under api/ is a JSON 404.
not_found_patterns = [re_path(r"^api(?:/.*)?$", views.ApiNotFoundView.as_view(), name="api-not-found")]
