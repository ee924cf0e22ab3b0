from django.urls import path

from bare_api.views import PatientDetail, PatientList

urlpatterns = [
    path("api/v1/patients/", PatientList.as_view()),
    path("api/v1/patients/<int:pk>/", PatientDetail.as_view()),
]
