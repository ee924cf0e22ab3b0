"""Writes for prescriptions: the clinic's drug list, items on a visit's prescription, and
doctors' prescription templates.

Every item goes through one check (`_checked_item`): the generic name in capitals, the
frequency parsed by `patients.dosing` (its structured schedule stored for reminders), the
quantity to dispense counted where it can be, and the rules a prescription must follow
(durations, no drug twice, no Schedule X or narcotic drug by teleconsultation). A signed visit
is frozen: only stopping a medicine is still allowed, because stopping does not edit the
record.

Each service runs in a transaction and writes one audit event. The audit data holds ids, codes
and field names, never drug names or free text.
"""

from patients.services.prescriptions._common import (
    DRUG_FIELDS,
    ITEM_FIELDS,
    MAX_DURATION_DAYS,
    MAX_TEMPLATE_ITEMS,
    SIGNED_MESSAGE,
    STOP_REASONS,
    TELECONSULTATION_MESSAGE,
    TEMPLATE_ITEM_FIELDS,
    generic_name_normalised,
    strength_normalised,
)
from patients.services.prescriptions.drugs import (
    drug_add,
    drug_deactivate,
    drug_reactivate,
    drug_set_favourite,
    drug_update,
)
from patients.services.prescriptions.formulary import formulary_import, formulary_starter_load
from patients.services.prescriptions.items import (
    prescription_for_visit,
    prescription_item_add,
    prescription_item_remove,
    prescription_item_stop,
    prescription_item_update,
)
from patients.services.prescriptions.repeat import prescription_repeat_last
from patients.services.prescriptions.safety import PrescribingCheckFailed, ReviewNeeded
from patients.services.prescriptions.templates import (
    prescription_template_apply,
    prescription_template_delete,
    prescription_template_save,
)

__all__ = [
    "DRUG_FIELDS",
    "ITEM_FIELDS",
    "MAX_DURATION_DAYS",
    "MAX_TEMPLATE_ITEMS",
    "SIGNED_MESSAGE",
    "STOP_REASONS",
    "TELECONSULTATION_MESSAGE",
    "TEMPLATE_ITEM_FIELDS",
    "PrescribingCheckFailed",
    "ReviewNeeded",
    "drug_add",
    "drug_deactivate",
    "drug_reactivate",
    "drug_set_favourite",
    "drug_update",
    "formulary_import",
    "formulary_starter_load",
    "generic_name_normalised",
    "prescription_for_visit",
    "prescription_item_add",
    "prescription_item_remove",
    "prescription_item_stop",
    "prescription_item_update",
    "prescription_repeat_last",
    "prescription_template_apply",
    "prescription_template_delete",
    "prescription_template_save",
    "strength_normalised",
]
