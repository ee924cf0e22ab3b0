"""Bills on the web: the list, a bill's page (draft lines, issue, pay, UPI QR, cancel, credit,
print), a bill from a visit (the queue's "Bill" action) and a patient's ledger."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from billing import services
from billing.documents import bill_document
from billing.forms import (
    BillDiscountForm,
    CreditNoteForm,
    LineForm,
    PaymentForm,
    ReasonForm,
    RefundForm,
    to_paise,
)
from billing.gst import rupees
from billing.models import Bill, BillStatus, PdfStatus
from billing.selectors.bills import (
    bill_detail,
    bill_list,
    checkout_today,
    credited_by_line,
    online_state,
    patient_ledger,
)
from billing.selectors.catalogue import gst_profile_warning
from billing.services.documents import bill_pdf_bytes
from billing.views.common import bill_or_404, curl, page
from clinics.decorators import require_perm
from clinics.errors import DomainError, ValidationFailed
from clinics.roles import Perm
from clinics.storage import stored_file_response
from clinics.web import add_domain_error, paginate
from patients.models import Appointment, Visit
from patients.selectors import patient_or_404


def _errors(exc: DomainError) -> str:
    if isinstance(exc, ValidationFailed):
        return " ".join(m for messages_ in exc.errors.values() for m in messages_)
    return exc.message


@require_GET
@require_perm(Perm.BILLING_VIEW)
def bills(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    rows = bill_list(status=status if status in ("draft", "issued", "cancelled") else None)
    return page(
        request,
        "billing/list.html",
        {
            "page": paginate(request, rows),
            "status": status,
            "warning": gst_profile_warning(clinic_id=request.clinic.pk),
            "checkout": checkout_today(clinic=request.clinic),
            "can_edit": request.membership.has_perm(Perm.BILLING_EDIT),
        },
    )


def _detail_context(request: HttpRequest, bill: Bill, **forms) -> dict:
    creditable = bill.status == BillStatus.ISSUED and not bill.is_credit_note
    return {
        "bill": bill,
        "doc": bill_document(bill=bill),
        "lines": list(bill.lines.all()),
        "payments": list(bill.payments.all()),
        "line_form": forms.get("line_form") or LineForm(),
        "discount_form": forms.get("discount_form")
        or BillDiscountForm(
            initial={
                "discount": rupees(bill.discount_paise) if bill.discount_paise else None,
                "discount_reason": bill.discount_reason,
            }
        ),
        "payment_form": forms.get("payment_form")
        or PaymentForm(initial={"amount": rupees(bill.amount_due_paise), "mode": "upi"}),
        "refund_form": RefundForm(),
        "credit_form": forms.get("credit_form") or (_credit_form(bill) if creditable else None),
        "reason_form": ReasonForm(),
        "can_edit": request.membership.has_perm(Perm.BILLING_EDIT),
        "online": online_state(bill),
    }


@require_GET
@require_perm(Perm.BILLING_VIEW)
def bill_page(request: HttpRequest, bill_id: int) -> HttpResponse:
    try:
        bill = bill_detail(bill_id=bill_id)
    except Bill.DoesNotExist:
        raise Http404("No such bill at this clinic.") from None
    return page(request, "billing/detail.html", _detail_context(request, bill))


def _drafts(bill: Bill) -> list[services.LineDraft]:
    return services.bill_line_drafts(bill)


def _update(request, bill: Bill, lines, *, discount=None, reason=None) -> None:
    services.bill_draft_update(
        bill=bill,
        lines=lines,
        actor=request.user,
        payer_guardian=bill.payer_guardian,
        discount_paise=bill.discount_paise if discount is None else discount,
        discount_reason=bill.discount_reason if reason is None else reason,
    )


def _back(request: HttpRequest, bill: Bill) -> HttpResponse:
    return redirect(curl(request, "billing-bill", bill.pk))


def _refuse(request, bill, exc: DomainError) -> HttpResponse:
    messages.error(request, _errors(exc))
    return _back(request, bill)


@require_POST
@require_perm(Perm.BILLING_EDIT)
def line_add(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = bill_or_404(bill_id)
    form = LineForm(request.POST)
    if not form.is_valid():
        bill = bill_detail(bill_id=bill.pk)
        return page(
            request, "billing/detail.html", _detail_context(request, bill, line_form=form), 400
        )
    data = form.cleaned_data
    new = services.LineDraft(
        item_id=data["item"].pk if data["item"] else None,
        description=data["description"],
        quantity=data["quantity"],
        unit_price_paise=to_paise(data["price"]),
        discount_paise=to_paise(data["discount"]) or 0,
        discount_reason=data["discount_reason"],
    )
    try:
        _update(request, bill, [*_drafts(bill), new])
    except DomainError as exc:
        add_domain_error(form, exc)
        bill = bill_detail(bill_id=bill.pk)
        return page(
            request, "billing/detail.html", _detail_context(request, bill, line_form=form), 400
        )
    return _back(request, bill)


@require_POST
@require_perm(Perm.BILLING_EDIT)
def line_remove(request: HttpRequest, bill_id: int, line_id: int) -> HttpResponse:
    bill = bill_or_404(bill_id)
    ids = [line.pk for line in bill.lines.all()]
    if line_id not in ids:
        raise Http404("No such line on this bill.")
    kept = [d for d, pk in zip(_drafts(bill), ids, strict=True) if pk != line_id]
    try:
        _update(request, bill, kept)
    except DomainError as exc:
        return _refuse(request, bill, exc)
    return _back(request, bill)


@require_POST
@require_perm(Perm.BILLING_EDIT)
def discount_set(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = bill_or_404(bill_id)
    form = BillDiscountForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Give the discount in rupees."))
        return _back(request, bill)
    try:
        _update(
            request,
            bill,
            _drafts(bill),
            discount=to_paise(form.cleaned_data["discount"]) or 0,
            reason=form.cleaned_data["discount_reason"],
        )
    except DomainError as exc:
        return _refuse(request, bill, exc)
    return _back(request, bill)


@require_POST
@require_perm(Perm.BILLING_EDIT)
def bill_issue(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = bill_or_404(bill_id)
    try:
        bill = services.bill_issue(bill=bill, actor=request.user)
    except DomainError as exc:
        return _refuse(request, bill, exc)
    messages.success(request, gettext("Issued %(number)s.") % {"number": bill.number})
    return _back(request, bill)


@require_POST
@require_perm(Perm.BILLING_EDIT)
def bill_delete(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = bill_or_404(bill_id)
    try:
        services.bill_draft_delete(bill=bill, actor=request.user)
    except DomainError as exc:
        return _refuse(request, bill, exc)
    messages.success(request, gettext("The draft was deleted."))
    return redirect(curl(request, "billing-bills"))


@require_POST
@require_perm(Perm.BILLING_EDIT)
def bill_cancel(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = bill_or_404(bill_id)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed({"reason": [gettext("Give the reason for cancelling.")]})
        services.bill_cancel(bill=bill, reason=form.cleaned_data["reason"], actor=request.user)
    except DomainError as exc:
        return _refuse(request, bill, exc)
    messages.success(request, gettext("%(number)s is cancelled.") % {"number": bill.number})
    return _back(request, bill)


@require_POST
@require_perm(Perm.BILLING_EDIT)
def payment_add(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = bill_or_404(bill_id)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            payment = services.bill_payment_record(
                bill=bill,
                amount_paise=to_paise(form.cleaned_data["amount"]),
                mode=form.cleaned_data["mode"],
                reference=form.cleaned_data["reference"],
                actor=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                gettext("Received: receipt %(number)s.") % {"number": payment.receipt_number},
            )
            return _back(request, bill)
    bill = bill_detail(bill_id=bill.pk)
    return page(
        request, "billing/detail.html", _detail_context(request, bill, payment_form=form), 400
    )


@require_POST
@require_perm(Perm.BILLING_EDIT)
def refund_add(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = bill_or_404(bill_id)
    form = RefundForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed(
                {"amount": [gettext("Give the amount, how it is returned and why.")]}
            )
        refund = services.refund_record(
            patient=bill.patient,
            bill=bill,
            amount_paise=to_paise(form.cleaned_data["amount"]),
            mode=form.cleaned_data["mode"],
            reason=form.cleaned_data["reason"],
            reference=form.cleaned_data["reference"],
            actor=request.user,
        )
    except DomainError as exc:
        return _refuse(request, bill, exc)
    messages.success(
        request, gettext("Refunded: receipt %(number)s.") % {"number": refund.receipt_number}
    )
    return _back(request, bill)


def _credit_form(bill: Bill, data=None) -> CreditNoteForm:
    lines = list(bill.lines.all())
    credited = credited_by_line(bill=bill) if bill.status == BillStatus.ISSUED else {}
    return CreditNoteForm(data, lines=lines, credited=credited)


@require_POST
@require_perm(Perm.BILLING_EDIT)
def credit_note_add(request: HttpRequest, bill_id: int) -> HttpResponse:
    """Credit part of some lines (a quantity of a line's units, or an amount of its value) or
    all of them, with a reason: the same service as the API's credit notes."""
    bill = bill_or_404(bill_id)
    if bill.status != BillStatus.ISSUED or bill.is_credit_note:
        # The page shows no credit-note form then: say why above the bill, whatever was sent.
        messages.error(request, gettext("A credit note can only be issued against an issued bill."))
        return _back(request, bill)
    form = _credit_form(bill, request.POST)
    if form.is_valid():
        try:
            note = services.credit_note_issue(
                bill=bill,
                lines=form.cleaned_data["credits"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except ValidationFailed as exc:
            for key, problems in exc.errors.items():
                parts = key.split(".")
                index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                target = form.field_of.get(index) if index is not None else None
                if key == "reason":
                    target = "reason"
                for problem in problems:
                    form.add_error(target, problem)
        except DomainError as exc:  # the bill's state (cancelled, a credit note): not the form
            return _refuse(request, bill, exc)
        else:
            messages.success(
                request, gettext("Credit note %(number)s issued.") % {"number": note.number}
            )
            return _back(request, note)
    bill = bill_detail(bill_id=bill.pk)
    context = _detail_context(request, bill, credit_form=form)
    return page(request, "billing/detail.html", context, 400)


@require_GET
@require_perm(Perm.BILLING_VIEW)
def bill_pdf(request: HttpRequest, bill_id: int) -> HttpResponse:
    """The bill's frozen A4 PDF once stored (?layout=receipt: the 80 mm receipt, rendered from
    the frozen rows); a draft prints with DRAFT across it."""
    bill = bill_or_404(bill_id)
    layout = request.GET.get("layout", "a4")
    name = f"{(bill.number or f'draft-{bill.pk}').replace('/', '-')}.pdf"
    disposition = f'inline; filename="{name}"'
    if layout == "a4" and bill.pdf_status == PdfStatus.READY:
        return stored_file_response(
            bill.pdf_file.name, content_type="application/pdf", disposition=disposition
        )
    data = bill_pdf_bytes(bill=bill, layout="receipt" if layout == "receipt" else "a4")
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = disposition
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@require_perm(Perm.BILLING_EDIT)
def bill_for_appointment(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """The queue's "Bill" action: the visit's bill (pre-filled, made once) for this
    appointment, or a new bill by hand when no visit was opened."""
    appointment = Appointment.objects.filter(pk=appointment_id).select_related("patient").first()
    if appointment is None:
        raise Http404("No such appointment at this clinic.")
    visit = (
        Visit.objects.filter(appointment=appointment, superseded_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    try:
        if visit is not None:
            bill = services.bill_for_visit(visit=visit, actor=request.user)
        else:
            bill = services.bill_draft_create(
                patient=appointment.patient,
                actor=request.user,
                lines=[_consultation_line(appointment)],
            )
    except DomainError as exc:
        messages.error(request, _errors(exc))
        return redirect(curl(request, "billing-bills"))
    return _back(request, bill)


def _consultation_line(appointment: Appointment) -> services.LineDraft:
    from billing.models import CatalogueItem, ItemKind  # noqa: PLC0415

    fee = CatalogueItem.objects.filter(
        kind=ItemKind.CONSULTATION, doctor_id=appointment.doctor_id, is_active=True
    ).first()
    if fee is not None:
        return services.LineDraft(item_id=fee.pk)
    return services.LineDraft(description="Consultation", unit_price_paise=0)


@require_POST
@require_perm(Perm.BILLING_EDIT)
def bill_for_patient(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A bill by hand, started with its first line (from the ledger page)."""
    patient = patient_or_404(patient_id)
    form = LineForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed(
                {"item": [gettext("Choose an item or describe the line and its price.")]}
            )
        data = form.cleaned_data
        bill = services.bill_draft_create(
            patient=patient,
            actor=request.user,
            lines=[
                services.LineDraft(
                    item_id=data["item"].pk if data["item"] else None,
                    description=data["description"],
                    quantity=data["quantity"],
                    unit_price_paise=to_paise(data["price"]),
                    discount_paise=to_paise(data["discount"]) or 0,
                    discount_reason=data["discount_reason"],
                )
            ],
        )
    except DomainError as exc:
        messages.error(request, _errors(exc))
        return redirect(curl(request, "billing-ledger", patient_id))
    return _back(request, bill)


@require_GET
@require_perm(Perm.BILLING_VIEW)
def ledger(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = patient_or_404(patient_id)
    return page(
        request,
        "billing/ledger.html",
        {
            "patient": patient,
            "ledger": patient_ledger(patient_id=patient.pk),
            "can_edit": request.membership.has_perm(Perm.BILLING_EDIT),
            "line_form": LineForm(),
        },
    )
