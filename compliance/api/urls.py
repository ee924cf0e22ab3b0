"""Compliance API under /api/v1/."""

from django.urls import path

from compliance.api import retention

urlpatterns = [
    path(
        "retention-policy/",
        retention.RetentionPolicyView.as_view(),
        name="api-retention-policy",
    ),
]
