"""Django admin for billing; each package registers its own models."""

from billing.razorpay import admin as razorpay_admin  # noqa: F401
from billing.subscriptions import admin as subscriptions_admin  # noqa: F401
