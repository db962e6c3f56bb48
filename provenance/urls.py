"""Public pages of sources: the list and a page per source with what it supports (namespace sources)."""

from django.urls import path

from provenance import views

urlpatterns = [
    path("", views.source_list, name="list"),
    path("<slug:slug>/", views.source_detail, name="detail"),
]
