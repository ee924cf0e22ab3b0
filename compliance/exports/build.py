"""The export's ZIP: `summary.pdf`, `data.json`, `fhir-bundle.json` (patients) and
`documents/<id>.<ext>` (the patient's stored documents, named by id, never by title).

Read inside the clinic's scope, from the personal-data registry only (`content`, `fhir`).
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.utils import timezone

from clinics.formatting import format_date
from clinics.languages import in_english
from clinics.models import AuditEvent
from clinics.pdf import render_pdf
from compliance.exports.content import jsonable, person_json, summary_rows
from compliance.exports.fhir import document_path, patient_bundle
from compliance.exports.models import DataExport, ExportSubject
from compliance.personal_data import PATIENT, STAFF
from patients.selectors.prescriptions import clinic_letterhead

SIGN_IN_ACTIONS = ("clinics.staff.signed_in",)


def build_zip(export: DataExport) -> tuple[bytes, dict[str, int]]:
    """The ZIP's bytes and the rows per kind it holds."""
    if export.subject == ExportSubject.PATIENT:
        subject, person_id = PATIENT, export.patient_id
    else:
        subject, person_id = STAFF, export.user_id
    data = person_json(subject, person_id)
    if subject == STAFF:
        data["sign_ins"] = _sign_ins(export.user_id)
    counts = {name: part["count"] for name, part in data["kinds"].items()}
    data["exported_at"] = timezone.now().isoformat()
    data["clinic"] = export.clinic.name
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5) as zf:
        zf.writestr("summary.pdf", _summary_pdf(export, subject, counts))
        zf.writestr("data.json", json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        if subject == PATIENT:
            bundle = patient_bundle(person_id)
            zf.writestr(
                "fhir-bundle.json", json.dumps(bundle, ensure_ascii=False, separators=(",", ":"))
            )
            _add_documents(zf, person_id)
    return buffer.getvalue(), counts


def _sign_ins(user_id: int) -> list[dict[str, Any]]:
    rows = (
        AuditEvent.objects.filter(actor_id=user_id, action__in=SIGN_IN_ACTIONS)
        .order_by("created_at")
        .values("created_at", "ip", "user_agent", "via")
    )
    return [jsonable(r) for r in rows]


def _add_documents(zf: zipfile.ZipFile, patient_id: int) -> None:
    from patients.models import Document  # noqa: PLC0415

    for document in Document.objects.filter(patient_id=patient_id).exclude(file="").iterator():
        with document.file.storage.open(document.file.name, "rb") as fh:
            zf.writestr(document_path(document), fh.read())


def _summary_pdf(export: DataExport, subject: str, counts: dict[str, int]) -> bytes:
    if subject == PATIENT:
        who = f"Patient number {export.patient.number}"
    else:
        who = f"Staff member {export.user.full_name}"
    with in_english():
        return render_pdf(
            "pdf/data_summary.html",
            {
                "doc": {"clinic": clinic_letterhead(export.clinic)},
                "who": who,
                "prepared_on": format_date(timezone.localdate()),
                "rows": summary_rows(counts, subject),
                "is_patient": subject == PATIENT,
                "reference": export.request_reference or "",
            },
        )
