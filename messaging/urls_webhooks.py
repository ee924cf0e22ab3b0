"""Webhook endpoints Meta calls (no login; signed)."""

urlpatterns = []
