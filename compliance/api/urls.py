"""Compliance API under /api/v1/."""

from django.urls import path

from compliance.api import retention, views

urlpatterns = [
    path(
        "retention-policy/",
        retention.RetentionPolicyView.as_view(),
        name="api-retention-policy",
    ),
    path("exports/", views.ExportListView.as_view(), name="api-export-list"),
    path("exports/<int:export_id>/", views.ExportDetailView.as_view(), name="api-export-detail"),
    path(
        "exports/download/<str:token>/",
        views.ExportDownloadView.as_view(),
        name="api-export-download",
    ),
]
