"""Visit (consultation) pages: starting a visit, writing it section by section, signing and
amending it, and the print-ready prescription and visit summary.

Every section of a draft (notes, vitals, diagnoses, procedures, medicines) is its own small
form that htmx saves in place: the answer is the section again, with the new data or with the
service's messages next to the fields. Without htmx the same forms post normally and the page
reloads. Views parse input, check permission and call one service (writes) or selectors
(reads); the services check the rules again.

Who may do what: clinical.view opens a visit (front desk and billing never read clinical
notes); clinical.draft records vitals and drafts the notes (assistants, for the doctor to
sign); clinical.edit and prescriptions.edit write notes, diagnoses and medicines, and only on the
doctor's own visit; a colleague can read it.
"""

from patients.views.visits.clinical import (
    diagnosis_add,
    diagnosis_remove,
    icd10_search,
    procedure_add,
    procedure_remove,
    visit_vitals,
)
from patients.views.visits.editor import visit_detail, visit_notes, visit_start
from patients.views.visits.prescriptions import (
    drug_search_results,
    frequency_preview,
    item_add,
    item_form,
    item_remove,
    item_stop,
    item_update,
    repeat_last,
    template_apply,
    template_save,
)
from patients.views.visits.printing import prescription_print, summary_print
from patients.views.visits.rx_line import item_line_add, item_line_preview
from patients.views.visits.saving import visit_save
from patients.views.visits.signing import visit_amend, visit_sign

__all__ = [
    "diagnosis_add",
    "diagnosis_remove",
    "drug_search_results",
    "frequency_preview",
    "icd10_search",
    "item_add",
    "item_form",
    "item_line_add",
    "item_line_preview",
    "item_remove",
    "item_stop",
    "item_update",
    "prescription_print",
    "procedure_add",
    "procedure_remove",
    "repeat_last",
    "summary_print",
    "template_apply",
    "template_save",
    "visit_amend",
    "visit_detail",
    "visit_notes",
    "visit_save",
    "visit_sign",
    "visit_start",
    "visit_vitals",
]
