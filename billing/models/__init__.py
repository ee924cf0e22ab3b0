"""Billing's tables: the catalogue and GST profile, bills and their lines, payments."""

from billing.models.bills import (  # noqa: F401
    FROZEN_MESSAGE,
    Bill,
    BillFrozen,
    BillKind,
    BillLine,
    BillStatus,
    DocType,
    NumberSeries,
    PdfStatus,
)
from billing.models.catalogue import (  # noqa: F401
    BillingProfile,
    CatalogueItem,
    GstTreatment,
    ItemKind,
)
from billing.models.payments import (  # noqa: F401
    DayClosing,
    Payment,
    PaymentKind,
    PaymentMode,
)

# Razorpay and the installation's subscriptions keep their models in their packages; importing
# them here makes them this app's models.
from billing.razorpay.models import *  # noqa: F403
from billing.subscriptions.models import *  # noqa: F403
