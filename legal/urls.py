from django.urls import path

from legal import views

urlpatterns = [
    path("", views.index, name="index"),
    path("jurisdictions/<slug:slug>/", views.jurisdiction, name="jurisdiction"),
    path("instruments/<slug:slug>/", views.instrument, name="instrument"),
    path("oversight-bodies/<slug:slug>/", views.oversight_body, name="oversight_body"),
]
