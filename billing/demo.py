"""The billing demo for `manage.py seed_demo`: a registered clinic's GST profile and UPI ID,
each doctor's consultation fees, and the recent signed visits billed (most paid, one by UPI,
one left due), all through the services."""

from __future__ import annotations

from typing import Any

from billing.models import Bill
from billing.services import bill_for_visit, bill_issue, bill_payment_record
from billing.services.catalogue import billing_profile_save, catalogue_item_save
from clinics.registry import DemoStep
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import Visit, VisitStatus

DEMO_GSTIN = "29AAPFU0939F1ZR"  # a checksum-valid Karnataka GSTIN for the demo only
DEMO_VPA = "sanjeevani@okdemo"
DEMO_BILLS = 6


def seed_billing(*, demo: Any, **_: Any) -> None:
    clinic = demo.clinic
    owner = demo.member("owner")
    biller = demo.member("billing")
    with clinic_scope(clinic):
        billing_profile_save(
            clinic=clinic,
            actor=owner.user,
            gst_registered=True,
            gstin=DEMO_GSTIN,
            legal_name=f"{clinic.name} LLP",
            state_code=DEMO_GSTIN[:2],
            upi_vpa=DEMO_VPA,
            upi_payee_name=clinic.name[:60],
        )
        doctors = [m for m in demo.staff.values() if m.role in (Role.DOCTOR, Role.OWNER)]
        for doctor in doctors:
            catalogue_item_save(
                clinic=clinic,
                actor=owner.user,
                doctor=doctor,
                values={
                    "kind": "consultation",
                    "name": f"Consultation, Dr {doctor.user.full_name}",
                    "code": "999312",
                    "price_paise": 50000,
                    "follow_up_price_paise": 30000,
                    "free_follow_up_days": 7,
                },
            )
        visits = Visit.objects.filter(status=VisitStatus.SIGNED).order_by("-signed_at")[:DEMO_BILLS]
        issued = []
        for visit in visits:
            bill = bill_for_visit(visit=visit, actor=biller.user)
            if bill.status == "draft" and bill.total_paise > 0:
                issued.append(bill_issue(bill=bill, actor=biller.user))
        for index, bill in enumerate(issued[:-1]):
            bill = Bill.objects.get(pk=bill.pk)
            mode = "upi" if index == 0 else "cash"
            bill_payment_record(
                bill=bill,
                amount_paise=bill.amount_due_paise,
                mode=mode,
                reference="DEMO-UTR-0001" if mode == "upi" else "",
                actor=biller.user,
            )
    demo.summary.append(
        f"Billing: GST profile {DEMO_GSTIN}, UPI {DEMO_VPA}, {len(doctors)} consultation fees, "
        f"{len(issued)} bills issued ({max(len(issued) - 1, 0)} paid, one due)"
    )


BILLING = DemoStep(name="billing.bills", order=50, run=seed_billing)
