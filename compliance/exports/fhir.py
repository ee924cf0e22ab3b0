"""The export's HL7 FHIR R4 Bundle (type "collection").

Each registered patient kind contributes resources: through its own `fhir` callable when the
app that registered it gave one (messaging: Communication), else through the mapping here for
the patients app's records (Patient, RelatedPerson, Encounter, Condition, Observation with LOINC
codes, Procedure, MedicationRequest, DocumentReference, Consent). Entries refer to each other by
`urn:uuid:` names derived from the clinic and the row, so the same export twice is the same
Bundle. `fhir.resources` (R4B, R4-compatible) validates it in the tests.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from compliance.personal_data import PATIENT, PersonalData, kind_rows, kinds_about

_NAMESPACE = uuid.UUID("0b8f6c2e-5a1d-4f0e-9d8b-7c6a5e4d3c2b")
LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
UCUM = "http://unitsofmeasure.org"

_SEX = {"F": "female", "M": "male", "O": "other"}


@functools.lru_cache(maxsize=8192)
def urn(clinic_id: int, resource_type: str, pk: Any) -> str:
    """The entry's name in the Bundle: stable for the same clinic and row (cached: every
    resource refers to the same Patient and many to the same Encounter)."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{clinic_id}/{resource_type}/{pk}')}"


def ref(clinic_id: int, resource_type: str, pk: Any) -> dict[str, str]:
    return {"reference": urn(clinic_id, resource_type, pk)}


def _instant(value) -> str | None:
    return value.isoformat() if value else None


def _patient(row) -> dict[str, Any]:
    telecom = [
        {"system": "phone", "value": str(p), "use": "mobile"}
        for p in (row.phone, row.whatsapp_phone)
        if p
    ]
    if row.email:
        telecom.append({"system": "email", "value": row.email})
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:vaidya:patient-number", "value": str(row.number)}],
        "name": [{"text": row.full_name}],
        "gender": _SEX.get(row.sex, "unknown"),
        "birthDate": row.date_of_birth.isoformat(),
        "telecom": telecom or None,
        "address": (
            [{"text": row.address, "city": row.city or None, "postalCode": row.pincode or None}]
            if row.address or row.city or row.pincode
            else None
        ),
    }
    if row.abha_number:
        resource["identifier"].append(
            {"system": "https://healthid.ndhm.gov.in", "value": row.abha_number}
        )
    return resource


def _guardian(row) -> dict[str, Any]:
    return {
        "resourceType": "RelatedPerson",
        "patient": ref(row.clinic_id, "Patient", row.patient_id),
        "relationship": [{"text": row.get_relation_display()}],
        "name": [{"text": row.name}] if row.name else None,
        "telecom": [{"system": "phone", "value": str(row.phone)}] if row.phone else None,
    }


def _visit(row) -> dict[str, Any]:
    notes = [
        t
        for t in (row.chief_complaints, row.history, row.examination, row.advice)
        if t and t.strip()
    ]
    return {
        "resourceType": "Encounter",
        "status": "finished" if row.signed_at else "in-progress",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "VR" if row.mode != "in_person" else "AMB",
        },
        "subject": ref(row.clinic_id, "Patient", row.patient_id),
        "period": {"start": _instant(row.created_at), "end": _instant(row.signed_at)},
        "reasonCode": [{"text": row.chief_complaints[:1000]}] if row.chief_complaints else None,
        "extension": None,
        "text": ({"status": "generated", "div": _div("\n".join(notes))} if notes else None),
    }


def _div(text: str) -> str:
    from django.utils.html import escape  # noqa: PLC0415

    return f'<div xmlns="http://www.w3.org/1999/xhtml">{escape(text)}</div>'


def _diagnosis(row) -> dict[str, Any]:
    code: dict[str, Any] = {"text": row.text}
    if row.icd10_code:
        code["coding"] = [{"system": ICD10, "code": row.icd10_code, "display": row.text}]
    return {
        "resourceType": "Condition",
        "subject": ref(row.clinic_id, "Patient", row.visit.patient_id),
        "encounter": ref(row.clinic_id, "Encounter", row.visit_id),
        "code": code,
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "provisional" if row.is_provisional else "confirmed",
                }
            ]
        },
        "recordedDate": _instant(row.visit.created_at),
    }


_VITALS = (
    ("bp_systolic", "8480-6", "Systolic blood pressure", "mm[Hg]"),
    ("bp_diastolic", "8462-4", "Diastolic blood pressure", "mm[Hg]"),
    ("pulse", "8867-4", "Heart rate", "/min"),
    ("temperature_c", "8310-5", "Body temperature", "Cel"),
    ("spo2", "59408-5", "Oxygen saturation by pulse oximetry", "%"),
    ("respiratory_rate", "9279-1", "Respiratory rate", "/min"),
    ("weight_kg", "29463-7", "Body weight", "kg"),
    ("height_cm", "8302-2", "Body height", "cm"),
)


def _vitals(row) -> list[dict[str, Any]]:
    out = []
    for field, code, display, unit in _VITALS:
        value = getattr(row, field)
        if value is None:
            continue
        out.append(
            {
                "resourceType": "Observation",
                "id": f"{row.pk}-{code}",
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": "vital-signs",
                            }
                        ]
                    }
                ],
                "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                "subject": ref(row.clinic_id, "Patient", row.visit.patient_id),
                "encounter": ref(row.clinic_id, "Encounter", row.visit_id),
                "effectiveDateTime": _instant(row.recorded_at),
                "valueQuantity": {
                    "value": float(value),
                    "unit": unit,
                    "system": UCUM,
                    "code": unit,
                },
            }
        )
    return out


