"""The certificate register (IMC 2002 reg. 1.3.3) as a CSV export."""

from __future__ import annotations

import csv
import io

from django.db import transaction

from clinics.audit import Actions, audit_record
from clinics.errors import NotAllowed
from clinics.models import Clinic, Membership, User
from clinics.roles import Perm
from patients.selectors.certificates import certificate_register_rows


@transaction.atomic
def certificate_register_export(
    *, clinic: Clinic, year: int, actor: User, actor_membership: Membership
) -> str:
    """The year's certificate register as CSV text (numbers in order), audited as an export.

    Cells that a spreadsheet would run as a formula are neutralised by the selector.
    """
    if (
        actor_membership is None
        or actor_membership.clinic_id != clinic.pk
        or not actor_membership.has_perm(Perm.CLINICAL_VIEW)
        or not actor_membership.has_perm(Perm.EXPORTS_RUN)
    ):
        raise NotAllowed("Your role cannot export the certificate register.")
    rows = certificate_register_rows(clinic=clinic, year=year)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.CERTIFICATE_REGISTER_EXPORTED,
        data={"year": year, "certificates": len(rows) - 1},
    )
    return buffer.getvalue()
