"""What a clinic sells (its catalogue) and how it stands for GST (its billing profile)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.gst import MAX_PAISE, MAX_RATE_BP
from clinics.models import Clinic, Membership
from clinics.scoping import ClinicScopedManager
from clinics.states import STATE_CHOICES
from clinics.validators import VisibleText

MAX_FOLLOW_UP_DAYS = 365
hsn_sac_validator = RegexValidator(r"^[0-9]{4,8}$", "An HSN or SAC code is 4 to 8 digits.")
vpa_validator = RegexValidator(
    r"^[A-Za-z0-9.\-_]{2,64}@[A-Za-z]{2,64}$", "A UPI ID looks like clinic@bank."
)


class ItemKind(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    PROCEDURE = "procedure", _("Procedure")
    PACKAGE = "package", _("Package")
    LAB_TEST = "lab_test", _("Lab test (sent out)")
    PHARMACY = "pharmacy", _("Pharmacy item")
    OTHER = "other", _("Other")


# Pharmacy items are goods (HSN, supplied where the clinic is); everything else is a service.
GOODS_KINDS = frozenset({ItemKind.PHARMACY})


class GstTreatment(models.TextChoices):
    EXEMPT = "exempt", _("Exempt health care")
    TAXABLE = "taxable", _("Taxable")


class CatalogueItem(models.Model):
    """One thing the clinic bills for. Prices are in paise, before GST.

    A consultation belongs to a doctor and has two prices: the first visit (`price_paise`) and a
    follow-up (`follow_up_price_paise`); a follow-up within `free_follow_up_days` of the
    patient's last visit with that doctor is billed at nothing, by itself.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    name = models.CharField(max_length=120, validators=[VisibleText("name")])
    code = models.CharField("HSN/SAC", max_length=8, blank=True, validators=[hsn_sac_validator])
    gst_treatment = models.CharField(
        max_length=10, choices=GstTreatment.choices, default=GstTreatment.EXEMPT
    )
    gst_rate_bp = models.PositiveIntegerField(
        "GST rate (basis points)",
        default=0,
        validators=[MaxValueValidator(MAX_RATE_BP)],
        help_text="Hundredths of a percent: 500 is 5%, 1800 is 18%.",
    )
    price_paise = models.BigIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(MAX_PAISE)]
    )
    unit = models.CharField(max_length=20, default="each", validators=[VisibleText("unit")])
    doctor = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    follow_up_price_paise = models.BigIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(MAX_PAISE)]
    )
    free_follow_up_days = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(MAX_FOLLOW_UP_DAYS)]
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    class Meta:
        ordering = ["kind", "name", "id"]
        indexes = [models.Index(fields=["clinic", "kind", "name"], name="catalogue_kind_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_goods(self) -> bool:
        return self.kind in GOODS_KINDS

    @property
    def is_taxable(self) -> bool:
        return self.gst_treatment == GstTreatment.TAXABLE


class BillingProfile(models.Model):
    """How the clinic stands for GST, and where patients pay it by UPI.

    A clinic without a profile (or not registered) issues plain bills with no tax.
    """

    clinic = models.OneToOneField(Clinic, on_delete=models.PROTECT, related_name="+")
    gst_registered = models.BooleanField("registered for GST", default=False)
    gstin = models.CharField("GSTIN", max_length=15, blank=True)
    legal_name = models.CharField(
        max_length=200, blank=True, validators=[VisibleText("legal name")]
    )
    state_code = models.CharField("state", max_length=2, choices=STATE_CHOICES, blank=True)
    upi_vpa = models.CharField("UPI ID", max_length=130, blank=True, validators=[vpa_validator])
    upi_payee_name = models.CharField(
        "UPI payee name", max_length=60, blank=True, validators=[VisibleText("payee name")]
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ClinicScopedManager()

    def __str__(self) -> str:
        return self.legal_name or f"Billing profile of clinic {self.clinic_id}"
