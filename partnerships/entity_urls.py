"""Public pages of NGOs, police departments, focus areas and surveillance practices: a list and a record page
each (namespaces ngos, police_departments, focus_areas, surveillance_practices in registry/urls.py)."""

from django.urls import path

from partnerships import entity_views as views

ngo_urls = [
    path("", views.ngo_list, name="list"),
    path("<slug:slug>/", views.ngo_detail, name="detail"),
]
police_department_urls = [
    path("", views.police_department_list, name="list"),
    path("<slug:slug>/", views.police_department_detail, name="detail"),
]
focus_area_urls = [
    path("", views.focus_area_list, name="list"),
    path("<slug:slug>/", views.focus_area_detail, name="detail"),
]
surveillance_practice_urls = [
    path("", views.surveillance_practice_list, name="list"),
    path("<slug:slug>/", views.surveillance_practice_detail, name="detail"),
]
