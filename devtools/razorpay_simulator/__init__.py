"""A local Razorpay for development and tests (no Razorpay account, no network).

`manage.py razorpay_simulator` runs it; tests use `running_simulator(...)`. It speaks the REST
shapes in shared/spec/razorpay.md for payment links, plans and subscriptions (HTTP Basic with
the keys it was given), sends webhooks signed with each account's webhook secret, and can be
told to repeat them, hold them and release them out of order, lose them, or fail API calls.
Its pages let the demo patient "pay" a link and a clinic owner authorise a subscription.
Standard library only.
"""

from devtools.razorpay_simulator.server import Simulator, running_simulator
from devtools.razorpay_simulator.state import Account
from devtools.razorpay_simulator.webhooks import Delivery

__all__ = ["Account", "Delivery", "Simulator", "running_simulator"]
