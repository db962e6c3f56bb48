from django.urls import path

from partnerships import views

urlpatterns = [
    path("", views.partnership_list, name="list"),
    path("<slug:slug>/", views.partnership_detail, name="detail"),
]
