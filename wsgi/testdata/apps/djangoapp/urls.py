from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("form/", views.form, name="form"),
    path("upload/", views.upload, name="upload"),
    path("count/", views.count, name="count"),
    path("old/", views.old, name="old"),
    path("café/", views.cafe, name="cafe"),
    path("meta/", views.meta, name="meta"),
    path("boom/", views.boom, name="boom"),
]