def _procedure(row) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "status": "completed",
        "code": {"text": row.name},
        "subject": ref(row.clinic_id, "Patient", row.visit.patient_id),
        "encounter": ref(row.clinic_id, "Encounter", row.visit_id),
        "note": [{"text": row.notes}] if row.notes else None,
    }


def _medication(row) -> dict[str, Any]:
    rx = row.prescription
    dose = f"{row.dose_amount.normalize():f} {row.dose_unit}".strip()
    text = " ".join(
        t
        for t in (
            dose,
            row.frequency,
            f"for {row.duration_days} days" if row.duration_days else "",
            row.get_timing_display() if row.timing else "",
            row.instructions,
        )
        if t
    )
    return {
        "resourceType": "MedicationRequest",
        "status": "stopped" if row.stopped_at else ("active" if rx.signed_at else "draft"),
        "intent": "order",
        "medicationCodeableConcept": {
            "text": " ".join(t for t in (row.generic_name, row.strength) if t)
        },
        "subject": ref(row.clinic_id, "Patient", rx.patient_id),
        "encounter": ref(row.clinic_id, "Encounter", rx.visit_id),
        "authoredOn": _instant(rx.signed_at or rx.created_at),
        "dosageInstruction": [{"text": text, "patientInstruction": row.instructions or None}],
    }


def _document(row) -> dict[str, Any] | None:
    if not row.file:
        return None
    return {
        "resourceType": "DocumentReference",
        "status": "superseded" if row.superseded_at else "current",
        "type": {"text": row.get_kind_display()},
        "subject": ref(row.clinic_id, "Patient", row.patient_id),
        "date": _instant(row.ready_at or row.created_at),
        "description": row.title,
        "content": [
            {
                "attachment": {
                    "contentType": row.content_type or "application/octet-stream",
                    "url": document_path(row),
                    "size": row.size,
                    "title": row.title,
                }
            }
        ],
    }


def document_path(row) -> str:
    """Where a document's file sits inside the ZIP (no names: its id and extension)."""
    extension = row.file.name.rsplit(".", 1)[-1] if "." in row.file.name else "bin"
    return f"documents/{row.pk}.{extension}"


def _consent_event(row) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "status": "active" if row.action == "granted" else "inactive",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"text": row.get_purpose_display()}],
        "patient": ref(row.clinic_id, "Patient", row.patient_id),
        "dateTime": _instant(row.occurred_at),
        "policyRule": {"text": f"{row.get_action_display()} ({row.get_method_display()})"},
    }


def _signed_consent(row) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "status": "inactive" if row.withdrawn_at else "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "treatment",
                }
            ]
        },
        "category": [{"text": row.template_version.title}],
        "patient": ref(row.clinic_id, "Patient", row.patient_id),
        "dateTime": _instant(row.signed_at),
    }


# model label -> (the joins the mapping reads, the mapping: row -> resource(s) or None)
BUILTIN: dict[str, tuple[tuple[str, ...], Callable[[Any], Any]]] = {
    "patients.patient": ((), _patient),
    "patients.guardian": ((), _guardian),
    "patients.visit": ((), _visit),
    "patients.diagnosis": (("visit",), _diagnosis),
    "patients.vitals": (("visit",), _vitals),
    "patients.proceduredone": (("visit",), _procedure),
    "patients.prescriptionitem": (("prescription",), _medication),
    "patients.document": ((), _document),
    "compliance.consentevent": ((), _consent_event),
    "patients.signedconsent": (("template_version",), _signed_consent),
}


def _resources(kind: PersonalData, patient_id: int):
    rows = kind_rows(kind, patient_id)
    if kind.fhir is not None:
        mapper, joins = kind.fhir, ()
    elif kind.model.lower() in BUILTIN:
        joins, mapper = BUILTIN[kind.model.lower()]
    else:
        return
    if joins:
        rows = rows.select_related(*joins)
    for row in rows.order_by("pk").iterator(chunk_size=1000):
        made = mapper(row)
        for resource in made if isinstance(made, list) else [made]:
            if resource:
                if "id" not in resource:
                    resource["id"] = str(row.pk)
                yield row.clinic_id, resource


def _clean(value: Any) -> Any:
    """Drop the empty values FHIR refuses (null, "", [], {}), at every depth."""
    if type(value) is dict:
        out = {}
        for k, v in value.items():
            if type(v) is dict or type(v) is list:
                v = _clean(v)
            if v is not None and v != "" and v != [] and v != {}:
                out[k] = v
        return out
    if type(value) is list:
        items = []
        for v in value:
            if type(v) is dict or type(v) is list:
                v = _clean(v)
            if v is not None and v != "" and v != [] and v != {}:
                items.append(v)
        return items
    return value


def patient_bundle(patient_id: int) -> dict[str, Any]:
    """The patient's data as a FHIR R4 Bundle of type "collection", Patient first."""
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for kind in kinds_about(PATIENT):
        for clinic_id, resource in _resources(kind, patient_id):
            full_url = urn(clinic_id, resource["resourceType"], resource["id"])
            if full_url in seen:
                continue
            seen.add(full_url)
            entries.append({"fullUrl": full_url, "resource": _clean(resource)})
    entries.sort(key=lambda e: e["resource"]["resourceType"] != "Patient")
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": entries,
    }
