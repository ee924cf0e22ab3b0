"""The certificate of erasure: a PDF the clinic keeps as evidence that a request was carried
out. It names the reference, the patient's number, what was erased (counts per kind) and what
is kept with its legal basis and date; never a name, phone or anything else about the patient.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from clinics.formatting import format_date
from clinics.languages import in_english
from clinics.models import Clinic
from clinics.pdf import render_pdf
from compliance.erasure.models import Erasure
from compliance.personal_data import personal_data
from patients.selectors.prescriptions import clinic_letterhead


def certificate_pdf(erasure: Erasure) -> bytes:
    clinic = Clinic.objects.get(pk=erasure.clinic_id)
    descriptions = {k.name: k.description for k in personal_data.entries()}
    erased = [
        {"description": descriptions.get(name, name), "count": count}
        for name, count in sorted(erasure.result.get("erased", {}).items())
    ]
    kept = [
        {
            "description": e["description"],
            "count": e["count"],
            "basis": e.get("basis", ""),
            "until": format_date(date.fromisoformat(e["erasable_on"])) if e["erasable_on"] else "",
        }
        for e in erasure.plan
        if e["action"] == "keep"
    ]
    with in_english():
        return render_pdf(
            "pdf/erasure_certificate.html",
            {
                "doc": {"clinic": clinic_letterhead(clinic)},
                "reference": erasure.reference,
                "patient_number": erasure.patient_number,
                "erased_on": format_date(timezone.localtime(erasure.confirmed_at)),
                "erased": erased,
                "kept": kept,
                "steps": erasure.result.get("steps", {}),
            },
        )
