from django.urls import path

from cases import views

urlpatterns = [
    path("", views.case_list, name="list"),
    path("<slug:slug>/", views.case_detail, name="detail"),
]
