"""The clinic's day, mounted at /c/<clinic_slug>/schedule/."""

from django.urls import path

urlpatterns: list = []
