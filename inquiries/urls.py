"""Public pages of information requests: the form, and each request's status page."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
