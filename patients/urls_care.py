"""The clinic's drug list and doctors' prescription templates, at /c/<clinic_slug>/care/."""

from django.urls import path

from patients.views import care as views

urlpatterns = [
    path("drugs/", views.drug_list, name="drug-list"),
    path("drugs/new/", views.drug_add, name="drug-add"),
    path("drugs/import/", views.formulary_import, name="formulary-import"),
    path("drugs/<int:drug_id>/edit/", views.drug_edit, name="drug-edit"),
    path("drugs/<int:drug_id>/favourite/", views.drug_favourite, name="drug-favourite"),
    path("drugs/<int:drug_id>/deactivate/", views.drug_deactivate, name="drug-deactivate"),
    path("drugs/<int:drug_id>/reactivate/", views.drug_reactivate, name="drug-reactivate"),
    path("templates/", views.template_list, name="template-list"),
    path("templates/<int:template_id>/delete/", views.template_delete, name="template-delete"),
]
