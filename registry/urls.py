from django.contrib import admin
from django.urls import path

from registry import views

admin.site.site_header = "Partnership Registry — editors"
admin.site.site_title = "Partnership Registry admin"
admin.site.index_title = "Curate the registry"

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
]
