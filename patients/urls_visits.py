"""Visit (consultation) pages, mounted at /c/<clinic_slug>/visits/."""

from django.urls import path

from patients.views import visits as views

visit = "<int:visit_id>"

urlpatterns = [
    path("start/<int:patient_id>/", views.visit_start, name="visit-start"),
    path("icd10/", views.icd10_search, name="icd10-search"),
    path("frequency/", views.frequency_preview, name="frequency-preview"),
    path(f"{visit}/", views.visit_detail, name="visit-detail"),
    path(f"{visit}/save/", views.visit_save, name="visit-save"),
    path(f"{visit}/notes/", views.visit_notes, name="visit-notes"),
    path(f"{visit}/vitals/", views.visit_vitals, name="visit-vitals"),
    path(f"{visit}/diagnoses/add/", views.diagnosis_add, name="visit-diagnosis-add"),
    path(
        f"{visit}/diagnoses/<int:diagnosis_id>/remove/",
        views.diagnosis_remove,
        name="visit-diagnosis-remove",
    ),
    path(f"{visit}/procedures/add/", views.procedure_add, name="visit-procedure-add"),
    path(
        f"{visit}/procedures/<int:procedure_id>/remove/",
        views.procedure_remove,
        name="visit-procedure-remove",
    ),
    path(f"{visit}/drugs/", views.drug_search_results, name="drug-search"),
    path(f"{visit}/items/new/", views.item_form, name="visit-item-form"),
    path(f"{visit}/items/line/", views.item_line_add, name="visit-item-line"),
    path(f"{visit}/items/line/read/", views.item_line_preview, name="visit-item-line-preview"),
    path(f"{visit}/prescription/repeat/", views.repeat_last, name="visit-repeat-last"),
    path(f"{visit}/items/add/", views.item_add, name="visit-item-add"),
    path(f"{visit}/items/<int:item_id>/", views.item_update, name="visit-item-update"),
    path(f"{visit}/items/<int:item_id>/remove/", views.item_remove, name="visit-item-remove"),
    path(f"{visit}/items/<int:item_id>/stop/", views.item_stop, name="visit-item-stop"),
    path(
        f"{visit}/templates/<int:template_id>/apply/",
        views.template_apply,
        name="visit-template-apply",
    ),
    path(f"{visit}/templates/save/", views.template_save, name="visit-template-save"),
    path(f"{visit}/sign/", views.visit_sign, name="visit-sign"),
    path(f"{visit}/amend/", views.visit_amend, name="visit-amend"),
    path(f"{visit}/prescription/", views.prescription_print, name="visit-prescription-print"),
    path(f"{visit}/summary/", views.summary_print, name="visit-summary-print"),
]
