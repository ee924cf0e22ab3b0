"""Models arrive with their issue."""

# Razorpay and the installation's subscriptions keep their models in their packages; importing
# them here makes them this app's models.
from billing.razorpay.models import *  # noqa: F403
from billing.subscriptions.models import *  # noqa: F403
