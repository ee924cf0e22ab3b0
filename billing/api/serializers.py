"""Billing API serializers: strict inputs that only parse (the services decide), and outputs
built with a plain `to_representation`. Money is integer paise everywhere."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from billing.gst import MAX_PAISE, MAX_RATE_BP
from billing.models import (
    Bill,
    BillKind,
    BillStatus,
    CatalogueItem,
    DocType,
    GstTreatment,
    ItemKind,
    Payment,
    PaymentKind,
    PaymentMode,
)
from billing.models.catalogue import MAX_FOLLOW_UP_DAYS
from billing.razorpay.models import LinkStatus
from billing.services.bills import MAX_LINES
from billing.services.payments import COUNTER_MODE_CHOICES
from clinics.api.base import StrictInputSerializer
from clinics.api.fields import (
    REQUIRED_TEXT_PATTERN,
    TEXT_PATTERN,
    VISIBLE_RULE,
    declared,
    visible_text_pattern,
)
from clinics.api.pagination import PagedQuerySerializer
from patients.api.serializers_schedule import MAX_ID, id_field, iso

PAISE_HELP = "In paise (Rs 1 = 100 paise), a whole number."


def paise_field(help_text: str = PAISE_HELP, *, min_value: int = 0, **kwargs) -> serializers.Field:
    return serializers.IntegerField(
        min_value=min_value, max_value=MAX_PAISE, help_text=help_text, **kwargs
    )


def text_field(max_length: int, help_text: str, *, rule: str = "", **kwargs) -> serializers.Field:
    return declared(
        serializers.CharField(max_length=max_length, help_text=help_text, **kwargs),
        pattern=TEXT_PATTERN,
        rule=rule,
    )


def required_text(max_length: int, help_text: str) -> serializers.Field:
    """Text that must hold something besides spaces."""
    return declared(
        serializers.CharField(max_length=max_length, help_text=help_text),
        pattern=REQUIRED_TEXT_PATTERN,
    )


def visible_text(max_length: int, help_text: str, **kwargs) -> serializers.Field:
    return declared(
        serializers.CharField(max_length=max_length, help_text=help_text, **kwargs),
        pattern=lambda: visible_text_pattern(required=True),
        rule=VISIBLE_RULE,
    )


DISCOUNT_REASON_RULE = "Required (not blank) when the discount is more than 0."


def _whole(value: Any) -> bool:
    """A JSON integer (1.0 is one in JSON Schema), not text, a fraction or true/false."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


