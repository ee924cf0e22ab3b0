"""Billing's web forms: they parse rupees into paise and leave every rule to the services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.gst import MAX_PAISE
from billing.models import BillLine, CatalogueItem, GstTreatment, ItemKind
from billing.services.credit_notes import CreditDraft
from billing.services.payments import COUNTER_MODE_CHOICES
from clinics.formatting import format_inr
from clinics.states import STATE_CHOICES

MAX_RUPEES = Decimal(MAX_PAISE) / 100


def rupees_field(label: str, *, required: bool = True, min_value: Decimal = Decimal(0)):
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=min_value,
        max_value=MAX_RUPEES,
        max_digits=14,
        decimal_places=2,
    )


def to_paise(value: Decimal | None) -> int | None:
    return None if value is None else int(value * 100)


class LineForm(forms.Form):
    item = forms.ModelChoiceField(
        queryset=CatalogueItem.objects.none(),
        required=False,
        empty_label=_("(by hand)"),
        label=_("Item"),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100000, initial=1)
    price = rupees_field(_("Price (Rs, before GST)"), required=False)
    discount = rupees_field(_("Discount (Rs)"), required=False)
    discount_reason = forms.CharField(label=_("Discount reason"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = CatalogueItem.objects.filter(is_active=True).order_by(
            "kind", "name"
        )


class BillDiscountForm(forms.Form):
    discount = rupees_field(_("Discount on the bill (Rs)"), required=False)
    discount_reason = forms.CharField(label=_("Discount reason"), max_length=200, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


def quantity_share(line: BillLine, quantity: int) -> int:
    """The taxable value of `quantity` of a line's units, in paise, rounded half up (all of
    them: the whole taxable value)."""
    return (line.taxable_value_paise * quantity * 2 + line.quantity) // (2 * line.quantity)


class CreditNoteForm(forms.Form):
    """What to credit on an issued bill: for each line a quantity of its units or an amount
    (its taxable value, before GST, whose tax follows), and the reason. Leave a line empty
    to credit nothing on it."""

    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, lines: list[BillLine], credited: dict[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        self.left = {x.pk: x.taxable_value_paise - credited.get(x.pk, 0) for x in lines}
        for line in lines:
            self.fields[f"qty_{line.pk}"] = forms.IntegerField(
                label=_("Quantity"), min_value=1, max_value=line.quantity, required=False
            )
            self.fields[f"amount_{line.pk}"] = rupees_field(
                _("or amount (Rs, before GST)"), required=False, min_value=Decimal("0.01")
            )

    def rows(self) -> list[dict]:
        """Each line with what is left to credit on it and its two fields, for the template."""
        return [
            {
                "line": line,
                "left_paise": self.left[line.pk],
                "qty": self[f"qty_{line.pk}"],
                "amount": self[f"amount_{line.pk}"],
            }
            for line in self.lines
        ]

    def clean(self):
        data = super().clean()
        credits: list[CreditDraft] = []
        self.field_of: dict[int, str] = {}  # a credit's index -> the field that asked for it
        for line in self.lines:
            qty, amount = data.get(f"qty_{line.pk}"), data.get(f"amount_{line.pk}")
            field = f"amount_{line.pk}" if amount is not None else f"qty_{line.pk}"
            if qty is not None and amount is not None:
                self.add_error(field, _("Give a quantity or an amount, not both."))
                continue
            if qty is None and amount is None:
                continue
            paise = to_paise(amount) if amount is not None else quantity_share(line, qty)
            if paise > self.left[line.pk]:
                self.add_error(
                    field,
                    _("At most %(left)s is left to credit on this line.")
                    % {"left": format_inr(Decimal(self.left[line.pk]) / 100)},
                )
                continue
            if paise <= 0:
                self.add_error(field, _("That is less than one paisa of this line."))
                continue
            self.field_of[len(credits)] = field
            credits.append(CreditDraft(line_id=line.pk, amount_paise=paise))
        if not credits and not self.errors:
            raise forms.ValidationError(
                _("Choose what to credit: a quantity or an amount on at least one line.")
            )
        data["credits"] = credits
        return data


class PaymentForm(forms.Form):
    amount = rupees_field(_("Amount (Rs)"), min_value=Decimal("0.01"))
    mode = forms.ChoiceField(label=_("Mode"), choices=COUNTER_MODE_CHOICES)
    reference = forms.CharField(
        label=_("Reference"), max_length=100, required=False, help_text=_("UPI UTR, cheque no.")
    )


class RefundForm(PaymentForm):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class CatalogueItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ItemKind.choices)
    name = forms.CharField(label=_("Name"), max_length=120)
    code = forms.CharField(label=_("HSN/SAC"), max_length=8, required=False)
    gst_treatment = forms.ChoiceField(label=_("Gst treatment"), choices=GstTreatment.choices)
    gst_rate = forms.DecimalField(
        label=_("GST rate (%)"), min_value=0, max_value=40, decimal_places=2, required=False
    )
    price = rupees_field(_("Price (Rs, before GST)"))
    unit = forms.CharField(label=_("Unit"), max_length=20, initial="each")
    follow_up_price = rupees_field(_("Follow-up price (Rs)"), required=False)
    free_follow_up_days = forms.IntegerField(
        label=_("Free follow up days"), min_value=0, max_value=365, required=False
    )


class BillingProfileForm(forms.Form):
    gst_registered = forms.BooleanField(label=_("Registered for GST"), required=False)
    gstin = forms.CharField(label=_("GSTIN"), max_length=15, required=False)
    legal_name = forms.CharField(label=_("Legal name"), max_length=200, required=False)
    state_code = forms.ChoiceField(
        label=_("State"), choices=[("", "—"), *STATE_CHOICES], required=False
    )
    upi_vpa = forms.CharField(label=_("UPI ID"), max_length=130, required=False)
    upi_payee_name = forms.CharField(label=_("UPI payee name"), max_length=60, required=False)


class DayForm(forms.Form):
    day = forms.DateField(
        label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_day(self) -> date | None:
        value = self.cleaned_data.get("day")
        if value is not None and not (date(2000, 1, 1) <= value <= date(2100, 1, 1)):
            raise forms.ValidationError(_("Choose a date."))
        return value


class DayCloseForm(forms.Form):
    counted = rupees_field(_("Cash counted (Rs)"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class MonthForm(forms.Form):
    month = forms.RegexField(
        label=_("Month"), regex=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", required=False
    )
