"""certificates pages (being built)."""

urlpatterns: list = []
