"""Billing API: the catalogue, bills (draft, issue, read, cancel, credit note), payments,
refunds, advances and a patient's ledger.

Every view finds the object named in its URL first (another clinic's answers 404), then
parses the input, then calls one service. POSTs take an Idempotency-Key.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from billing import services
from billing.api.serializers import (
    BillInputSerializer,
    BillListQuerySerializer,
    BillSerializer,
    BillUpdateInputSerializer,
    CatalogueItemInputSerializer,
    CatalogueItemSerializer,
    CreditNoteInputSerializer,
    LedgerSerializer,
    PaymentInputSerializer,
    PaymentLinkSerializer,
    PaymentSerializer,
    ReasonInputSerializer,
    RefundInputSerializer,
)
from billing.models import Bill, BillStatus
from billing.razorpay.bill_links import bill_payment_link_create, open_link
from billing.selectors.bills import bill_list, patient_ledger
from billing.selectors.catalogue import catalogue_list
from billing.services.catalogue import catalogue_item_save
from clinics.api.base import idempotent, parsed
from clinics.api.pagination import ClinicCursorPagination
from clinics.api.schema import error_responses
from clinics.api.views import ClinicAPIView
from clinics.errors import Conflict
from clinics.models import Membership
from clinics.roles import Perm
from patients.api.views import ARCHIVED_RULE, IDEMPOTENCY_KEY, PATIENT_ID
from patients.models import Guardian, Patient, Visit
from patients.selectors import patient_or_404

BILL_ID = OpenApiParameter(
    "bill_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The bill's id."
)
_STATE_RULE = {
    "conflict": "the bill's status does not allow this (a draft, cancelled, or already issued)",
}


def _context(request) -> dict:
    return {"tz": request.clinic.tzinfo}


def _bill_or_404(bill_id: int) -> Bill:
    bill = Bill.objects.select_related("patient").filter(pk=bill_id).first()
    if bill is None:
        raise exceptions.NotFound("No such bill at this clinic.")
    return bill


def _bill_body(request, bill: Bill, code: int = status.HTTP_200_OK) -> Response:
    bill = Bill.objects.prefetch_related("lines").get(pk=bill.pk)
    return Response(BillSerializer(bill, context=_context(request)).data, status=code)


def _refused(field: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [message]})


class _Pages(ClinicCursorPagination):
    ordering = "-id"


# --- catalogue ----------------------------------------------------------------------------------
class CatalogueView(ClinicAPIView):
    required_perms = {"GET": Perm.BILLING_VIEW, "POST": Perm.BILLING_CATALOGUE}

    @extend_schema(
        operation_id="catalogue_list",
        summary="The clinic's catalogue",
        description="Everything the clinic bills for, with its HSN/SAC, GST and price in paise.",
        responses={200: CatalogueItemSerializer(many=True), **error_responses()},
    )
    def get(self, request):
        return Response(CatalogueItemSerializer(catalogue_list(), many=True).data)

    @extend_schema(
        operation_id="catalogue_create",
        summary="Add a catalogue item",
        description="A consultation needs `doctor_id`; an exempt item has no GST rate.",
        parameters=[IDEMPOTENCY_KEY],
        request=CatalogueItemInputSerializer,
        responses={201: CatalogueItemSerializer, **error_responses(400, 415, 422)},
    )
    @idempotent
    def post(self, request):
        data = parsed(CatalogueItemInputSerializer, request.data)
        doctor = None
        if "doctor_id" in data:
            doctor = Membership.objects.filter(pk=data.pop("doctor_id"), is_active=True).first()
            if doctor is None:
                raise _refused("doctor_id", "No such doctor at this clinic.")
        item = catalogue_item_save(
            clinic=request.clinic, values=data, actor=request.actor, doctor=doctor
        )
        return Response(CatalogueItemSerializer(item).data, status=status.HTTP_201_CREATED)


# --- bills --------------------------------------------------------------------------------------
class BillListView(ClinicAPIView):
    required_perms = {"GET": Perm.BILLING_VIEW, "POST": Perm.BILLING_EDIT}
    pagination_class = _Pages

    @extend_schema(
        operation_id="bills_list",
        summary="List bills",
        description="Newest first, 20 a page; filter by `patient` and `status`.",
        parameters=[BillListQuerySerializer],
        responses={200: BillSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request):
        query = parsed(BillListQuerySerializer, request.query_params)
        rows = bill_list(patient_id=query.get("patient"), status=query.get("status"))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows.prefetch_related("lines"), request, view=self)
        data = BillSerializer(page, many=True, context=_context(request)).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="bills_create",
        summary="Draft a bill",
        description=(
            "A draft with its amounts computed (GST per line, in paise). Lines with `item_id` "
            "take what they leave out from the catalogue. Issue it to number and freeze it."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=BillInputSerializer,
        responses={
            201: BillSerializer,
            **error_responses(400, 415, 422, rules={"archived": ARCHIVED_RULE}),
        },
    )
    @idempotent
    def post(self, request):
        data = parsed(BillInputSerializer, request.data)
        patient = Patient.objects.filter(pk=data["patient_id"]).first()
        if patient is None:
            raise _refused("patient_id", "No such patient at this clinic.")
        guardian = visit = None
        if "payer_guardian_id" in data:
            guardian = Guardian.objects.filter(pk=data["payer_guardian_id"]).first()
            if guardian is None:
                raise _refused("payer_guardian_id", "No such guardian at this clinic.")
        if "visit_id" in data:
            visit = Visit.objects.filter(pk=data["visit_id"]).first()
            if visit is None:
                raise _refused("visit_id", "No such visit at this clinic.")
        bill = services.bill_draft_create(
            patient=patient,
            actor=request.actor,
            payer_guardian=guardian,
            visit=visit,
            lines=[services.LineDraft(**line) for line in data["lines"]],
            discount_paise=data.get("discount_paise", 0),
            discount_reason=data.get("discount_reason", ""),
        )
        return _bill_body(request, bill, status.HTTP_201_CREATED)


_DRAFT_ONLY = (
    "Only a draft: an issued or cancelled bill refuses every change with 409 (`conflict`); "
    "correct it with a credit note or cancel it."
)


def _draft_or_409(bill_id: int) -> Bill:
    """The draft named in the URL: 404 when the clinic has no such bill, 409 when it is issued
    or cancelled, before its input is read (a frozen bill is refused whatever is sent)."""
    bill = _bill_or_404(bill_id)
    if bill.status == BillStatus.CANCELLED:
        raise Conflict("This bill is cancelled and cannot be changed.")
    if bill.status != BillStatus.DRAFT:
        raise Conflict("This bill has been issued and cannot be changed. Issue a credit note.")
    return bill


def _payer(data: dict, bill: Bill) -> Guardian | None:
    """The payer a change names (`payer_guardian_id`, null for the patient), else the bill's."""
    if "payer_guardian_id" not in data:
        return bill.payer_guardian
    if data["payer_guardian_id"] is None:
        return None
    guardian = Guardian.objects.filter(pk=data["payer_guardian_id"]).first()
    if guardian is None:
        raise _refused("payer_guardian_id", "No such guardian at this clinic.")
    return guardian


