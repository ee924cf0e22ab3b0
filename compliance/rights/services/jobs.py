"""The work a request asks for, started from the rights desk: the copy of a patient's data for
an access or portability request, the erasure's dry run for an erasure request. Each job is made
by its own package's service (`compliance.exports`, `compliance.erasure`), carries the request's
reference, and is attached to the request in the same transaction."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext

from clinics.actors import Actor
from clinics.errors import Conflict
from clinics.models import Membership
from compliance.erasure.models import Erasure
from compliance.erasure.services import erasure_plan
from compliance.exports.models import DataExport
from compliance.exports.services import export_request
from compliance.rights.models import RightsKind, RightsRequest
from compliance.rights.services.requests import rights_request_attach_job

COPY_KINDS = (RightsKind.ACCESS, RightsKind.PORTABILITY)


def _ready_for_work(request: RightsRequest, kinds: tuple[str, ...]) -> None:
    if request.kind not in kinds:
        raise Conflict(gettext("This request does not ask for that."))
    if not request.is_open:
        raise Conflict(gettext("This request is closed."))
    if request.patient_id is None:
        raise Conflict(gettext("Link the request to a patient first."))
    if not request.verification:
        raise Conflict(gettext("Check the requester's identity first."))


def rights_request_export_start(
    *, request: RightsRequest, actor: Actor, actor_membership: Membership | None
) -> DataExport:
    """Prepare the copy of the patient's data that an access or portability request asks for,
    and attach it to the request (the export checks `patient_data.export`)."""
    _ready_for_work(request, COPY_KINDS)
    with transaction.atomic():
        export = export_request(
            clinic=request.clinic,
            actor=actor,
            actor_membership=actor_membership,
            patient=request.patient,
            request_reference=request.reference,
        )
        rights_request_attach_job(request=request, kind="export", job_id=export.pk, actor=actor)
    return export


def rights_request_erasure_plan(
    *, request: RightsRequest, actor: Actor, actor_membership: Membership | None
) -> Erasure:
    """Write the dry run of the erasure an erasure request asks for, and attach it to the
    request; the owner confirms it on the erasure's page (owner only, as the erasure checks)."""
    _ready_for_work(request, (RightsKind.ERASURE,))
    with transaction.atomic():
        erasure = erasure_plan(
            clinic=request.clinic,
            patient=request.patient,
            actor=actor,
            actor_membership=actor_membership,
            request_reference=request.reference,
        )
        rights_request_attach_job(request=request, kind="erasure", job_id=erasure.pk, actor=actor)
    return erasure
