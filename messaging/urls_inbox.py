"""The inbox and the follow-up board (/c/<clinic_slug>/messages/)."""

urlpatterns = []
