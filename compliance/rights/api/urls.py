"""Rights requests API, mounted at /api/v1/."""

from django.urls import path

from compliance.rights.api import views

urlpatterns = [
    path("rights-requests/", views.RightsRequestListView.as_view(), name="api-rights-request-list"),
    path(
        "rights-requests/<int:rights_request_id>/",
        views.RightsRequestDetailView.as_view(),
        name="api-rights-request-detail",
    ),
    path(
        "rights-requests/<int:rights_request_id>/status/",
        views.RightsRequestStatusView.as_view(),
        name="api-rights-request-status",
    ),
    path(
        "rights-requests/<int:rights_request_id>/corrections/",
        views.CorrectionListView.as_view(),
        name="api-rights-request-corrections",
    ),
    path(
        "rights-requests/<int:rights_request_id>/corrections/<int:correction_id>/decision/",
        views.CorrectionDecisionView.as_view(),
        name="api-rights-correction-decision",
    ),
]
