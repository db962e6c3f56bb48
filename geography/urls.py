from django.urls import path

from geography import views

map_urls = [path("", views.world_map, name="map")]
