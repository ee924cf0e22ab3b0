"""URLs outside any clinic: sign-in, account, clinic switcher, invitations."""

from django.urls import path

from clinics import views

urlpatterns = [
    path("", views.home, name="home"),
    path("clinics/", views.clinic_switch, name="clinic-switch"),
]
