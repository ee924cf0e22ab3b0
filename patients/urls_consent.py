"""consent pages (being built)."""

urlpatterns: list = []
