"""Writes of the rights desk: requests (`requests`), corrections (`corrections`) and
nominations (`nominations`). Each checks its permission from `clinics/roles.py`, runs in one
transaction and writes one audit event naming ids and fields, never personal values."""

from compliance.rights.services.corrections import correction_decide, correction_propose
from compliance.rights.services.jobs import rights_request_erasure_plan, rights_request_export_start
from compliance.rights.services.nominations import (
    nomination_evidence_record,
    nomination_record,
    nomination_revoke,
)
from compliance.rights.services.requests import (
    rights_request_assign,
    rights_request_attach_job,
    rights_request_create,
    rights_request_move,
    rights_request_send_code,
    rights_request_verify,
    rights_requests_remind,
)

__all__ = [
    "correction_decide",
    "correction_propose",
    "nomination_evidence_record",
    "nomination_record",
    "nomination_revoke",
    "rights_request_assign",
    "rights_request_attach_job",
    "rights_request_create",
    "rights_request_erasure_plan",
    "rights_request_export_start",
    "rights_request_move",
    "rights_request_send_code",
    "rights_request_verify",
    "rights_requests_remind",
]
