from django.contrib import admin
from django.urls import include, path, re_path

from registry import views
from registry.api import urls as api_urls

admin.site.site_header = "Partnership Registry — editors"
admin.site.site_title = "Partnership Registry admin"
admin.site.index_title = "Curate the registry"

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    re_path(r"^api/(?P<version>v1)/", include(api_urls)),
    *api_urls.not_found_patterns,
]
