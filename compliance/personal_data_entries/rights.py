"""Exports and erasures in the personal-data registry."""

from __future__ import annotations

from compliance.personal_data import (
    DELETE,
    EXPORT,
    NOBODY,
    PATIENT,
    STAFF,
    PersonalData,
)


def _export_files(row):
    return [row.file]


ENTRIES = (
    PersonalData(
        name="compliance.data_export",
        order=440,
        model="compliance.DataExport",
        subject=PATIENT,
        description="Copies of the patient's data prepared for them (ZIP files)",
        purpose="answering the patient's requests for access and portability",
        fields=("file", "counts", "request_reference"),
        retention=EXPORT,
        erasure=DELETE,
        patient_path="patient",
        age_field="created_at",
        files=_export_files,
    ),
    PersonalData(
        name="compliance.staff_data_export",
        order=540,
        model="compliance.DataExport",
        subject=STAFF,
        description="Copies of a staff member's own data prepared for them (ZIP files)",
        purpose="answering the staff member's request for their data",
        fields=("file", "counts"),
        retention=EXPORT,
        erasure=DELETE,
        staff_path="user",
        age_field="created_at",
        files=_export_files,
    ),
    PersonalData(
        name="compliance.erasure",
        order=980,
        model="compliance.Erasure",
        subject=NOBODY,
        description=(
            "The evidence of an erasure: the patient's number, counts per kind, legal bases, "
            "dates and the certificate, which holds nothing else about the patient; kept by "
            "the clinic after the patient's data went."
        ),
    ),
    PersonalData(
        name="compliance.staff_erasure",
        order=981,
        model="compliance.StaffErasure",
        subject=NOBODY,
        description="When a departed staff member's data was erased, with counts per kind.",
    ),
)
