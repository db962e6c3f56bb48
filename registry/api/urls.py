"""URLs of the API: ``/api/v1/<resource>/`` and ``/api/v1/<resource>/<slug>/``, the schema and its docs.

Any other path under /api/ answers a JSON 404 (which points to the right address when only the trailing
slash is missing)."""

from __future__ import annotations

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from registry.api import views

router = DefaultRouter()
router.register("partnerships", views.PartnershipViewSet, basename="partnership")
router.register("regions", views.RegionViewSet, basename="region")
router.register("countries", views.CountryViewSet, basename="country")
router.register("focus-areas", views.FocusAreaViewSet, basename="focus-area")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "redoc/", SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html"), name="api-redoc"
    ),
    *router.urls,
]

# Included by registry/urls.py under ^api/(?P<version>v1)/ ; everything else under api/ is a JSON 404.
not_found_patterns = [re_path(r"^api(?:/.*)?$", views.ApiNotFoundView.as_view(), name="api-not-found")]