class JsonInputSerializer(StrictInputSerializer):
    """A JSON body whose numbers are JSON numbers: DRF would read "100" as 100 and "true" as
    true, which the schema (integer, boolean) does not allow; amounts in paise are whole."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            wrong = {}
            for name, field in self.fields.items():
                value = data.get(name)
                if value is None:
                    continue
                if isinstance(field, serializers.BooleanField) and not isinstance(value, bool):
                    wrong[name] = ["Send true or false."]
                elif isinstance(field, serializers.IntegerField) and not _whole(value):
                    wrong[name] = ["Send a whole number (a JSON number, not text or a fraction)."]
            if wrong:
                raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)


# --- input --------------------------------------------------------------------------------------
class CatalogueItemInputSerializer(JsonInputSerializer):
    kind = serializers.ChoiceField(choices=ItemKind.choices)
    name = visible_text(120, "What the bill calls it.")
    code = declared(
        serializers.CharField(max_length=8, required=False, allow_blank=True, help_text="HSN/SAC."),
        pattern=r"^([0-9]{4,8})?$",
        rule="Required for a taxable pharmacy item (its HSN code).",
    )
    gst_treatment = serializers.ChoiceField(choices=GstTreatment.choices, required=False)
    gst_rate_bp = declared(
        serializers.IntegerField(
            min_value=0,
            max_value=MAX_RATE_BP,
            required=False,
            help_text="GST rate in basis points (500 = 5%).",
        ),
        rule="0 for an exempt item.",
    )
    price_paise = paise_field("The price before GST, in paise.")
    unit = visible_text(20, "each, strip, test ...", required=False)
    doctor_id = id_field(
        "A consultation's doctor (required for a consultation).",
        refers_to="doctor",
        required=False,
    )
    follow_up_price_paise = declared(
        paise_field("A consultation's follow-up price.", required=False),
        rule="Only for a consultation.",
    )
    free_follow_up_days = declared(
        serializers.IntegerField(min_value=0, max_value=MAX_FOLLOW_UP_DAYS, required=False),
        rule="Only for a consultation (0 otherwise).",
    )


class LineInputSerializer(JsonInputSerializer):
    item_id = id_field(
        "A catalogue item: fills what the line leaves out.",
        refers_to="catalogue item",
        required=False,
    )
    description = text_field(
        200,
        "What the line is; the catalogue's name when left out with item_id.",
        required=False,
        allow_blank=True,
        rule="Required (not blank) without item_id.",
    )
    code = declared(
        serializers.CharField(max_length=8, required=False, allow_blank=True),
        pattern=r"^([0-9]{4,8})?$",
    )
    quantity = serializers.IntegerField(min_value=1, max_value=100000, required=False)
    unit_price_paise = declared(
        paise_field("Before GST; the catalogue's price when left out.", required=False),
        rule="Required without item_id.",
    )
    discount_paise = declared(
        paise_field("Off this line; at most its price times its quantity.", required=False),
        rule="At most unit_price_paise x quantity; needs discount_reason.",
    )
    discount_reason = text_field(
        200, "Why the discount.", required=False, allow_blank=True, rule=DISCOUNT_REASON_RULE
    )
    taxable = serializers.BooleanField(required=False)
    rate_bp = serializers.IntegerField(min_value=0, max_value=MAX_RATE_BP, required=False)
    is_goods = serializers.BooleanField(
        required=False, help_text="Goods (medicines) are supplied in the clinic's state."
    )


class BillInputSerializer(JsonInputSerializer):
    patient_id = id_field("The patient billed.", refers_to="patient")
    payer_guardian_id = id_field(
        "A guardian of the patient who pays.", refers_to="guardian", required=False
    )
    visit_id = id_field("The visit billed.", refers_to="visit", required=False)
    lines = declared(
        LineInputSerializer(many=True, max_length=MAX_LINES),
        rule="At least one line.",
    )
    discount_paise = declared(
        paise_field("Off the whole bill, shared among its lines before tax.", required=False),
        rule="At most the lines' total after their discounts; needs discount_reason.",
    )
    discount_reason = text_field(
        200, "Why the discount.", required=False, allow_blank=True, rule=DISCOUNT_REASON_RULE
    )


class BillUpdateInputSerializer(JsonInputSerializer):
    """A draft's new contents. PUT replaces them all (what is left out is cleared: no payer,
    no bill discount); PATCH changes only what is sent. The patient and visit stay."""

    payer_guardian_id = declared(
        id_field(
            "A guardian of the patient who pays; null: the patient pays.",
            required=False,
            allow_null=True,
        ),
        rule="Must be the id of a guardian of this bill's patient at the caller's clinic.",
    )
    lines = declared(
        LineInputSerializer(many=True, max_length=MAX_LINES),
        rule="At least one line. Every line is replaced by these.",
    )
    discount_paise = declared(
        paise_field("Off the whole bill, shared among its lines before tax.", required=False),
        rule="At most the lines' total after their discounts; needs discount_reason.",
    )
    discount_reason = text_field(
        200, "Why the discount.", required=False, allow_blank=True, rule=DISCOUNT_REASON_RULE
    )


class ReasonInputSerializer(JsonInputSerializer):
    reason = required_text(200, "Why.")


class CreditLineInputSerializer(JsonInputSerializer):
    line_id = id_field("A line of the bill.", refers_to="line of this bill")
    amount_paise = declared(
        paise_field("Taxable value credited; its tax follows.", min_value=1),
        rule="At most what is left of the line's taxable value.",
    )


class CreditNoteInputSerializer(JsonInputSerializer):
    reason = required_text(200, "Why the credit note.")
    lines = declared(
        CreditLineInputSerializer(many=True, max_length=MAX_LINES),
        rule="At least one line; in all, no more than is left of the bill to credit.",
    )


class PaymentInputSerializer(JsonInputSerializer):
    amount_paise = declared(
        paise_field(min_value=1), rule="At most the amount due (amount_due_paise)."
    )
    mode = serializers.ChoiceField(choices=COUNTER_MODE_CHOICES)
    reference = text_field(
        100,
        "UPI UTR, card slip or cheque number.",
        required=False,
        allow_blank=True,
        rule="Required (not blank) for a cheque.",
    )


class RefundInputSerializer(JsonInputSerializer):
    amount_paise = declared(
        paise_field(min_value=1),
        rule="At most what was paid on the bill (or what is left of the advance).",
    )
    mode = serializers.ChoiceField(choices=COUNTER_MODE_CHOICES)
    reason = required_text(200, "Why the money is returned.")
    reference = text_field(100, "A reference.", required=False, allow_blank=True)


class BillListQuerySerializer(PagedQuerySerializer):
    patient = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    status = serializers.ChoiceField(choices=BillStatus.choices, required=False)


# --- output -------------------------------------------------------------------------------------
class CatalogueItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ItemKind.choices)
    name = serializers.CharField()
    code = serializers.CharField()
    gst_treatment = serializers.ChoiceField(choices=GstTreatment.choices)
    gst_rate_bp = serializers.IntegerField()
    price_paise = serializers.IntegerField()
    unit = serializers.CharField()
    doctor_id = serializers.IntegerField(allow_null=True)
    follow_up_price_paise = serializers.IntegerField(allow_null=True)
    free_follow_up_days = serializers.IntegerField()
    is_active = serializers.BooleanField()

    def to_representation(self, item: CatalogueItem) -> dict[str, Any]:
        return {name: getattr(item, name) for name in self.fields}


class LineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    description = serializers.CharField()
    code = serializers.CharField()
    quantity = serializers.IntegerField()
    unit = serializers.CharField()
    unit_price_paise = serializers.IntegerField()
    discount_paise = serializers.IntegerField()
    discount_reason = serializers.CharField()
    bill_discount_paise = serializers.IntegerField()
    taxable_value_paise = serializers.IntegerField()
    tax_charged = serializers.BooleanField()
    rate_bp = serializers.IntegerField()
    inter_state = serializers.BooleanField()
    cgst_paise = serializers.IntegerField()
    sgst_paise = serializers.IntegerField()
    igst_paise = serializers.IntegerField()
    total_paise = serializers.IntegerField()

    def to_representation(self, line) -> dict[str, Any]:
        return {name: getattr(line, name) for name in self.fields}


class BillSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=BillKind.choices)
    status = serializers.ChoiceField(choices=BillStatus.choices)
    doc_type = serializers.ChoiceField(choices=DocType.choices)
    number = serializers.CharField(help_text="Empty for a draft.")
    issue_date = serializers.DateField(allow_null=True)
    patient_id = serializers.IntegerField()
    payer_guardian_id = serializers.IntegerField(allow_null=True)
    visit_id = serializers.IntegerField(allow_null=True)
    credit_for_id = serializers.IntegerField(allow_null=True)
    gstin = serializers.CharField()
    place_of_supply = serializers.CharField()
    discount_paise = serializers.IntegerField()
    discount_reason = serializers.CharField()
    gross_paise = serializers.IntegerField()
    taxable_value_paise = serializers.IntegerField()
    exempt_value_paise = serializers.IntegerField()
    cgst_paise = serializers.IntegerField()
    sgst_paise = serializers.IntegerField()
    igst_paise = serializers.IntegerField()
    total_paise = serializers.IntegerField()
    credited_paise = serializers.IntegerField()
    paid_paise = serializers.IntegerField()
    amount_due_paise = serializers.IntegerField()
    cancel_reason = serializers.CharField()
    pdf_ready = serializers.BooleanField()
    pdf_sha256 = serializers.CharField()
    lines = LineSerializer(many=True)
    created_at = serializers.DateTimeField()

    def to_representation(self, bill: Bill) -> dict[str, Any]:
        skip = {"lines", "pdf_ready", "issue_date", "created_at"}
        data = {name: getattr(bill, name) for name in self.fields if name not in skip}
        data["issue_date"] = bill.issue_date.isoformat() if bill.issue_date else None
        data["created_at"] = iso(bill.created_at, self.context["tz"])
        data["pdf_ready"] = bill.pdf_status == "ready"
        data["lines"] = [LineSerializer().to_representation(x) for x in bill.lines.all()]
        return data


class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    receipt_number = serializers.CharField()
    kind = serializers.ChoiceField(choices=PaymentKind.choices)
    mode = serializers.ChoiceField(choices=PaymentMode.choices)
    amount_paise = serializers.IntegerField()
    bill_id = serializers.IntegerField(allow_null=True)
    patient_id = serializers.IntegerField()
    reference = serializers.CharField()
    reason = serializers.CharField()
    received_at = serializers.DateTimeField()

    def to_representation(self, payment: Payment) -> dict[str, Any]:
        data = {name: getattr(payment, name) for name in self.fields if name != "received_at"}
        data["received_at"] = iso(payment.received_at, self.context["tz"])
        return data


class LedgerSerializer(serializers.Serializer):
    patient_id = serializers.IntegerField()
    billed_paise = serializers.IntegerField(help_text="Issued bills, cancelled ones left out.")
    credited_paise = serializers.IntegerField()
    paid_paise = serializers.IntegerField(help_text="Paid on bills, less refunds of them.")
    advance_paise = serializers.IntegerField(help_text="Deposits not yet used by a bill.")
    due_paise = serializers.IntegerField()
    bills = BillSerializer(many=True)
    payments = PaymentSerializer(many=True)

    def to_representation(self, instance: dict[str, Any]) -> dict[str, Any]:
        ledger = instance["ledger"]
        return {
            "patient_id": instance["patient_id"],
            "billed_paise": ledger.billed_paise,
            "credited_paise": ledger.credited_paise,
            "paid_paise": ledger.paid_paise,
            "advance_paise": ledger.advance_paise,
            "due_paise": ledger.due_paise,
            "bills": [
                BillSerializer(context=self.context).to_representation(b) for b in ledger.bills
            ],
            "payments": [
                PaymentSerializer(context=self.context).to_representation(p)
                for p in ledger.payments
            ],
        }


class PaymentLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    bill_id = serializers.IntegerField()
    reference_id = serializers.CharField(help_text="The bill number.")
    amount_paise = serializers.IntegerField(help_text="What was due when the link was made.")
    amount_paid_paise = serializers.IntegerField()
    status = serializers.ChoiceField(choices=LinkStatus.choices)
    short_url = serializers.CharField(help_text="The address the patient opens to pay.")
    expire_by = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def to_representation(self, link) -> dict[str, Any]:
        tz = self.context["tz"]
        return {
            "id": link.pk,
            "bill_id": self.context["bill_id"],
            "reference_id": link.reference_id,
            "amount_paise": link.amount_paise,
            "amount_paid_paise": link.amount_paid_paise,
            "status": link.status,
            "short_url": link.short_url,
            "expire_by": iso(link.expire_by, tz) if link.expire_by else None,
            "created_at": iso(link.created_at, tz),
        }
