"""URLs inside one clinic: /c/<clinic_slug>/..."""

from django.urls import path

from clinics import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