class BillDetailView(ClinicAPIView):
    required_perms = {
        "GET": Perm.BILLING_VIEW,
        "PUT": Perm.BILLING_EDIT,
        "PATCH": Perm.BILLING_EDIT,
        "DELETE": Perm.BILLING_EDIT,
    }

    @extend_schema(
        operation_id="bills_retrieve",
        summary="One bill",
        parameters=[BILL_ID],
        responses={200: BillSerializer, **error_responses(404)},
    )
    def get(self, request, bill_id: int):
        return _bill_body(request, _bill_or_404(bill_id))

    def _change(self, request, bill_id: int, *, partial: bool) -> Response:
        bill = _draft_or_409(bill_id)
        serializer = BillUpdateInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lines = (
            [services.LineDraft(**line) for line in data["lines"]]
            if "lines" in data
            else services.bill_line_drafts(bill)
        )
        if not partial:  # PUT: what is left out is cleared
            data = {"payer_guardian_id": None, "discount_paise": 0, "discount_reason": "", **data}
        bill = services.bill_draft_update(
            bill=bill,
            lines=lines,
            actor=request.actor,
            payer_guardian=_payer(data, bill),
            discount_paise=data.get("discount_paise", bill.discount_paise),
            discount_reason=data.get("discount_reason", bill.discount_reason),
        )
        return _bill_body(request, bill)

    @extend_schema(
        operation_id="bills_update",
        summary="Replace a draft's contents",
        description=(
            "Its lines, payer and bill discount, computed again (GST per line, in paise); what "
            f"is left out is cleared. {_DRAFT_ONLY}"
        ),
        parameters=[BILL_ID],
        request=BillUpdateInputSerializer,
        responses={200: BillSerializer, **error_responses(400, 404, 409, 415)},
    )
    def put(self, request, bill_id: int):
        return self._change(request, bill_id, partial=False)

    @extend_schema(
        operation_id="bills_partial_update",
        summary="Change a draft",
        description=(
            "Send only what changes: `lines` replaces every line, `payer_guardian_id` the payer "
            f"(null: the patient pays), `discount_paise` and `discount_reason` the bill's "
            f"discount. The amounts are computed again. {_DRAFT_ONLY}"
        ),
        parameters=[BILL_ID],
        request=BillUpdateInputSerializer,
        responses={200: BillSerializer, **error_responses(400, 404, 409, 415)},
    )
    def patch(self, request, bill_id: int):
        return self._change(request, bill_id, partial=True)

    @extend_schema(
        operation_id="bills_destroy",
        summary="Delete a draft",
        description="Only a draft: an issued bill is cancelled or credited, never deleted.",
        parameters=[BILL_ID],
        responses={204: None, **error_responses(404, 409)},
    )
    def delete(self, request, bill_id: int):
        services.bill_draft_delete(bill=_draft_or_409(bill_id), actor=request.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BillIssueView(ClinicAPIView):
    required_perms = {"POST": Perm.BILLING_EDIT}

    @extend_schema(
        operation_id="bills_issue",
        summary="Issue a draft",
        description=(
            "Numbers the bill in its series and financial year, freezes it, and prepares its "
            "PDF in the background (`pdf_ready`). An advance the patient left pays what it can."
        ),
        parameters=[BILL_ID, IDEMPOTENCY_KEY],
        request=None,
        responses={200: BillSerializer, **error_responses(400, 404, 409, 422)},
    )
    @idempotent
    def post(self, request, bill_id: int):
        bill = services.bill_issue(bill=_bill_or_404(bill_id), actor=request.actor)
        return _bill_body(request, bill)


class BillCancelView(ClinicAPIView):
    required_perms = {"POST": Perm.BILLING_EDIT}

    @extend_schema(
        operation_id="bills_cancel",
        summary="Cancel an issued bill",
        description="Keeps its number and shows as cancelled; refused once money was received.",
        parameters=[BILL_ID, IDEMPOTENCY_KEY],
        request=ReasonInputSerializer,
        responses={200: BillSerializer, **error_responses(400, 404, 409, 415, 422)},
    )
    @idempotent
    def post(self, request, bill_id: int):
        bill = _bill_or_404(bill_id)
        data = parsed(ReasonInputSerializer, request.data)
        bill = services.bill_cancel(bill=bill, reason=data["reason"], actor=request.actor)
        return _bill_body(request, bill)


class BillSendView(ClinicAPIView):
    required_perms = {"POST": Perm.BILLING_EDIT}

    @extend_schema(
        operation_id="bills_send_whatsapp",
        summary="Send an issued bill to the patient on WhatsApp",
        description=(
            "Sends the clinic's document-ready message with a secure link to the bill's PDF "
            "(the patient types back a one-time code to open it). Refused for a draft or a "
            "cancelled bill, before the PDF is ready (`pdf_ready`), and when WhatsApp cannot "
            "reach the patient (no opt-in or number, no approved template, the plan's monthly "
            "messages used up); nothing is recorded then."
        ),
        parameters=[BILL_ID, IDEMPOTENCY_KEY],
        request=None,
        responses={
            200: BillSerializer,
            **error_responses(
                400,
                404,
                409,
                422,
                rules={
                    "cannot_send": "the patient has not agreed to WhatsApp or has no number",
                    "no_template": "no approved document-ready template outside the window",
                    "plan_limit": "the clinic's plan allows no more messages this month",
                },
            ),
        },
    )
    @idempotent
    def post(self, request, bill_id: int):
        bill = services.bill_document_send(bill=_bill_or_404(bill_id), actor=request.actor)
        return _bill_body(request, bill)


class CreditNoteView(ClinicAPIView):
    required_perms = {"POST": Perm.BILLING_EDIT}

    @extend_schema(
        operation_id="bills_credit_notes_create",
        summary="Issue a credit note against a bill",
        description="Credits part or all of some lines' taxable value; their tax follows.",
        parameters=[BILL_ID, IDEMPOTENCY_KEY],
        request=CreditNoteInputSerializer,
        responses={201: BillSerializer, **error_responses(400, 404, 409, 415, 422)},
    )
    @idempotent
    def post(self, request, bill_id: int):
        bill = _bill_or_404(bill_id)
        data = parsed(CreditNoteInputSerializer, request.data)
        note = services.credit_note_issue(
            bill=bill,
            lines=[services.CreditDraft(**x) for x in data["lines"]],
            reason=data["reason"],
            actor=request.actor,
        )
        return _bill_body(request, note, status.HTTP_201_CREATED)


class BillPaymentView(ClinicAPIView):
    required_perms = {"POST": Perm.BILLING_EDIT}

    @extend_schema(
        operation_id="bills_payments_create",
        summary="Record a payment on a bill",
        description="Cash, card, UPI or cheque, up to the amount due; it gets a receipt number.",
        parameters=[BILL_ID, IDEMPOTENCY_KEY],
        request=PaymentInputSerializer,
        responses={201: PaymentSerializer, **error_responses(400, 404, 409, 415, 422)},
    )
    @idempotent
    def post(self, request, bill_id: int):
        bill = _bill_or_404(bill_id)
        data = parsed(PaymentInputSerializer, request.data)
        payment = services.bill_payment_record(bill=bill, actor=request.actor, **data)
        body = PaymentSerializer(payment, context=_context(request)).data
        return Response(body, status=status.HTTP_201_CREATED)


class BillRefundView(ClinicAPIView):
    required_perms = {"POST": Perm.BILLING_EDIT}

    @extend_schema(
        operation_id="bills_refunds_create",
        summary="Refund money paid on a bill",
        description="With a reason; never more than was paid on the bill.",
        parameters=[BILL_ID, IDEMPOTENCY_KEY],
        request=RefundInputSerializer,
        responses={201: PaymentSerializer, **error_responses(400, 404, 415, 422)},
    )
    @idempotent
    def post(self, request, bill_id: int):
        bill = _bill_or_404(bill_id)
        data = parsed(RefundInputSerializer, request.data)
        refund = services.refund_record(
            patient=bill.patient, bill=bill, actor=request.actor, **data
        )
        body = PaymentSerializer(refund, context=_context(request)).data
        return Response(body, status=status.HTTP_201_CREATED)


class BillPaymentLinkView(ClinicAPIView):
    required_perms = {"POST": Perm.BILLING_EDIT}

    @extend_schema(
        operation_id="bills_payment_link_create",
        summary="Make or return the bill's Razorpay payment link",
        description=(
            "A payment link for what is due on an issued bill, with the bill number as "
            "Razorpay's reference: the open link already made for the same amount (200), or a "
            "new one (201). When the patient pays, an online payment with a receipt number is "
            "recorded on the bill."
        ),
        parameters=[BILL_ID, IDEMPOTENCY_KEY],
        request=None,
        responses={
            200: PaymentLinkSerializer,
            201: PaymentLinkSerializer,
            **error_responses(
                400,
                404,
                409,
                rules={
                    "razorpay_not_connected": "the clinic has not connected Razorpay",
                    "razorpay_failed": "Razorpay refused or did not answer",
                },
            ),
        },
    )
    @idempotent
    def post(self, request, bill_id: int):
        bill = _bill_or_404(bill_id)
        before = open_link(bill)
        link = bill_payment_link_create(bill=bill, actor=request.actor)
        made = before is None or before.pk != link.pk
        body = PaymentLinkSerializer(link, context={**_context(request), "bill_id": bill.pk}).data
        return Response(body, status=status.HTTP_201_CREATED if made else status.HTTP_200_OK)


# --- a patient's account ------------------------------------------------------------------------
class LedgerView(ClinicAPIView):
    required_perms = {"GET": Perm.BILLING_VIEW}

    @extend_schema(
        operation_id="patients_ledger_retrieve",
        summary="A patient's ledger",
        description="What the patient was billed, paid and owes, their advance, bills, payments.",
        parameters=[PATIENT_ID],
        responses={200: LedgerSerializer, **error_responses(404)},
    )
    def get(self, request, patient_id: int):
        patient = patient_or_404(patient_id)
        ledger = patient_ledger(patient_id=patient.pk)
        body = LedgerSerializer(
            {"patient_id": patient.pk, "ledger": ledger}, context=_context(request)
        ).data
        return Response(body)


class AdvanceView(ClinicAPIView):
    required_perms = {"POST": Perm.BILLING_EDIT}

    @extend_schema(
        operation_id="patients_advances_create",
        summary="Take an advance",
        description="A deposit on the patient's account: the next bills issued use it first.",
        parameters=[PATIENT_ID, IDEMPOTENCY_KEY],
        request=PaymentInputSerializer,
        responses={201: PaymentSerializer, **error_responses(400, 404, 415, 422)},
    )
    @idempotent
    def post(self, request, patient_id: int):
        patient = patient_or_404(patient_id)
        data = parsed(PaymentInputSerializer, request.data)
        payment = services.advance_record(patient=patient, actor=request.actor, **data)
        body = PaymentSerializer(payment, context=_context(request)).data
        return Response(body, status=status.HTTP_201_CREATED)
