"""The installation's own billing of clinics: plans, clinic subscriptions through Razorpay
Subscriptions, the grace period and read-only mode, plan limits, and the installation's tax
invoice for each charge.

A clinic that never subscribed is unlimited and never read-only: an installation without plans
(the embedded default, the demo) works exactly as before.
"""
