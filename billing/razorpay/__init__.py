"""Razorpay for a clinic's own payments: its keys, payment links, webhooks, reconciliation.

- `models.py`: `RazorpayAccount` (the clinic's keys, encrypted at rest), `PaymentLink`,
  `RazorpayWebhookDelivery` (every verified delivery, unique per clinic and event id).
- `client.py`: the official SDK, pointed at `RAZORPAY_API_BASE_URL` (the local simulator in
  development and tests).
- `links.py`: creating payment links, the callback page's signature check, moving a link's
  status forward, and telling whoever made the link that it was paid (`handlers.py`).
- `webhooks.py`: the endpoint `/webhooks/razorpay/<key>/`; `processing.py` the task's work.
- `reconcile.py`: the schedule that fetches links still open and repairs a lost webhook.

The installation's own billing of clinics (plans, subscriptions, read-only mode) is in
`billing/subscriptions/`.
"""
