"""Public pages of information requests: the form, and each request's status page."""

from django.urls import URLPattern, path

from inquiries import views

urlpatterns: list[URLPattern] = [
    path("new/", views.request_new, name="new"),
    path("<str:reference>/", views.request_status, name="status"),
]
