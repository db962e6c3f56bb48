from django.contrib import admin
from django.urls import include, path, re_path

from cases import urls as case_urls
from geography import urls as geography_urls
from inquiries import urls as inquiry_urls
from legal import urls as legal_urls
from partnerships import entity_urls
from partnerships import urls as partnership_urls
from provenance import urls as source_urls
from registry import feeds, health, views
from registry.api import urls as api_urls

admin.site.site_header = "Partnership Registry — editors"
admin.site.site_title = "Partnership Registry admin"
admin.site.index_title = "Curate the registry"

# Public pages: each app's own URLs, under a namespace named after its address.
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),  # for load balancers and monitors (registry/health.py)
    path("partnerships/", include((partnership_urls.urlpatterns, "partnerships"))),
    path("ngos/", include((entity_urls.ngo_urls, "ngos"))),
    path("police-departments/", include((entity_urls.police_department_urls, "police_departments"))),
    path("focus-areas/", include((entity_urls.focus_area_urls, "focus_areas"))),
    path("surveillance-practices/", include((entity_urls.surveillance_practice_urls, "surveillance_practices"))),
    path("sources/", include((source_urls.urlpatterns, "sources"))),
    path("legal/", include((legal_urls.urlpatterns, "legal"))),
    path("cases/", include((case_urls.urlpatterns, "cases"))),
    path("map/", include(geography_urls.map_urls)),
    path("feeds/", include((feeds.urlpatterns, "feeds"))),
    path("requests/", include((inquiry_urls.urlpatterns, "inquiries"))),
    path("admin/", admin.site.urls),
    re_path(r"^api/(?P<version>v1)/", include(api_urls)),
    *api_urls.not_found_patterns,
]

handler404 = "registry.views.page_not_found"
handler500 = "registry.views.server_error"
handler400 = "registry.views.bad_request"
